import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { signSegmentBody, verifySegmentRequest, type VerifyOptions } from '../src/domain/segment-signature.ts';

const SECRET = 'shh';
const GOLDEN_BODY = '{"type":"track","event":"Test","userId":"u1"}';
const GOLDEN_SIGNATURE = 'a8dcd29893e7cefeb5a603567e68b7fcd07b7d65';

function verify(overrides: Partial<VerifyOptions> = {}): ReturnType<typeof verifySegmentRequest> {
  return verifySegmentRequest({
    rawBody: Buffer.from(GOLDEN_BODY),
    signatureHeader: GOLDEN_SIGNATURE,
    secret: SECRET,
    isArrayBody: false,
    ...overrides,
  });
}

function assertRefused(result: ReturnType<typeof verifySegmentRequest>, code: string): void {
  assert.ok(!result.ok, `expected refusal ${code}`);
  if (result.ok) return;
  assert.is(result.code, code);
  assert.not.ok(result.reason.includes(SECRET), 'the reason never echoes the secret');
  assert.not.ok(result.reason.includes(GOLDEN_SIGNATURE), 'the reason never echoes the signature');
}

// ---
const sign = suite('signSegmentBody');

sign('golden vector (SEGMENT-FACTS §1b)', () => {
  assert.is(signSegmentBody(SECRET, GOLDEN_BODY), GOLDEN_SIGNATURE);
  assert.is(signSegmentBody(SECRET, Buffer.from(GOLDEN_BODY)), GOLDEN_SIGNATURE);
});

sign('lowercase hex, 40 characters', () => {
  assert.match(signSegmentBody('another secret', '[]'), /^[0-9a-f]{40}$/);
});

sign.run();

// ---
const signature = suite('verifySegmentRequest: X-Signature');

signature('a correct signature over the raw bytes is accepted', () => {
  assert.equal(verify(), { ok: true, via: 'signature' });
});

signature('an upper-case hex signature is the same digest', () => {
  assert.equal(verify({ signatureHeader: GOLDEN_SIGNATURE.toUpperCase() }), { ok: true, via: 'signature' });
});

signature('a signature made with another secret is refused', () => {
  assertRefused(verify({ signatureHeader: signSegmentBody('not-shh', GOLDEN_BODY) }), 'bad_signature');
});

signature('a tampered body is refused', () => {
  assertRefused(verify({ rawBody: Buffer.from(GOLDEN_BODY.replace('u1', 'u2')) }), 'bad_signature');
});

signature('a re-serialised body (different bytes, same JSON) is refused: the raw bytes are signed', () => {
  const pretty = JSON.stringify(JSON.parse(GOLDEN_BODY), null, 2);
  assertRefused(verify({ rawBody: Buffer.from(pretty) }), 'bad_signature');
});

signature('a malformed signature (wrong length, not hex) is refused without throwing', () => {
  for (const header of ['abc', `${GOLDEN_SIGNATURE}00`, 'z'.repeat(40), `sha1=${GOLDEN_SIGNATURE}`]) {
    assertRefused(verify({ signatureHeader: header }), 'bad_signature');
  }
});

signature('no credentials at all', () => {
  assertRefused(verify({ signatureHeader: undefined }), 'missing_credentials');
  assertRefused(verify({ signatureHeader: '' }), 'missing_credentials');
});

signature.run();

// ---
const arrays = suite('verifySegmentRequest: array bodies need the bearer token');

arrays('an array body with only X-Signature is refused, even if the signature matches the raw bytes', () => {
  const body = `[${GOLDEN_BODY}]`;
  const result = verify({ rawBody: Buffer.from(body), signatureHeader: signSegmentBody(SECRET, body), isArrayBody: true });
  assertRefused(result, 'array_needs_bearer');
  if (!result.ok) assert.match(result.reason, /first element/);
});

arrays('an array body signed the way Segment signs batches (element 0) is refused too', () => {
  const body = `[${GOLDEN_BODY},${GOLDEN_BODY}]`;
  assertRefused(verify({ rawBody: Buffer.from(body), signatureHeader: GOLDEN_SIGNATURE, isArrayBody: true }), 'array_needs_bearer');
});

arrays('an array body with the bearer token is accepted', () => {
  const result = verify({ rawBody: Buffer.from(`[${GOLDEN_BODY}]`), signatureHeader: GOLDEN_SIGNATURE, authorizationHeader: `Bearer ${SECRET}`, isArrayBody: true });
  assert.equal(result, { ok: true, via: 'bearer' });
});

arrays.run();

// ---
const bearer = suite('verifySegmentRequest: Authorization: Bearer');

bearer('the shared secret as bearer token is accepted without a signature', () => {
  assert.equal(verify({ signatureHeader: undefined, authorizationHeader: `Bearer ${SECRET}` }), { ok: true, via: 'bearer' });
  assert.equal(verify({ signatureHeader: undefined, authorizationHeader: `bearer ${SECRET}` }), { ok: true, via: 'bearer' });
});

bearer('a wrong token is refused', () => {
  for (const header of ['Bearer shh!', 'Bearer sh', 'Bearer ', `Basic ${Buffer.from(`${SECRET}:`).toString('base64')}`, SECRET]) {
    assertRefused(verify({ signatureHeader: undefined, authorizationHeader: header }), 'bad_token');
  }
});

bearer('a wrong token next to a valid signature on a single message: the signature suffices', () => {
  assert.equal(verify({ authorizationHeader: 'Bearer nope' }), { ok: true, via: 'signature' });
});

bearer('a wrong token next to a wrong signature reports the token', () => {
  assertRefused(verify({ authorizationHeader: 'Bearer nope', signatureHeader: '0'.repeat(40) }), 'bad_token');
});

bearer('an empty secret is a programming error, never "Bearer " accepted', () => {
  assert.throws(() => verify({ secret: '', signatureHeader: undefined, authorizationHeader: 'Bearer ' }), /must not be empty/);
});

bearer.run();
