/**
 * The flow-event catalog (SPEC §3) and the rules of `POST /v1/flow-events`: which events
 * the product may report, which properties each one needs, and how the environment's
 * `events` setting renames or disables them on the way out to Segment.
 *
 * The body is checked in two steps: ajv (compiled once) checks the shape of every event,
 * then the catalog rules check the event name and its required properties, so that an
 * unknown event says which names exist instead of a generic "must be equal to one of".
 */
import type { ErrorObject } from 'ajv';
import { createAjv } from './ajv.ts';
import { oversizeJsonBytes } from './json-bounds.ts';
import type { EventSetting } from '../config/types.ts';
import type { JsonObject } from './json.ts';
import { getOwn, sanitizeJsonObject } from './safe-keys.ts';


export const FLOW_EVENT_NAMES = [
  'Flow Viewed',
  'Flow Started',
  'Flow Step Completed',
  'Flow Completed',
  'Flow Dismissed',
  'Response Submitted',
] as const;
export type FlowEventName = (typeof FLOW_EVENT_NAMES)[number];

/** Properties each catalog event must carry, as non-empty strings. */
export const REQUIRED_FLOW_PROPERTIES: Readonly<Record<FlowEventName, readonly string[]>> = {
  'Flow Viewed': ['flow_id'],
  'Flow Started': ['flow_id'],
  'Flow Step Completed': ['flow_id', 'step_id'],
  'Flow Completed': ['flow_id'],
  'Flow Dismissed': ['flow_id'],
  'Response Submitted': ['flow_id', 'response_id'],
};

/** Most events one request may carry. */
export const MAX_FLOW_EVENTS_PER_REQUEST = 1000;
/**
 * Largest event we accept, as JSON bytes. Segment refuses events over 32 KB, and the
 * library adds `context`, `_metadata` and ids (~1 KB), so we refuse earlier, at the edge,
 * where the product can still fix it, rather than dead-lettering it later.
 */
export const MAX_FLOW_EVENT_BYTES = 30 * 1024;

/** One validated flow event as the product reported it. */
export interface FlowEventInput {
  event: FlowEventName;
  /** The shared user ID. */
  userId: string;
  anonymousId?: string;
  properties: JsonObject;
  /** The product's idempotency key; when absent one is generated once, at enqueue time. */
  messageId?: string;
  /** ISO date-time; the request time when the product sent none. */
  timestamp: string;
}

export interface FlowEventError {
  /** JSON pointer into the request body: `/0/properties/flow_id` (array) or `/event` (single). */
  path: string;
  message: string;
}

export type FlowEventsParseResult = { ok: true; events: FlowEventInput[] } | { ok: false; errors: FlowEventError[] };

const ALLOWED_FIELDS = ['event', 'userId', 'anonymousId', 'properties', 'messageId', 'timestamp', 'type'];

const flowEventSchema = {
  type: 'object',
  required: ['event', 'userId', 'properties'],
  additionalProperties: false,
  properties: {
    event: { type: 'string' },
    userId: { type: 'string', minLength: 1 },
    anonymousId: { type: 'string', minLength: 1 },
    properties: { type: 'object' },
    messageId: { type: 'string', minLength: 1, maxLength: 100 },
    timestamp: { type: 'string', format: 'date-time' },
    // Tolerated so a product can reuse its Segment track payloads as they are.
    type: { const: 'track' },
  },
};

const ajv = createAjv({ allErrors: true, strict: true, formatNames: ['date-time'] });
const validateShape = ajv.compile(flowEventSchema);

export function isFlowEventName(name: unknown): name is FlowEventName {
  return typeof name === 'string' && (FLOW_EVENT_NAMES as readonly string[]).includes(name);
}

/**
 * Validates a `POST /v1/flow-events` body: one event or an array of 1..1000. Either every
 * event is valid (`ok: true`) or every problem is listed, each naming the event and field.
 */
export function parseFlowEvents(body: unknown, options: { now: Date }): FlowEventsParseResult {
  const single = !Array.isArray(body);
  const items: unknown[] = Array.isArray(body) ? body : [body];
  if (items.length === 0 || items.length > MAX_FLOW_EVENTS_PER_REQUEST) {
    return { ok: false, errors: [{ path: '', message: `expected one event or an array of 1 to ${MAX_FLOW_EVENTS_PER_REQUEST} events, got ${items.length}` }] };
  }
  const errors: FlowEventError[] = [];
  const events: FlowEventInput[] = [];
  items.forEach((item, index) => {
    const prefix = single ? '' : `/${index}`;
    const problems = checkFlowEvent(item);
    for (const problem of problems) errors.push({ path: `${prefix}${problem.path}`, message: problem.message });
    if (problems.length === 0) events.push(toFlowEventInput(item as ShapedEvent, options.now));
  });
  return errors.length > 0 ? { ok: false, errors } : { ok: true, events };
}

interface ShapedEvent {
  event: FlowEventName;
  userId: string;
  anonymousId?: string;
  properties: JsonObject;
  messageId?: string;
  timestamp?: string;
}

function toFlowEventInput(item: ShapedEvent, now: Date): FlowEventInput {
  return {
    event: item.event,
    userId: item.userId,
    ...(item.anonymousId === undefined ? {} : { anonymousId: item.anonymousId }),
    // Forwarded to Segment through analytics-node: drop prototype-pollution keys like every inbound path does.
    properties: sanitizeJsonObject(item.properties),
    ...(item.messageId === undefined ? {} : { messageId: item.messageId }),
    timestamp: item.timestamp ?? now.toISOString(),
  };
}

/** Problems of one event, with paths relative to the event. */
function checkFlowEvent(item: unknown): FlowEventError[] {
  if (typeof item !== 'object' || item === null || Array.isArray(item)) return [{ path: '', message: 'must be a JSON object' }];
  const errors = validateShape(item) ? [] : (validateShape.errors ?? []).map(describeError);
  const { event, properties } = item as { event?: unknown; properties?: unknown };
  if (typeof event === 'string' && !isFlowEventName(event)) {
    errors.push({ path: '/event', message: `unknown event '${event}'; expected one of ${FLOW_EVENT_NAMES.map((name) => `'${name}'`).join(', ')}` });
  }
  if (isFlowEventName(event) && typeof properties === 'object' && properties !== null && !Array.isArray(properties)) {
    for (const name of REQUIRED_FLOW_PROPERTIES[event]) {
      const value = getOwn(properties as Record<string, unknown>, name);
      if (typeof value !== 'string' || value.length === 0) {
        errors.push({ path: `/properties/${name}`, message: `is required for '${event}' (a non-empty string)` });
      }
    }
  }
  const bytes = oversizeJsonBytes(item, MAX_FLOW_EVENT_BYTES);
  if (bytes > 0) {
    errors.push({ path: '', message: `is ${bytes} bytes of JSON; at most ${MAX_FLOW_EVENT_BYTES} (Segment refuses events over 32 KB)` });
  }
  return errors;
}

function describeError(error: ErrorObject): FlowEventError {
  const params: Record<string, unknown> = error.params;
  switch (error.keyword) {
    case 'required':
      return { path: `${error.instancePath}/${String(params['missingProperty'])}`, message: 'is required' };
    case 'additionalProperties':
      return { path: `/${String(params['additionalProperty'])}`, message: `is not allowed; allowed fields: ${ALLOWED_FIELDS.join(', ')}` };
    case 'minLength':
      return { path: error.instancePath, message: 'must not be empty' };
    case 'maxLength':
      return { path: error.instancePath, message: `must be at most ${String(params['limit'])} characters` };
    case 'format':
      return { path: error.instancePath, message: 'must be an ISO-8601 date-time with a time zone, e.g. 2024-05-01T12:00:00.000Z' };
    case 'const':
      return { path: error.instancePath, message: "must be 'track' when present" };
    case 'type':
      return { path: error.instancePath, message: `must be ${params['type'] === 'object' ? 'a JSON object' : `a ${String(params['type'])}`}` };
    default:
      return { path: error.instancePath, message: error.message ?? `fails the ${error.keyword} rule` };
  }
}

/** How a catalog event leaves this environment. */
export type OutboundName = { disabled: true } | { disabled: false; sentAs: string };

/**
 * Applies the environment's `events` setting (keyed by catalog name): a disabled event is
 * accepted but not sent; a renamed one is sent under its new name.
 */
export function resolveOutboundName(event: FlowEventName, settings: Readonly<Record<string, EventSetting>>): OutboundName {
  const setting = getOwn(settings, event);
  if (setting?.disabled === true) return { disabled: true };
  const rename = setting?.rename;
  return { disabled: false, sentAs: typeof rename === 'string' && rename.length > 0 ? rename : event };
}
