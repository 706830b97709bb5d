/**
 * The JSON Schema of an inbound Segment message (Segment Spec, SEGMENT-FACTS §2) and its
 * one compiled validator. Compiled once at module load; ajv picks the branch from `type`
 * (discriminator), so a track call is only checked against the track rules.
 *
 * Deliberately lenient where real deliveries vary (SEGMENT-FACTS §2):
 * - `userId` / `anonymousId` may be `null` or `""` as long as the other one is a
 *   non-empty string (analytics.js sends `"userId": null` for anonymous visitors);
 * - `version` may be a number or a string (`2` and `"1.1"` both occur);
 * - `groupId` may be a number (the parser turns it into a string);
 * - page/screen `name` and `category` may be `null`;
 * - unknown extra fields are allowed (Segment adds fields over time).
 * Timestamps must be RFC 3339 date-times with a time zone (ajv-formats `date-time`), which
 * is what every Segment library and Segment's servers emit.
 */
import type { ErrorObject } from 'ajv';
import { createAjv } from './ajv.ts';


export const SEGMENT_CALL_TYPES = ['identify', 'track', 'page', 'screen', 'group', 'alias', 'delete'] as const;
export type SegmentCallType = (typeof SEGMENT_CALL_TYPES)[number];

/** Segment's limit for one message (SEGMENT-FACTS §3): 32 KB of UTF-8 JSON. */
export const MAX_MESSAGE_BYTES = 32 * 1024;
/** Segment's documented maximum length of a messageId. */
export const MAX_MESSAGE_ID_LENGTH = 100;

/** One validation problem: a JSON pointer to the field (`''` = the whole message) and why. */
/** A type alias (not an interface) so it is assignable to ErrorDetail's index signature. */
export type MessageError = {
  path: string;
  message: string;
};

const isoDateTime = { type: 'string', format: 'date-time' };
const jsonObject = { type: 'object' };
const nonEmptyString = { type: 'string', minLength: 1 };
const optionalId = { type: ['string', 'null'] };
const optionalLabel = { type: ['string', 'null'] };

const commonProperties = {
  messageId: { type: 'string', minLength: 1, maxLength: MAX_MESSAGE_ID_LENGTH },
  userId: optionalId,
  anonymousId: optionalId,
  timestamp: isoDateTime,
  originalTimestamp: isoDateTime,
  receivedAt: isoDateTime,
  sentAt: isoDateTime,
  context: jsonObject,
  integrations: jsonObject,
  version: { type: ['number', 'string'] },
  channel: { type: 'string' },
  projectId: { type: 'string' },
};

/** identify/track/page/screen/group: a non-empty userId or a non-empty anonymousId. */
const identityRule = {
  anyOf: [
    { type: 'object', required: ['userId'], properties: { userId: nonEmptyString } },
    { type: 'object', required: ['anonymousId'], properties: { anonymousId: nonEmptyString } },
  ],
};

function branch(options: { type: SegmentCallType; properties?: object; required?: string[]; identity: boolean }): object {
  return {
    type: 'object',
    properties: { ...commonProperties, type: { const: options.type }, ...options.properties },
    required: ['type', 'messageId', ...(options.required ?? [])],
    ...(options.identity ? identityRule : {}),
  };
}

export const segmentMessageSchema = {
  type: 'object',
  discriminator: { propertyName: 'type' },
  oneOf: [
    branch({ type: 'identify', properties: { traits: jsonObject }, identity: true }),
    branch({ type: 'track', properties: { event: nonEmptyString, properties: jsonObject }, required: ['event'], identity: true }),
    branch({ type: 'page', properties: { name: optionalLabel, category: optionalLabel, properties: jsonObject }, identity: true }),
    branch({ type: 'screen', properties: { name: optionalLabel, category: optionalLabel, properties: jsonObject }, identity: true }),
    branch({
      type: 'group',
      properties: { groupId: { type: ['string', 'number'], minLength: 1 }, traits: jsonObject },
      required: ['groupId'],
      identity: true,
    }),
    branch({ type: 'alias', properties: { userId: nonEmptyString, previousId: nonEmptyString }, required: ['userId', 'previousId'], identity: false }),
    branch({ type: 'delete', properties: { userId: nonEmptyString }, required: ['userId'], identity: false }),
  ],
};

const ajv = createAjv({ allErrors: true, discriminator: true, strict: true, allowUnionTypes: true, formatNames: ['date-time'] });
const validate = ajv.compile(segmentMessageSchema);

/**
 * Checks the shape of one message. Returns `[]` when valid, otherwise every problem in
 * plain English with a JSON pointer to the field.
 */
export function validateSegmentShape(input: unknown): MessageError[] {
  if (validate(input)) return [];
  const callType = typeof input === 'object' && input !== null ? (input as { type?: unknown }).type : undefined;
  const calls = typeof callType === 'string' ? `${callType} calls` : 'Segment messages';
  const out: MessageError[] = [];
  const seen = new Set<string>();
  for (const error of validate.errors ?? []) {
    const described = describeError(error, calls);
    if (described === undefined) continue;
    const key = `${described.path}\u0000${described.message}`;
    if (!seen.has(key)) {
      seen.add(key);
      out.push(described);
    }
  }
  return out;
}

const allowedTypes = SEGMENT_CALL_TYPES.join(', ');

/** Turns one ajv error into a field + reason; `undefined` for errors another one already explains. */
function describeError(error: ErrorObject, calls: string): MessageError | undefined {
  const path = error.instancePath;
  // The identity rule's sub-errors are summarised by its anyOf error below.
  if (error.schemaPath.includes('/anyOf/')) return undefined;
  const params: Record<string, unknown> = error.params;
  switch (error.keyword) {
    case 'discriminator':
      // params.error: 'tag' = missing or not a string, 'mapping' = not a known call type.
      return params['error'] === 'tag' && params['tagValue'] === undefined
        ? { path: '/type', message: `is required; one of: ${allowedTypes}` }
        : { path: '/type', message: `must be one of: ${allowedTypes}` };
    case 'anyOf':
      return { path: `${path}/userId`, message: `userId or anonymousId (a non-empty string) is required for ${calls}` };
    case 'required':
      return { path: `${path}/${String(params['missingProperty'])}`, message: `is required for ${calls}` };
    case 'type':
      return { path, message: `must be ${describeTypes(params['type'])}` };
    case 'minLength':
      return { path, message: 'must not be empty' };
    case 'maxLength':
      return { path, message: `must be at most ${String(params['limit'])} characters` };
    case 'format':
      return { path, message: 'must be an ISO-8601 date-time with a time zone, e.g. 2024-05-01T12:00:00.000Z' };
    default:
      return { path, message: error.message ?? `fails the ${error.keyword} rule` };
  }
}

const typeNames: Record<string, string> = {
  string: 'a string',
  number: 'a number',
  object: 'a JSON object',
  null: 'null',
  array: 'an array',
};

function describeTypes(types: unknown): string {
  const list = Array.isArray(types) ? types : String(types).split(',');
  return list.map((name) => typeNames[String(name)] ?? String(name)).join(' or ');
}
