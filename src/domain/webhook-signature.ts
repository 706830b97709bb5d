/**
 * Standard Webhooks signing of trigger deliveries (SPEC §5), with the maintained
 * `standardwebhooks` library: `webhook-id` (the delivery id, stable across retries: the
 * receiver's idempotency key), `webhook-timestamp` (seconds, at send time) and
 * `webhook-signature: v1,<base64 HMAC-SHA256 of "id.timestamp.body">`.
 *
 * Secrets (from the variable a trigger's `webhook.secretEnv` names):
 * - `whsec_<base64>` (the Standard Webhooks format): the key is the base64-decoded bytes,
 *   exactly as receivers' `new Webhook("whsec_...")` decode it;
 * - any other value is a raw secret: the key is its UTF-8 bytes, as is. Receivers verify
 *   with `new Webhook(secret, { format: "raw" })`, or with `"whsec_" + base64(secret)`.
 *   (Not base64-decoded: a passphrase that happens to be valid base64 would silently turn
 *   into different key bytes.)
 *
 * Pure: no clock, no I/O. Failures are values naming the variable, never showing the value.
 */
import { Webhook } from 'standardwebhooks';

const WHSEC_PREFIX = 'whsec_';

export type SignResult = { ok: true; headers: Record<string, string> } | { ok: false; reason: string };

/** The key bytes of a secret as described above; throws on an empty or malformed `whsec_` value. */
export function webhookKeyBytes(secret: string): Uint8Array {
  if (secret.startsWith(WHSEC_PREFIX)) {
    const encoded = secret.slice(WHSEC_PREFIX.length);
    if (!/^[A-Za-z0-9+/]+={0,2}$/.test(encoded) || encoded.length % 4 !== 0) throw new Error('not valid base64 after whsec_');
    return Uint8Array.from(atob(encoded), (char) => char.charCodeAt(0));
  }
  if (secret.length === 0) throw new Error('empty');
  return new TextEncoder().encode(secret);
}

/** Request headers for sending `delivery.body` at `nowMs`, signed with the secret its `secretEnv` names. */
export function signWebhook(options: {
  delivery: { id: string; body: string; secretEnv: string };
  secrets: Readonly<Record<string, string>>;
  nowMs: number;
}): SignResult {
  const { delivery, secrets, nowMs } = options;
  const secret = Object.hasOwn(secrets, delivery.secretEnv) ? secrets[delivery.secretEnv] : undefined;
  if (secret === undefined || secret === '') return { ok: false, reason: `webhook secret ${delivery.secretEnv} is not set` };
  let webhook: Webhook;
  try {
    webhook = new Webhook(webhookKeyBytes(secret), { format: 'raw' });
  } catch {
    return { ok: false, reason: `webhook secret ${delivery.secretEnv} is malformed (expected whsec_<base64> or a raw string)` };
  }
  const timestamp = new Date(nowMs);
  return {
    ok: true,
    headers: {
      'content-type': 'application/json',
      'user-agent': 'segment-bridge',
      'webhook-id': delivery.id,
      'webhook-timestamp': String(Math.floor(nowMs / 1000)),
      'webhook-signature': webhook.sign(delivery.id, timestamp, delivery.body),
    },
  };
}
