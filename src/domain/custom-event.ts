/**
 * POST /v1/events bodies: custom trigger events from the product's own code, shaped like a
 * Segment track call. One event or an array of up to 1000.
 */
import type { ErrorObject } from 'ajv';
import { createAjv } from './ajv.ts';
import type { JsonObject } from './json.ts';
import { sanitizeJsonObject } from './safe-keys.ts';

export interface CustomEvent {
  event: string;
  userId: string;
  properties: JsonObject;
  /** Given by the product (dedupe key) or generated once on receipt. */
  messageId: string;
  timestamp: string;
}

const schema = {
  type: 'object',
  required: ['event', 'userId'],
  properties: {
    type: { const: 'track' },
    event: { type: 'string', minLength: 1, maxLength: 200 },
    userId: { type: 'string', minLength: 1, maxLength: 200 },
    anonymousId: { type: 'string' },
    properties: { type: 'object' },
    messageId: { type: 'string', minLength: 1, maxLength: 100 },
    timestamp: { type: 'string', format: 'date-time' },
    context: { type: 'object' },
  },
  additionalProperties: true,
} as const;

const ajv = createAjv({ allErrors: true, strict: false, formatNames: ['date-time'] });
const validate = ajv.compile(schema);

export const MAX_CUSTOM_EVENTS = 1000;

export function parseCustomEvents(
  body: unknown,
  options: { nowMs: number; newMessageId: () => string },
): { ok: true; events: CustomEvent[] } | { ok: false; errors: Array<{ path: string; message: string }> } {
  const items = Array.isArray(body) ? body : [body];
  if (items.length === 0 || items.length > MAX_CUSTOM_EVENTS) {
    return { ok: false, errors: [{ path: '', message: `send 1 to ${MAX_CUSTOM_EVENTS} events, got ${items.length}` }] };
  }
  const errors: Array<{ path: string; message: string }> = [];
  const events: CustomEvent[] = [];
  items.forEach((item, index) => {
    const prefix = Array.isArray(body) ? `/${index}` : '';
    if (!validate(item)) {
      for (const error of validate.errors ?? []) errors.push({ path: `${prefix}${pathOf(error)}`, message: messageOf(error) });
      return;
    }
    const value = item as unknown as Record<string, unknown>;
    events.push({
      event: value['event'] as string,
      userId: value['userId'] as string,
      properties: sanitizeJsonObject((value['properties'] ?? {}) as JsonObject),
      messageId: (value['messageId'] as string | undefined) ?? options.newMessageId(),
      timestamp: new Date((value['timestamp'] as string | undefined) ?? options.nowMs).toISOString(),
    });
  });
  return errors.length > 0 ? { ok: false, errors } : { ok: true, events };
}

function pathOf(error: ErrorObject): string {
  if (error.keyword === 'required') return `${error.instancePath}/${String(error.params['missingProperty'])}`;
  return error.instancePath;
}

function messageOf(error: ErrorObject): string {
  if (error.keyword === 'required') return 'is required';
  if (error.keyword === 'format') return 'must be an ISO-8601 date-time with a time zone';
  return error.message ?? 'is invalid';
}
