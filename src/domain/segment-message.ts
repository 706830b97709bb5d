/**
 * Inbound Segment messages (what the Webhooks destination POSTs to /v1/segment), parsed
 * at the edge into a union on `type`. After `parseSegmentMessage` nothing is `unknown`.
 *
 * Normalisations the parser applies (documented in the README's inbound section):
 * - `timestamp` is RESOLVED: `timestamp ?? originalTimestamp ?? receivedAt ?? sentAt
 *   ?? options.receivedAt`, then normalised to UTC `toISOString()` form so that stored
 *   times compare consistently. `originalTimestamp` (the client's event time) beats
 *   `receivedAt` (Segment's arrival time) because it is closer to when the thing happened;
 *   `sentAt` is last because it is when a whole client batch left the device. The raw
 *   fields are kept as received.
 * - `userId`/`anonymousId` that are `null` or `""` are dropped (the other id is then required).
 * - numeric `groupId`s become strings (`12` -> `"12"`).
 * - `traits` (identify, group) and `properties` (track, page, screen) default to `{}`.
 * - `__proto__`, `constructor` and `prototype` keys are removed at every depth (prototype
 *   pollution guard for every consumer downstream).
 * Unknown extra fields are kept on the object at run time (Segment adds fields) but are not
 * part of the types.
 */
import { isJsonObject, type JsonObject } from './json.ts';
import { oversizeJsonBytes, withoutHostileKeys } from './json-bounds.ts';
import {
  MAX_MESSAGE_BYTES,
  validateSegmentShape,
  type MessageError,
  type SegmentCallType,
} from './segment-message-schema.ts';

export { MAX_MESSAGE_BYTES, MAX_MESSAGE_ID_LENGTH, SEGMENT_CALL_TYPES } from './segment-message-schema.ts';
export type { MessageError, SegmentCallType } from './segment-message-schema.ts';
export { extractMessages, type BodyKind, type ExtractResult } from './segment-body.ts';

/**
 * "userId or anonymousId" (SEGMENT-FACTS §2): at least one is a non-empty string. The
 * second member says `userId?: undefined` so that `if (message.userId === undefined)`
 * narrows `anonymousId` to `string`.
 */
export type Identity = { userId: string; anonymousId?: string } | { userId?: undefined; anonymousId: string };

/** Fields every message may carry. */
export interface CommonFields {
  /** Segment's dedupe key, 1..100 characters. */
  messageId: string;
  /** Resolved and normalised event time (see the module comment). */
  timestamp: string;
  originalTimestamp?: string;
  receivedAt?: string;
  sentAt?: string;
  context?: JsonObject;
  integrations?: JsonObject;
  /** `2` or `"1.1"`: both occur. */
  version?: number | string;
  channel?: string;
  projectId?: string;
}

export type IdentifyMessage = CommonFields & Identity & { type: 'identify'; traits: JsonObject };
export type TrackMessage = CommonFields & Identity & { type: 'track'; event: string; properties: JsonObject };
export type PageMessage = CommonFields & Identity & { type: 'page'; name?: string; category?: string; properties: JsonObject };
export type ScreenMessage = CommonFields & Identity & { type: 'screen'; name?: string; category?: string; properties: JsonObject };
export type GroupMessage = CommonFields & Identity & { type: 'group'; groupId: string; traits: JsonObject };
/** `userId` is the new (canonical) id, `previousId` the old userId or anonymousId. */
export type AliasMessage = CommonFields & { type: 'alias'; userId: string; previousId: string; anonymousId?: string };
/** Forwarded user-deletion request. */
export type DeleteMessage = CommonFields & { type: 'delete'; userId: string; anonymousId?: string };

export type SegmentMessage =
  | IdentifyMessage
  | TrackMessage
  | PageMessage
  | ScreenMessage
  | GroupMessage
  | AliasMessage
  | DeleteMessage;

export type ParseResult = { ok: true; message: SegmentMessage } | { ok: false; errors: MessageError[] };

export interface ParseOptions {
  /**
   * When the bridge received the message (ISO). Last fallback for `timestamp` when the
   * message carries none of timestamp/originalTimestamp/receivedAt/sentAt. Default: none,
   * and such a message is rejected at `/timestamp`.
   */
  receivedAt?: string;
}

/** Validates one message against the Segment spec and returns it typed and normalised. */
export function parseSegmentMessage(input: unknown, options: ParseOptions = {}): ParseResult {
  if (!isJsonObject(input)) return fail('', 'a Segment message must be a JSON object');
  const bytes = oversizeJsonBytes(input, MAX_MESSAGE_BYTES);
  if (bytes > 0) {
    return fail('', `is ${bytes} bytes of JSON; a message may be at most ${MAX_MESSAGE_BYTES} bytes (32 KB)`);
  }
  const errors = validateSegmentShape(input);
  if (errors.length > 0) return { ok: false, errors };

  const raw = withoutHostileKeys(input);
  const resolved = [raw['timestamp'], raw['originalTimestamp'], raw['receivedAt'], raw['sentAt'], options.receivedAt].find(
    (value): value is string => typeof value === 'string',
  );
  if (resolved === undefined) {
    return fail('/timestamp', 'is required: none of timestamp, originalTimestamp, receivedAt, sentAt is present');
  }
  return { ok: true, message: toMessage(raw, new Date(resolved).toISOString()) };
}

/** Fields the switch below sets (normalised); every other field is copied as received. */
const NORMALISED_FIELDS: ReadonlySet<string> = new Set(['userId', 'anonymousId', 'name', 'category']);

/**
 * Builds the typed message in one object: this runs for every inbound message, and a chain
 * of spreads and rest-destructuring cost a measurable share of ingest CPU. `raw` holds no
 * hostile keys (the caller sanitised or checked it).
 */
function toMessage(raw: JsonObject, timestamp: string): SegmentMessage {
  const type = raw['type'] as SegmentCallType;
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(raw)) if (!NORMALISED_FIELDS.has(key)) out[key] = raw[key];
  out['messageId'] = String(raw['messageId']);
  out['timestamp'] = timestamp;
  const userId = nonEmpty(raw['userId']);
  const anonymousId = nonEmpty(raw['anonymousId']);
  if (userId !== undefined) out['userId'] = userId;
  if (anonymousId !== undefined) out['anonymousId'] = anonymousId;
  switch (type) {
    case 'identify':
    case 'group':
      out['traits'] = objectOrEmpty(raw['traits']);
      if (type === 'group') out['groupId'] = String(raw['groupId']);
      break;
    case 'track':
      out['event'] = String(raw['event']);
      out['properties'] = objectOrEmpty(raw['properties']);
      break;
    case 'page':
    case 'screen':
      if (typeof raw['name'] === 'string') out['name'] = raw['name'];
      if (typeof raw['category'] === 'string') out['category'] = raw['category'];
      out['properties'] = objectOrEmpty(raw['properties']);
      break;
    case 'alias':
      out['previousId'] = String(raw['previousId']);
      break;
    case 'delete':
      break;
    default: {
      const unreachable: never = type;
      throw new Error(`unhandled Segment call type ${String(unreachable)}`);
    }
  }
  // Validation guarantees the identity rules (a userId or an anonymousId; alias and delete
  // always have a userId), so `out` has the shape of its call type.
  return out as unknown as SegmentMessage;
}

function fail(path: string, message: string): ParseResult {
  return { ok: false, errors: [{ path, message }] };
}

function nonEmpty(value: unknown): string | undefined {
  return typeof value === 'string' && value !== '' ? value : undefined;
}

function objectOrEmpty(value: unknown): JsonObject {
  return isJsonObject(value) ? value : {};
}
