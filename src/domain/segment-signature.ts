/**
 * Authenticating Segment's Webhooks destination (SPEC §2, SEGMENT-FACTS §1).
 *
 * Two accepted credentials, either one is enough:
 * - `X-Signature`: lowercase hex HMAC-SHA1 of the raw request body bytes, keyed by the
 *   shared secret (Segment's scheme). Compared in constant time on the decoded 20 bytes.
 * - `Authorization: Bearer <shared secret>` (a custom header in Webhooks (Actions)).
 *   Compared in constant time on SHA-256 digests, so the token's length does not leak.
 *
 * Segment signs only the FIRST element of a batched (array) body, so a signature never
 * covers the rest of an array: an array body must carry the bearer token.
 * Reasons are short, distinct and never contain the secret or the received values.
 * node:crypto is used here because HMAC is deterministic computation, not I/O.
 */
import { createHash, createHmac, createSecretKey, timingSafeEqual, type KeyObject } from 'node:crypto';

export type SignatureFailureCode = 'missing_credentials' | 'bad_signature' | 'bad_token' | 'array_needs_bearer';

export type VerifyResult =
  | { ok: true; via: 'signature' | 'bearer' }
  | { ok: false; code: SignatureFailureCode; reason: string };

export interface VerifyOptions {
  /** The request body exactly as received, before any JSON parsing. */
  rawBody: Buffer;
  /** `X-Signature` header value, if any. */
  signatureHeader?: string;
  /** `Authorization` header value, if any. */
  authorizationHeader?: string;
  /** The environment's shared secret; must not be empty. */
  secret: string;
  /** True when the body is a JSON array (a Webhooks (Actions) batch). */
  isArrayBody: boolean;
}

const reasons: Record<SignatureFailureCode, string> = {
  missing_credentials: 'missing credentials: send X-Signature or Authorization: Bearer <shared secret>',
  bad_signature: 'bad signature: X-Signature does not match the body',
  bad_token: 'bad token: the bearer token is not the shared secret',
  array_needs_bearer:
    'array bodies need Authorization: Bearer <shared secret>: Segment signs only the first element of a batch, so X-Signature does not cover the rest',
};

/** Segment's X-Signature for a body: lowercase hex HMAC-SHA1 keyed by the shared secret. */
export function signSegmentBody(secret: string, body: string | Buffer): string {
  return createHmac('sha1', secret).update(body).digest('hex');
}

/** Checks a request's credentials. Throws only on a programming error (an empty secret). */
export function verifySegmentRequest(options: VerifyOptions): VerifyResult {
  const { rawBody, signatureHeader, authorizationHeader, secret, isArrayBody } = options;
  // An empty secret would make "Bearer " a valid token; the caller must skip auth instead.
  if (secret === '') throw new TypeError('verifySegmentRequest: the shared secret must not be empty');
  const hasToken = authorizationHeader !== undefined && authorizationHeader !== '';
  const hasSignature = signatureHeader !== undefined && signatureHeader !== '';
  if (!hasToken && !hasSignature) return fail('missing_credentials');

  if (hasToken && tokenMatches(authorizationHeader, secret)) return { ok: true, via: 'bearer' };
  if (hasSignature && !isArrayBody && signatureMatches({ signatureHeader, secret, rawBody })) {
    return { ok: true, via: 'signature' };
  }
  if (hasToken) return fail('bad_token');
  return fail(isArrayBody ? 'array_needs_bearer' : 'bad_signature');
}

function fail(code: SignatureFailureCode): VerifyResult {
  return { ok: false, code, reason: reasons[code] };
}

function tokenMatches(authorizationHeader: string, secret: string): boolean {
  const match = /^Bearer[ \t]+(.+?)[ \t]*$/i.exec(authorizationHeader);
  const token = match?.[1];
  if (token === undefined) return false;
  return timingSafeEqual(sha256(token), sha256(secret));
}

function signatureMatches(options: { signatureHeader: string; secret: string; rawBody: Buffer }): boolean {
  const received = options.signatureHeader.trim();
  // A SHA-1 digest is 40 hex characters; checking the public format first leaks nothing.
  if (!/^[0-9a-f]{40}$/i.test(received)) return false;
  const expected = createHmac('sha1', secretKey(options.secret)).update(options.rawBody).digest();
  return timingSafeEqual(expected, Buffer.from(received, 'hex'));
}

/**
 * The secret as a KeyObject, made once: createHmac with a string key prepares a new key on
 * every call, which is a measurable part of checking a signed request.
 */
let cachedKey: { secret: string; key: KeyObject } | undefined;
function secretKey(secret: string): KeyObject {
  if (cachedKey?.secret !== secret) cachedKey = { secret, key: createSecretKey(Buffer.from(secret, 'utf8')) };
  return cachedKey.key;
}

function sha256(value: string): Buffer {
  return createHash('sha256').update(value, 'utf8').digest();
}
