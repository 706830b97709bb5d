import { readFile } from 'node:fs/promises';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import {
  extractMessages,
  MAX_MESSAGE_BYTES,
  parseSegmentMessage,
  SEGMENT_CALL_TYPES,
  type AliasMessage,
  type MessageError,
  type TrackMessage,
} from '../src/domain/segment-message.ts';
import {
  ANONYMOUS_ID,
  buildAlias,
  buildDelete,
  buildGroup,
  buildIdentify,
  buildPage,
  buildScreen,
  buildTrack,
  parsed,
  USER_ID,
  type Overrides,
} from './support/build-message.ts';

const fixturesDir = new URL('../fixtures/segment/', import.meta.url);

/** `delete.json` lives apart (fixtures/segment/deletion/) so replaying fixtures/segment keeps the demo user. */
async function fixture(name: string): Promise<unknown> {
  const url = name === 'delete.json' ? new URL('../fixtures/segment/deletion/delete.json', import.meta.url) : new URL(name, fixturesDir);
  return JSON.parse(await readFile(url, 'utf8'));
}

function errorsOf(input: unknown): MessageError[] {
  const result = parseSegmentMessage(input);
  if (result.ok) throw new Error(`expected ${JSON.stringify(input).slice(0, 120)} to be rejected`);
  return result.errors;
}

function assertError(input: unknown, path: string, includes: string): void {
  const errors = errorsOf(input);
  const hit = errors.find((error) => error.path === path);
  assert.ok(hit, `expected an error at ${path}, got ${JSON.stringify(errors)}`);
  assert.ok(hit.message.includes(includes), `"${hit.message}" should include "${includes}"`);
}

// ---
const fixtures = suite('fixtures: every call type parses');

for (const type of SEGMENT_CALL_TYPES) {
  fixtures(`${type}.json`, async () => {
    const message = parsed(await fixture(`${type}.json`));
    assert.is(message.type, type);
    assert.ok(message.messageId.length > 0);
    assert.is(message.timestamp, new Date(message.timestamp).toISOString());
  });
}

fixtures('anonymous-track.json: null userId is dropped, anonymousId kept, extras preserved', async () => {
  const message = parsed(await fixture('anonymous-track.json'));
  assert.is(message.type, 'track');
  assert.is(message.anonymousId, ANONYMOUS_ID);
  assert.not.ok('userId' in message);
  assert.ok(Object.hasOwn(message, '_metadata'), 'unknown Segment fields are kept');
});

fixtures('identify.json links the anonymous visitor to the shared user', async () => {
  const message = parsed(await fixture('identify.json'));
  assert.is(message.userId, USER_ID);
  assert.is(message.anonymousId, ANONYMOUS_ID);
});

fixtures('batch.json is an array whose every message parses', async () => {
  const extracted = extractMessages(await fixture('batch.json'));
  assert.ok(extracted.ok);
  if (!extracted.ok) return;
  assert.is(extracted.kind, 'array');
  assert.ok(extracted.items.length >= 3);
  for (const item of extracted.items) assert.ok(parseSegmentMessage(item).ok, JSON.stringify(item));
});

fixtures.run();

// ---
const required = suite('required fields: breaking one rule names the field');

const cases: Array<[string, () => unknown, string, string]> = [
  ['track without event', () => buildTrack({ event: undefined }), '/event', 'is required for track calls'],
  ['track with empty event', () => buildTrack({ event: '' }), '/event', 'must not be empty'],
  ['track with numeric event', () => buildTrack({ event: 42 }), '/event', 'must be a string'],
  ['group without groupId', () => buildGroup({ groupId: undefined }), '/groupId', 'is required for group calls'],
  ['alias without userId', () => buildAlias({ userId: undefined }), '/userId', 'is required for alias calls'],
  ['alias without previousId', () => buildAlias({ previousId: undefined }), '/previousId', 'is required for alias calls'],
  ['delete without userId', () => buildDelete({ userId: undefined }), '/userId', 'is required for delete calls'],
  ['identify without any id', () => buildIdentify({ userId: undefined }), '/userId', 'userId or anonymousId'],
  ['track with empty ids', () => buildTrack({ userId: '', anonymousId: '' }), '/userId', 'userId or anonymousId'],
  ['page with null ids', () => buildPage({ userId: null, anonymousId: null }), '/userId', 'userId or anonymousId'],
  ['screen without any id', () => buildScreen({ userId: undefined }), '/userId', 'required for screen calls'],
  ['group without any id', () => buildGroup({ userId: undefined }), '/userId', 'required for group calls'],
  ['missing messageId', () => buildTrack({ messageId: undefined }), '/messageId', 'is required'],
  ['numeric messageId', () => buildTrack({ messageId: 7 }), '/messageId', 'must be a string'],
  ['empty messageId', () => buildTrack({ messageId: '' }), '/messageId', 'must not be empty'],
  ['unknown type', () => buildTrack({ type: 'purchase' }), '/type', 'must be one of: identify, track, page, screen, group, alias, delete'],
  ['missing type', () => buildTrack({ type: undefined }), '/type', 'is required'],
  ['array traits', () => buildIdentify({ traits: ['a'] }), '/traits', 'must be a JSON object'],
  ['string traits', () => buildIdentify({ traits: 'vip' }), '/traits', 'must be a JSON object'],
  ['string properties', () => buildTrack({ properties: 'x' }), '/properties', 'must be a JSON object'],
  ['null context', () => buildTrack({ context: null }), '/context', 'must be a JSON object'],
  ['bad timestamp', () => buildTrack({ timestamp: 'yesterday' }), '/timestamp', 'ISO-8601'],
  ['timestamp without zone', () => buildTrack({ timestamp: '2025-03-10T09:15:00' }), '/timestamp', 'ISO-8601'],
  ['bad sentAt', () => buildTrack({ sentAt: '10/03/2025' }), '/sentAt', 'ISO-8601'],
  ['boolean version', () => buildTrack({ version: true }), '/version', 'must be a number or a string'],
];

for (const [name, build, path, message] of cases) {
  required(name, () => {
    assertError(build(), path, message);
  });
}

required('every builder is valid before it is broken', () => {
  for (const build of [buildIdentify, buildTrack, buildPage, buildScreen, buildGroup, buildAlias, buildDelete]) {
    const result = parseSegmentMessage(build());
    assert.ok(result.ok, JSON.stringify(result));
  }
});

required('a non-object message is rejected at the root', () => {
  for (const input of [null, 42, 'track', [buildTrack()]]) assertError(input, '', 'JSON object');
});

required('errors are deduplicated and say nothing about ajv internals', () => {
  const errors = errorsOf(buildTrack({ userId: undefined }));
  assert.equal(errors, [{ path: '/userId', message: 'userId or anonymousId (a non-empty string) is required for track calls' }]);
});

required.run();

// ---
const limits = suite('limits: messageId length and message size');

limits('a 100-character messageId is accepted, 101 is rejected', () => {
  assert.ok(parseSegmentMessage(buildTrack({ messageId: 'm'.repeat(100) })).ok);
  assertError(buildTrack({ messageId: 'm'.repeat(101) }), '/messageId', 'must be at most 100 characters');
});

/** A track call whose JSON is exactly `bytes` long. */
function trackOfSize(bytes: number): unknown {
  const message = buildTrack({ properties: { padding: '' } });
  const overhead = Buffer.byteLength(JSON.stringify(message));
  return buildTrack({ messageId: String(message['messageId']), properties: { padding: 'x'.repeat(bytes - overhead) } });
}

limits('exactly 32 KB is accepted; one byte more is rejected at the root', () => {
  const atLimit = trackOfSize(MAX_MESSAGE_BYTES);
  assert.is(Buffer.byteLength(JSON.stringify(atLimit)), MAX_MESSAGE_BYTES);
  assert.ok(parseSegmentMessage(atLimit).ok);
  assertError(trackOfSize(MAX_MESSAGE_BYTES + 1), '', 'at most 32768 bytes');
});

limits('size counts UTF-8 bytes, not characters', () => {
  const message = buildTrack({ properties: { text: 'é'.repeat(17_000) } }); // 17k chars, 34k bytes
  assert.ok(JSON.stringify(message).length < MAX_MESSAGE_BYTES);
  assertError(message, '', '32 KB');
});

limits.run();

// ---
const normalise = suite('normalisation: timestamps, ids, defaults');

normalise('timestamp falls back to originalTimestamp, then receivedAt, then sentAt, then the bridge receipt time', () => {
  const times = {
    originalTimestamp: '2025-03-10T09:00:00.000Z',
    receivedAt: '2025-03-10T09:00:02.000Z',
    sentAt: '2025-03-10T09:00:01.000Z',
  };
  const base = { timestamp: undefined, ...times };
  assert.is(parsed(buildTrack(base)).timestamp, times.originalTimestamp);
  assert.is(parsed(buildTrack({ ...base, originalTimestamp: undefined })).timestamp, times.receivedAt);
  assert.is(parsed(buildTrack({ ...base, originalTimestamp: undefined, receivedAt: undefined })).timestamp, times.sentAt);
  const bare = buildTrack({ timestamp: undefined });
  const withReceipt = parseSegmentMessage(bare, { receivedAt: '2025-03-10T10:00:00.000Z' });
  assert.ok(withReceipt.ok && withReceipt.message.timestamp === '2025-03-10T10:00:00.000Z');
  assertError(bare, '/timestamp', 'is required');
});

normalise('an explicit timestamp wins and is normalised to UTC; raw fields are kept', () => {
  const message = parsed(buildTrack({ timestamp: '2025-03-10T10:15:00+01:00', originalTimestamp: '2025-03-10T08:00:00Z' }));
  assert.is(message.timestamp, '2025-03-10T09:15:00.000Z');
  assert.is(message.originalTimestamp, '2025-03-10T08:00:00Z');
});

normalise('numeric groupId becomes a string', () => {
  const message = parsed(buildGroup({ groupId: 12 }));
  assert.ok(message.type === 'group' && message.groupId === '12');
});

normalise('version may be a number or a string', () => {
  assert.is(parsed(buildTrack({ version: 2 })).version, 2);
  assert.is(parsed(buildTrack({ version: '1.1' })).version, '1.1');
});

normalise('null userId with an anonymousId is anonymous; empty anonymousId next to a userId is dropped', () => {
  const anonymous = parsed(buildTrack({ userId: null, anonymousId: ANONYMOUS_ID }));
  assert.is(anonymous.userId, undefined);
  assert.is(anonymous.anonymousId, ANONYMOUS_ID);
  const known = parsed(buildTrack({ anonymousId: '' }));
  assert.not.ok('anonymousId' in known);
});

normalise('traits and properties default to empty objects; null page name is dropped', () => {
  const identify = parsed(buildIdentify({ traits: undefined }));
  assert.ok(identify.type === 'identify' && Object.keys(identify.traits).length === 0);
  const track = parsed(buildTrack({ properties: undefined }));
  assert.ok(track.type === 'track');
  assert.equal(track.type === 'track' ? track.properties : null, {});
  const page = parsed(buildPage({ name: null }));
  assert.not.ok('name' in page);
});

normalise('parsing does not mutate the input', () => {
  const input = buildGroup({ groupId: 12, timestamp: '2025-03-10T10:15:00+01:00', userId: USER_ID, anonymousId: '' });
  const before = JSON.stringify(input);
  parsed(input);
  assert.is(JSON.stringify(input), before);
});

normalise.run();

// ---
const hostile = suite('hostile keys never reach a prototype');

hostile('__proto__ / constructor / prototype keys are removed at every depth', () => {
  const wire: unknown = JSON.parse(
    `{"type":"track","messageId":"m-hostile","userId":"u1","event":"E","timestamp":"2025-03-10T09:15:00Z",
      "__proto__":{"pollutedTop":true},
      "properties":{"__proto__":{"polluted":true},"constructor":{"prototype":{"polluted2":true}},"ok":{"__proto__":{"deep":1},"x":1}}}`,
  );
  const message = parsed(wire);
  assert.ok(message.type === 'track');
  if (message.type !== 'track') return;
  assert.equal(Object.keys(message.properties), ['ok']);
  assert.not.ok(Object.hasOwn(message, '__proto__'));
  assert.equal(message.properties['ok'], { x: 1 });
  assert.is(Object.getPrototypeOf(message.properties), Object.prototype);
  const probe: Record<string, unknown> = {};
  assert.is(probe['polluted'], undefined);
  assert.is(probe['polluted2'], undefined);
  assert.is(probe['pollutedTop'], undefined);
  assert.is(probe['deep'], undefined);
});

hostile.run();

// ---
const bodies = suite('extractMessages: the three body shapes');

bodies('a single object', () => {
  const body = buildTrack();
  assert.equal(extractMessages(body), { ok: true, kind: 'single', items: [body] });
});

bodies('a JSON array (Webhooks Actions batching), including an empty one', () => {
  const items = [buildTrack(), buildPage()];
  assert.equal(extractMessages(items), { ok: true, kind: 'array', items });
  assert.equal(extractMessages([]), { ok: true, kind: 'array', items: [] });
});

bodies('{"batch": [...]} (HTTP API shape)', () => {
  const items = [buildIdentify(), buildTrack()];
  assert.equal(extractMessages({ batch: items, sentAt: '2025-03-10T09:15:00Z' }), { ok: true, kind: 'batch', items });
});

bodies('an object with both type and batch is a single message', () => {
  const body = buildTrack({ batch: 'not-a-batch' } satisfies Overrides);
  const result = extractMessages(body);
  assert.ok(result.ok && result.kind === 'single');
});

bodies('anything else is an error value', () => {
  for (const body of [42, 'track', null, true, undefined]) {
    const result = extractMessages(body);
    assert.ok(!result.ok, JSON.stringify(body));
    if (!result.ok) {
      assert.is(result.error.path, '');
      assert.match(result.error.message, /array of messages/);
    }
  }
  const badBatch = extractMessages({ batch: 'x' });
  assert.equal(badBatch, { ok: false, error: { path: '/batch', message: 'must be an array of Segment messages' } });
});

bodies.run();

// ---
const types = suite('types: the identity rule lives in the type (checked by tsc)');

types('a track call needs userId or anonymousId; alias needs userId and previousId', () => {
  const common = { messageId: 'm1', timestamp: '2025-03-10T09:15:00.000Z', event: 'E', properties: {} };
  const anonymous: TrackMessage = { ...common, type: 'track', anonymousId: ANONYMOUS_ID };
  const known: TrackMessage = { ...common, type: 'track', userId: USER_ID };
  // @ts-expect-error neither userId nor anonymousId
  const nobody: TrackMessage = { ...common, type: 'track' };
  // @ts-expect-error alias without previousId
  const alias: AliasMessage = { messageId: 'm2', timestamp: common.timestamp, type: 'alias', userId: USER_ID };
  assert.equal([anonymous.anonymousId, known.userId, nobody.type, alias.type], [ANONYMOUS_ID, USER_ID, 'track', 'alias']);
});

types.run();
