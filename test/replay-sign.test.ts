import { createHmac } from 'node:crypto';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { signLikeSegment } from '../src/cli/replay-sign.ts';
import { verifySegmentRequest } from '../src/domain/segment-signature.ts';

const SECRET = 'replay-shared-secret-0123456789';

// ---
const single = suite('signLikeSegment: one message');

single('golden vector: X-Signature is hex HMAC-SHA1 of the exact body (SEGMENT-FACTS §1b)', () => {
  const signed = signLikeSegment({ payload: { type: 'track', event: 'Test', userId: 'u1' }, secret: 'shh' });
  assert.is(signed.body, '{"type":"track","event":"Test","userId":"u1"}');
  assert.is(signed.headers['x-signature'], 'a8dcd29893e7cefeb5a603567e68b7fcd07b7d65');
  assert.is(signed.headers['authorization'], undefined, 'a single message needs no bearer token');
  assert.is(signed.headers['content-type'], 'application/json');
});

single('the bridge accepts it by signature', () => {
  const signed = signLikeSegment({ payload: { type: 'identify', userId: 'u1', traits: { a: 'é' } }, secret: SECRET });
  const verdict = verifySegmentRequest({ rawBody: Buffer.from(signed.body), signatureHeader: signed.headers['x-signature'], secret: SECRET, isArrayBody: false });
  assert.equal(verdict, { ok: true, via: 'signature' });
});

single('no shared secret: nothing is signed', () => {
  const signed = signLikeSegment({ payload: { type: 'track', event: 'E', userId: 'u' }, secret: undefined });
  assert.is(signed.headers['x-signature'], undefined);
  assert.is(signed.headers['authorization'], undefined);
});

single.run();

// ---
const array = suite('signLikeSegment: an array (Webhooks (Actions) batching)');

array('signs only the first element, like Segment, and adds the bearer token', () => {
  const payload = [{ type: 'track', event: 'A', userId: 'u' }, { type: 'track', event: 'B', userId: 'u' }];
  const signed = signLikeSegment({ payload, secret: SECRET });
  assert.is(signed.body, JSON.stringify(payload));
  assert.is(signed.headers['x-signature'], createHmac('sha1', SECRET).update(JSON.stringify(payload[0])).digest('hex'));
  assert.is.not(signed.headers['x-signature'], createHmac('sha1', SECRET).update(signed.body).digest('hex'));
  assert.is(signed.headers['authorization'], `Bearer ${SECRET}`);
});

array('the bridge accepts it by the bearer token, and would refuse the signature alone', () => {
  const signed = signLikeSegment({ payload: [{ type: 'track', event: 'A', userId: 'u' }], secret: SECRET });
  const rawBody = Buffer.from(signed.body);
  const withBearer = verifySegmentRequest({ rawBody, signatureHeader: signed.headers['x-signature'], authorizationHeader: signed.headers['authorization'], secret: SECRET, isArrayBody: true });
  assert.equal(withBearer, { ok: true, via: 'bearer' });
  const signatureOnly = verifySegmentRequest({ rawBody, signatureHeader: signed.headers['x-signature'], secret: SECRET, isArrayBody: true });
  assert.is(signatureOnly.ok, false);
});

array('an empty array gets the bearer token and no signature', () => {
  const signed = signLikeSegment({ payload: [], secret: SECRET });
  assert.is(signed.headers['x-signature'], undefined);
  assert.is(signed.headers['authorization'], `Bearer ${SECRET}`);
});

array.run();
