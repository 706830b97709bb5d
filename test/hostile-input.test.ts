/**
 * Hostile input against a real instance (real HTTP, real store in a temp dir): malformed,
 * mistyped, huge, deeply nested, badly encoded bodies; prototype-pollution keys; oversized
 * messageIds; a slow-loris body; wrong content types; forged and replayed signatures.
 * After every attack the process still answers /healthz, the profile stored before is
 * unchanged, and no error body or log line carries a secret (SPEC §2).
 */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { createHmac } from 'node:crypto';
import { connect } from 'node:net';
import { request } from 'node:http';
import { Writable } from 'node:stream';
import { startTestInstance, type TestInstance } from './support/instance.ts';
import { TEST_SECRETS } from './support/config.ts';
import { buildAlias, buildDelete, buildGroup, buildIdentify, buildPage, buildScreen, buildTrack, nextMessageId } from './support/build-message.ts';
import { createLogger } from '../src/adapters/logger.ts';
import type { JsonObject, JsonValue } from '../src/domain/json.ts';

const VICTIM = 'hostile-victim-01';
const SECRET_FORMS = [TEST_SECRETS.sharedSecret, TEST_SECRETS.apiKey, TEST_SECRETS.writeKey, Buffer.from(`${TEST_SECRETS.writeKey}:`).toString('base64')];

interface Reply {
  status: number;
  text: string;
  json: Record<string, unknown>;
}

/** An instance whose log lines are captured WITHOUT the redactor: nothing may even try to log a secret. */
interface Harness {
  instance: TestInstance;
  lines: string[];
  /** Every response body seen, to check for secrets at the end. */
  bodies: string[];
  snapshot: string;
}

async function startHarness(options: { bodyLimitBytes?: number; bodyTimeoutMs?: number } = {}): Promise<Harness> {
  const lines: string[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      lines.push(chunk.toString('utf8'));
      callback();
    },
  });
  const log = createLogger({ level: 'debug', destination });
  const instance = await startTestInstance(options.bodyLimitBytes ? { bodyLimitBytes: options.bodyLimitBytes } : undefined, { log, ...(options.bodyTimeoutMs ? { bodyTimeoutMs: options.bodyTimeoutMs } : {}) });
  const seeded = await instance.postSegment({ batch: [buildIdentify({ userId: VICTIM, traits: { plan: 'pro', email: 'victim@example.com' } }), buildTrack({ userId: VICTIM, event: 'Report Exported' })] });
  assert.is(seeded.json['accepted'], 2);
  const harness: Harness = { instance, lines, bodies: [], snapshot: '' };
  harness.snapshot = await victimProfile(harness);
  return harness;
}

async function victimProfile(harness: Harness): Promise<string> {
  const { status, json } = await harness.instance.api(`/v1/users/${VICTIM}`);
  assert.is(status, 200);
  return JSON.stringify(json);
}

/** POSTs raw bytes; signs them with the shared secret unless told otherwise. */
async function post(harness: Harness, init: { path?: string; body: string | Buffer; headers?: Record<string, string>; sign?: boolean }): Promise<Reply> {
  const headers: Record<string, string> = { 'content-type': 'application/json', ...init.headers };
  if (init.sign !== false && init.path === undefined) headers['x-signature'] = createHmac('sha1', TEST_SECRETS.sharedSecret).update(init.body).digest('hex');
  const response = await fetch(`${harness.instance.url}${init.path ?? '/v1/segment'}`, { method: 'POST', headers, body: init.body });
  const text = await response.text();
  harness.bodies.push(text);
  return { status: response.status, text, json: text === '' ? {} : (JSON.parse(text) as Record<string, unknown>) };
}

/** The error body shape of SPEC §2. */
function assertErrorBody(reply: Reply, status: number, code?: string): void {
  assert.is(reply.status, status, reply.text.slice(0, 300));
  assert.type(reply.json['error'], 'string');
  assert.type(reply.json['message'], 'string');
  assert.ok(Array.isArray(reply.json['details']));
  if (code !== undefined) assert.is(reply.json['error'], code);
}

/** Still alive, victim untouched, no secret in any body or log line so far. */
async function assertUnharmed(harness: Harness): Promise<void> {
  const health = await fetch(`${harness.instance.url}/healthz`);
  assert.is(health.status, 200);
  assert.is(await victimProfile(harness), harness.snapshot, 'the stored profile did not change');
  const everything = [...harness.bodies, ...harness.lines].join('\n');
  for (const secret of SECRET_FORMS) assert.not.ok(everything.includes(secret), 'a secret leaked into a response or a log line');
  assert.is((({}) as Record<string, unknown>)['polluted'], undefined, 'Object.prototype polluted');
}

let harness: Harness;

// ---
const malformed = suite('hostile input: malformed JSON and wrong types');
malformed.before(async () => { harness = await startHarness(); });
malformed.after(async () => { await assertUnharmed(harness); await harness.instance.close(); });

malformed('malformed JSON is a 400 on every JSON endpoint, never a 500', async () => {
  for (const body of ['{"type":"track",', '{"type": tr', 'nul', '', '{"a":1}}', '\u0000', '{"a":[1,]}', '{"__proto__":}']) {
    assertErrorBody(await post(harness, { body }), 400, 'malformed_json');
    const auth = { authorization: `Bearer ${TEST_SECRETS.apiKey}` };
    assertErrorBody(await post(harness, { path: '/v1/flow-events', body, headers: auth }), 400);
    assertErrorBody(await post(harness, { path: '/v1/events', body, headers: auth }), 400);
  }
  await assertUnharmed(harness);
});

malformed('bodies that are JSON but no message shape: 400', async () => {
  for (const body of ['42', '"track"', 'null', 'true', '{"batch": {"type":"track"}}', '{"batch": 7}']) {
    assertErrorBody(await post(harness, { body }), 400);
  }
  await assertUnharmed(harness);
});

type Builder = (overrides?: Record<string, JsonValue | undefined>) => JsonObject;
/** [call, builder, field, wrong values]: each message aims at the victim and breaks exactly one field. */
const common: Array<[string, JsonValue[]]> = [
  ['messageId', [42, '', true, {}]],
  ['timestamp', [42, 'yesterday', '2025-13-45T99:00:00Z', {}]],
  ['context', ['ctx', 42, [1, 2]]],
  ['integrations', ['all', [true]]],
  ['type', [42, 'trackk', '']],
];
const table: Array<[string, Builder, Array<[string, JsonValue[]]>]> = [
  ['identify', buildIdentify, [...common, ['userId', [42, {}, ['victim']]], ['anonymousId', [42, {}]], ['traits', ['plan=pro', 42, ['pro']]]]],
  ['track', buildTrack, [...common, ['userId', [42, {}]], ['event', [42, '', null, {}]], ['properties', ['x', 42, [1]]]]],
  ['page', buildPage, [...common, ['userId', [42, []]], ['name', [42, {}]], ['category', [42]], ['properties', ['x', [1]]]]],
  ['screen', buildScreen, [...common, ['name', [42]], ['properties', [[1]]]]],
  ['group', buildGroup, [...common, ['userId', [42]], ['groupId', [{}, true, '', null]], ['traits', ['x', [1]]]]],
  ['alias', buildAlias, [...common, ['userId', [42, '']], ['previousId', [42, '', null]]]],
  ['delete', buildDelete, [...common, ['userId', [42, '', null, {}]]]],
];

malformed('wrong types in every field of each call type: 400 naming the field, nothing applied', async () => {
  let cases = 0;
  for (const [call, build, fields] of table) {
    for (const [field, values] of fields) {
      for (const value of values) {
        const message = build({ userId: VICTIM, [field]: value });
        const reply = await post(harness, { body: JSON.stringify(message) });
        assertErrorBody(reply, 400, 'invalid_message');
        const paths = (reply.json['details'] as Array<{ path: string }>).map((detail) => detail.path);
        assert.ok(paths.includes(`/${field}`), `${call}.${field} = ${JSON.stringify(value)}: details ${JSON.stringify(paths)}`);
        cases += 1;
      }
    }
  }
  assert.ok(cases > 100, `${cases} cases`);
  await assertUnharmed(harness);
});

malformed.run();

// ---
const sizes = suite('hostile input: huge and deeply nested bodies');
sizes.before(async () => { harness = await startHarness(); });
sizes.after(async () => { await assertUnharmed(harness); await harness.instance.close(); });

sizes('413 over the body limit, whether announced by Content-Length or streamed chunked', async () => {
  const huge = Buffer.alloc(5 * 1024 * 1024, 0x61);
  assertErrorBody(await post(harness, { body: huge }), 413, 'payload_too_large');
  const chunked = await new Promise<{ status: number; text: string }>((resolve, reject) => {
    const req = request(`${harness.instance.url}/v1/segment`, { method: 'POST', headers: { 'content-type': 'application/json', 'transfer-encoding': 'chunked' } }, (res) => {
      let text = '';
      res.setEncoding('utf8').on('data', (chunk: string) => (text += chunk)).on('end', () => {
        // The server stopped reading at the limit: drop the half-sent request's socket.
        req.destroy();
        resolve({ status: res.statusCode ?? 0, text });
      });
    });
    req.on('error', (error) => (req.destroyed ? undefined : reject(error)));
    for (let i = 0; i < 16; i += 1) req.write(Buffer.alloc(64 * 1024, 0x61));
    req.end();
  });
  assert.is(chunked.status, 413);
  harness.bodies.push(chunked.text);
  await assertUnharmed(harness);
});

sizes('100k nested arrays or objects anywhere in a body: 400, not a 500 or a crash', async () => {
  const arrays = '['.repeat(100_000) + ']'.repeat(100_000);
  const objects = '{"a":'.repeat(40_000) + '1' + '}'.repeat(40_000);
  const bodies: Array<{ body: string; headers?: Record<string, string>; path?: string }> = [
    { body: arrays, headers: { authorization: `Bearer ${TEST_SECRETS.sharedSecret}` } },
    { body: objects },
    { body: `{"batch":[${arrays}]}` },
    { body: JSON.stringify(buildTrack({ userId: VICTIM })).replace('"properties":{', `"properties":{"deep":${arrays},`) },
    { body: JSON.stringify(buildIdentify({ userId: VICTIM })).replace('"traits":{', `"traits":{"deep":${objects},`) },
    { body: JSON.stringify(buildTrack({ userId: VICTIM })).replace('"context":{', `"context":{"deep":${arrays},`) },
    { path: '/v1/flow-events', body: `{"event":"Flow Viewed","userId":"${VICTIM}","properties":{"flow_id":"f","deep":${arrays}}}`, headers: { authorization: `Bearer ${TEST_SECRETS.apiKey}` } },
    { path: '/v1/events', body: `{"event":"Plan Upgraded","userId":"${VICTIM}","properties":{"deep":${arrays}}}`, headers: { authorization: `Bearer ${TEST_SECRETS.apiKey}` } },
  ];
  for (const init of bodies) assertErrorBody(await post(harness, init), 400, 'too_deeply_nested');
  // A moderately nested value (Segment payloads nest a few levels) is fine.
  const fine = await harness.instance.postSegment(buildTrack({ userId: 'nested-ok', properties: { deep: JSON.parse('['.repeat(20) + ']'.repeat(20)) as JsonValue } }));
  assert.is(fine.status, 200);
  await assertUnharmed(harness);
});

sizes.run();

// ---
const encoding = suite('hostile input: invalid UTF-8 and wrong content types');
encoding.before(async () => { harness = await startHarness(); });
encoding.after(async () => { await assertUnharmed(harness); await harness.instance.close(); });

encoding('invalid UTF-8 bytes (even correctly signed) are a 400', async () => {
  const valid = JSON.stringify(buildIdentify({ userId: VICTIM, traits: { plan: 'MARKER' } }));
  for (const bad of [[0xff], [0xc3, 0x28], [0xed, 0xa0, 0x80], [0xf8, 0x88, 0x80, 0x80, 0x80], [0xc0, 0xaf]]) {
    const [before, after] = valid.split('MARKER') as [string, string];
    const body = Buffer.concat([Buffer.from(before), Buffer.from(bad), Buffer.from(after)]);
    assertErrorBody(await post(harness, { body }), 400, 'invalid_encoding');
  }
  await assertUnharmed(harness);
});

encoding('anything but application/json (or +json) is a 415', async () => {
  const body = JSON.stringify(buildIdentify({ userId: VICTIM, traits: { plan: 'hacked' } }));
  for (const type of ['text/plain', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x', 'application/jsonp', 'text/json', 'json', '']) {
    const headers: Record<string, string> = { 'content-type': type };
    assertErrorBody(await post(harness, { body, headers }), 415, 'unsupported_media_type');
  }
  const plus = await post(harness, { body: JSON.stringify(buildTrack({ userId: 'plus-json' })), headers: { 'content-type': 'application/vnd.segment+json; charset=utf-8' } });
  assert.is(plus.status, 200);
  await assertUnharmed(harness);
});

encoding.run();

// ---
const pollution = suite('hostile input: prototype pollution keys');
pollution.before(async () => { harness = await startHarness(); });
pollution.after(async () => { await assertUnharmed(harness); await harness.instance.close(); });

const HOSTILE = ['__proto__', 'constructor', 'prototype'];
const hostileObject = '{"__proto__":{"polluted":"yes"},"constructor":{"prototype":{"polluted":"yes"}},"prototype":{"polluted":"yes"},"ok":"kept"}';

/** A hostile own key anywhere, or an object whose prototype was swapped by a `__proto__` assignment. */
function hasHostileKey(value: unknown): boolean {
  if (typeof value !== 'object' || value === null) return false;
  const prototype: unknown = Object.getPrototypeOf(value);
  if (prototype !== Object.prototype && prototype !== Array.prototype && prototype !== null) return true;
  return Object.keys(value).some((key) => HOSTILE.includes(key)) || Object.values(value).some(hasHostileKey);
}

pollution('__proto__ / constructor / prototype in traits, properties, context and the envelope pollute nothing and are not stored', async () => {
  const userId = 'pollution-user';
  // JSON.parse makes `__proto__` an own key, and JSON.stringify writes it back out: on the wire as an attacker sends it.
  const hostile = (extra: string): JsonObject => JSON.parse(`${hostileObject.slice(0, -1)},${extra}}`) as JsonObject;
  const identify = JSON.stringify(buildIdentify({ userId, traits: hostile('"plan":"pro","nested":' + hostileObject) }));
  const track = JSON.stringify(buildTrack({ userId, properties: hostile('"nested":' + hostileObject), context: hostile('"library":{"name":"x"}') }));
  const group = JSON.stringify(buildGroup({ userId, groupId: 'grp-1', traits: hostile('"name":"Acme"') }));
  const envelope = `{"__proto__":{"polluted":"yes"},${JSON.stringify(buildPage({ userId })).slice(1)}`;
  for (const body of [identify, track, group, envelope]) {
    const reply = await post(harness, { body });
    assert.is(reply.status, 200, `${reply.text} for ${body.slice(0, 300)}`);
  }
  const batch = `{"__proto__":{"polluted":"yes"},"batch":[${JSON.stringify(buildTrack({ userId, event: '__proto__' }))},${JSON.stringify(buildGroup({ userId, groupId: '__proto__' }))}]}`;
  assert.is((await post(harness, { body: batch })).status, 200);
  const auth = { authorization: `Bearer ${TEST_SECRETS.apiKey}` };
  const flow = await post(harness, { path: '/v1/flow-events', body: `{"event":"Flow Viewed","userId":"${userId}","properties":{"flow_id":"f",${hostileObject.slice(1, -1)}}}`, headers: auth });
  assert.is(flow.status, 202, flow.text);
  assert.is((await post(harness, { path: '/v1/events', body: `{"event":"Anything","userId":"${userId}","properties":${hostileObject}}`, headers: auth })).status, 200);

  assert.is((({}) as Record<string, unknown>)['polluted'], undefined);
  assert.is(Object.prototype.hasOwnProperty.call(Object.prototype, 'polluted'), false);
  const { json } = await harness.instance.api(`/v1/users/${userId}`);
  assert.not.ok(hasHostileKey(json), JSON.stringify(json).slice(0, 500));
  assert.equal((json['traits'] as Record<string, unknown>)['nested'], { ok: 'kept' });
  assert.is((json['traits'] as Record<string, unknown>)['plan'], 'pro');
  const stored = harness.instance.store.get('users', userId);
  assert.ok(stored);
  assert.not.ok(hasHostileKey(stored));
  for (const entry of harness.instance.store.values('outbox')) assert.not.ok(hasHostileKey(entry));
  await assertUnharmed(harness);
});

pollution('userIds named __proto__ or constructor are ordinary keys, and survive a restart', async () => {
  for (const userId of ['__proto__', 'constructor', 'hasOwnProperty']) {
    const reply = await harness.instance.postSegment(buildIdentify({ userId, traits: { plan: 'team' } }));
    assert.is(reply.status, 200);
    const { status, json } = await harness.instance.api(`/v1/users/${userId}`);
    assert.is(status, 200);
    assert.is(json['userId'], userId);
  }
  const config = harness.instance.config;
  await harness.instance.close();
  harness.instance = await startTestInstance(config, { log: createLogger({ level: 'silent' }) });
  for (const userId of ['__proto__', 'constructor', 'hasOwnProperty']) {
    const { status, json } = await harness.instance.api(`/v1/users/${userId}`);
    assert.is(status, 200, userId);
    assert.equal(json['traits'], { plan: 'team' });
  }
  assert.is((({}) as Record<string, unknown>)['polluted'], undefined);
  await assertUnharmed(harness);
});

pollution.run();

// ---
const ids = suite('hostile input: oversized messageIds');
ids.before(async () => { harness = await startHarness(); });
ids.after(async () => { await assertUnharmed(harness); await harness.instance.close(); });

ids('messageIds over 100 characters are a 400 alone, rejected alone in a batch', async () => {
  for (const length of [101, 1_000, 30_000]) {
    const reply = await post(harness, { body: JSON.stringify(buildTrack({ userId: VICTIM, messageId: 'm'.repeat(length) })) });
    assertErrorBody(reply, 400, 'invalid_message');
    assert.ok((reply.json['details'] as Array<{ path: string }>).some((detail) => detail.path === '/messageId'));
  }
  const good = buildTrack({ userId: 'batch-neighbour' });
  const reply = await post(harness, { body: JSON.stringify({ batch: [buildTrack({ userId: VICTIM, messageId: 'x'.repeat(500) }), good] }) });
  assert.is(reply.status, 200);
  assert.is(reply.json['accepted'], 1);
  const rejected = reply.json['rejected'] as Array<{ index: number; messageId: string }>;
  assert.is(rejected[0]?.index, 0);
  assert.ok((rejected[0]?.messageId.length ?? 0) <= 100, 'the echoed messageId is truncated');
  const exactly100 = await harness.instance.postSegment(buildTrack({ userId: 'id-100', messageId: 'k'.repeat(100) }));
  assert.is(exactly100.status, 200);
  await assertUnharmed(harness);
});

ids.run();

// ---
const loris = suite('hostile input: slow-loris body');
loris.before(async () => { harness = await startHarness({ bodyTimeoutMs: 300 }); });
loris.after(async () => { await assertUnharmed(harness); await harness.instance.close(); });

loris('a body dribbled byte by byte is cut off after the body timeout while others are served', async () => {
  const body = JSON.stringify(buildIdentify({ userId: VICTIM, traits: { plan: 'slow-loris' } }));
  const signature = createHmac('sha1', TEST_SECRETS.sharedSecret).update(body).digest('hex');
  const { port } = new URL(harness.instance.url);
  const socket = connect(Number(port), '127.0.0.1');
  let received = '';
  socket.setEncoding('utf8').on('data', (chunk: string) => (received += chunk));
  socket.on('error', () => undefined);
  const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
  socket.write(`POST /v1/segment HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nX-Signature: ${signature}\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n`);
  let sent = 0;
  const drip = setInterval(() => {
    if (sent < body.length - 1 && !socket.destroyed) socket.write(body[sent++] ?? '');
  }, 50);
  try {
    // Meanwhile the instance serves everyone else.
    const other = await harness.instance.postSegment(buildTrack({ userId: 'served-meanwhile' }));
    assert.is(other.status, 200);
    assert.is((await fetch(`${harness.instance.url}/healthz`)).status, 200);
    let cap: NodeJS.Timeout | undefined;
    const cutOff = await Promise.race([closed.then(() => true), new Promise<boolean>((resolve) => (cap = setTimeout(() => resolve(false), 5_000)))]);
    clearTimeout(cap);
    assert.ok(cutOff, 'the server closed the slow connection');
    assert.ok(sent < body.length - 1, 'cut off before the body was complete');
    assert.not.match(received, /^HTTP\/1\.1 2/, 'never acknowledged');
  } finally {
    clearInterval(drip);
    socket.destroy();
  }
  await assertUnharmed(harness);
});

loris.run();

// ---
const forged = suite('hostile input: forged and replayed signatures');
forged.before(async () => { harness = await startHarness(); });
forged.after(async () => { await assertUnharmed(harness); await harness.instance.close(); });

forged('forged signatures and tokens are a 401 that names no secret', async () => {
  const body = JSON.stringify(buildIdentify({ userId: VICTIM, traits: { plan: 'forged' } }));
  const hmac = (secret: string, algorithm = 'sha1') => createHmac(algorithm, secret).update(body).digest('hex');
  const valid = hmac(TEST_SECRETS.sharedSecret);
  const attempts: Array<Record<string, string>> = [
    {},
    { 'x-signature': hmac('a-guessed-secret-0000') },
    { 'x-signature': hmac(TEST_SECRETS.apiKey) },
    { 'x-signature': valid.slice(0, 39) },
    { 'x-signature': `sha1=${valid}` },
    { 'x-signature': hmac(TEST_SECRETS.sharedSecret, 'sha256') },
    { 'x-signature': '0'.repeat(40) },
    { 'x-signature': createHmac('sha1', TEST_SECRETS.sharedSecret).update(`${body} `).digest('hex') },
    { authorization: `Bearer ${TEST_SECRETS.apiKey}` },
    { authorization: `Bearer ${TEST_SECRETS.sharedSecret}x` },
    { authorization: `Basic ${Buffer.from(`${TEST_SECRETS.sharedSecret}:`).toString('base64')}` },
    { authorization: `Bearer ${TEST_SECRETS.writeKey}`, 'x-signature': hmac(TEST_SECRETS.writeKey) },
  ];
  for (const headers of attempts) assertErrorBody(await post(harness, { body, headers, sign: false }), 401);
  await assertUnharmed(harness);
});

forged('a valid signature of body A sent with body B is a 401', async () => {
  const bodyA = JSON.stringify(buildTrack({ userId: 'someone-else', event: 'Harmless' }));
  const bodyB = JSON.stringify(buildDelete({ userId: VICTIM, timestamp: new Date().toISOString() }));
  const signatureA = createHmac('sha1', TEST_SECRETS.sharedSecret).update(bodyA).digest('hex');
  assertErrorBody(await post(harness, { body: bodyB, headers: { 'x-signature': signatureA }, sign: false }), 401, 'bad_signature');
  // The same body with one byte changed (whitespace) is B too.
  assertErrorBody(await post(harness, { body: `${bodyA} `, headers: { 'x-signature': signatureA }, sign: false }), 401);
  await assertUnharmed(harness);
});

forged('replaying an identical signed request is harmless: 200 then a duplicate, applied once', async () => {
  const message = buildTrack({ userId: 'replayed-user', event: 'Counted', messageId: nextMessageId('replay') });
  const body = JSON.stringify(message);
  const first = await post(harness, { body });
  assert.equal(first.json, { accepted: 1, duplicates: 0, ignored: 0, rejected: [] });
  for (let i = 0; i < 3; i += 1) {
    const again = await post(harness, { body });
    assert.equal(again.json, { accepted: 0, duplicates: 1, ignored: 0, rejected: [] });
  }
  const { json } = await harness.instance.api('/v1/users/replayed-user');
  assert.equal((json['counts'] as { byEvent: Record<string, number> }).byEvent, { Counted: 1 });
  await assertUnharmed(harness);
});

forged.run();
