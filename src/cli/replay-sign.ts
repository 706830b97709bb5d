/**
 * Signing a fixture exactly as Segment's Webhooks destinations do (SEGMENT-FACTS §1), so a
 * replay exercises the same authentication path as production traffic. Pure: no I/O.
 *
 * - One message: the body is `JSON.stringify(message)` and `X-Signature` is the lowercase
 *   hex HMAC-SHA1 of exactly that body with the shared secret.
 * - An array (Webhooks (Actions) batching): the body is `JSON.stringify(array)`, but
 *   Segment signs only `JSON.stringify(array[0])`; that signature does not cover the other
 *   elements, so the bridge needs `Authorization: Bearer <shared secret>` (the custom header
 *   the set-up steps tell the customer to add). Both headers are sent, like Segment would.
 * - No shared secret (a staging environment may have none): nothing is signed.
 */
import { signSegmentBody } from '../domain/segment-signature.ts';

export interface SignedRequest {
  /** The exact bytes to send. */
  body: string;
  headers: Record<string, string>;
}

export function signLikeSegment(options: { payload: unknown; secret: string | undefined }): SignedRequest {
  const { payload, secret } = options;
  const body = JSON.stringify(payload);
  const headers: Record<string, string> = { 'content-type': 'application/json', 'user-agent': 'Segment (Actions) segment-bridge-replay' };
  if (secret === undefined || secret === '') return { body, headers };
  if (Array.isArray(payload)) {
    if (payload.length > 0) headers['x-signature'] = signSegmentBody(secret, JSON.stringify(payload[0]));
    headers['authorization'] = `Bearer ${secret}`;
  } else {
    headers['x-signature'] = signSegmentBody(secret, body);
  }
  return { body, headers };
}
