/**
 * The three body shapes POST /v1/segment accepts (SPEC §2):
 * - `single`: one message object (Webhooks (Classic), or Actions without batching);
 * - `array`: a JSON array of messages (Webhooks (Actions) with batching);
 * - `batch`: `{"batch": [...]}` (the HTTP Tracking API's batch shape, used by replays).
 * An object is a batch only when it has a `batch` key and no `type`; an empty list is a
 * valid (empty) body. Items are returned unvalidated: each goes through parseSegmentMessage.
 */
import { isJsonObject } from './json.ts';
import type { MessageError } from './segment-message-schema.ts';

export type BodyKind = 'single' | 'array' | 'batch';

export type ExtractResult = { ok: true; kind: BodyKind; items: unknown[] } | { ok: false; error: MessageError };

const expected = 'the body must be a Segment message object, an array of messages, or {"batch": [...]}';

/** Splits a parsed JSON body into its messages, or says why the body has none of the accepted shapes. */
export function extractMessages(body: unknown): ExtractResult {
  if (Array.isArray(body)) return { ok: true, kind: 'array', items: body };
  if (!isJsonObject(body)) return { ok: false, error: { path: '', message: expected } };
  if (Object.hasOwn(body, 'batch') && !Object.hasOwn(body, 'type')) {
    const batch = body['batch'];
    return Array.isArray(batch)
      ? { ok: true, kind: 'batch', items: batch }
      : { ok: false, error: { path: '/batch', message: 'must be an array of Segment messages' } };
  }
  return { ok: true, kind: 'single', items: [body] };
}
