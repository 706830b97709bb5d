/**
 * POST /v1/segment over real HTTP on 127.0.0.1 with a real store in a temp dir:
 * authentication, body shapes, status codes, dedupe, order independence, merges, deletes.
 */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { createHmac } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { startTestInstance, type TestInstance } from './support/instance.ts';
import type { LowdbRecordStore } from '../src/adapters/lowdb-record-store.ts';
import type { BridgeSchema } from '../src/domain/bridge-schema.ts';
import { TEST_SECRETS } from './support/config.ts';
import { ANONYMOUS_ID, USER_ID, at, buildAlias, buildDelete, buildGroup, buildIdentify, buildPage, buildTrack } from './support/build-message.ts';

/** HMAC-SHA1 hex computed here, independently of src/. */
function independentSignature(body: string, secret: string = TEST_SECRETS.sharedSecret): string {
  return createHmac('sha1', secret).update(Buffer.from(body, 'utf8')).digest('hex');
}

async function rawPost(instance: TestInstance, init: { body: string; headers: Record<string, string> }): Promise<{ status: number; json: Record<string, unknown> }> {
  const response = await fetch(`${instance.url}/v1/segment`, { method: 'POST', headers: init.headers, body: init.body });
  return { status: response.status, json: (await response.json()) as Record<string, unknown> };
}

async function user(instance: TestInstance, userId: string): Promise<Record<string, unknown> & { traits: Record<string, unknown>; counts: { total: number; byType: Record<string, number>; byEvent: Record<string, number> } }> {
  const { status, json } = await instance.api(`/v1/users/${encodeURIComponent(userId)}`);
  assert.is(status, 200, `GET /v1/users/${userId}`);
  return json as never;
}

// ---
const auth = suite('authentication');
let instance: TestInstance;
auth.before(async () => { instance = await startTestInstance(); });
auth.after(async () => { await instance.close(); });

auth('accepts a body signed with X-Signature computed independently over the raw bytes', async () => {
  const body = JSON.stringify(buildIdentify({ traits: { plan: 'pro' } }));
  const res = await rawPost(instance, { body, headers: { 'content-type': 'application/json', 'x-signature': independentSignature(body) } });
  assert.is(res.status, 200);
  assert.equal(res.json, { accepted: 1, duplicates: 0, ignored: 0, rejected: [] });
});

auth('401 without credentials, with a wrong signature, or with a tampered body', async () => {
  const body = JSON.stringify(buildTrack());
  const none = await rawPost(instance, { body, headers: { 'content-type': 'application/json' } });
  assert.is(none.status, 401);
  assert.is(none.json['error'], 'bad_signature');
  const wrong = await rawPost(instance, { body, headers: { 'content-type': 'application/json', 'x-signature': independentSignature(body, 'another-secret-123456') } });
  assert.is(wrong.status, 401);
  const tampered = await rawPost(instance, { body: body.replace('Signed Up', 'Signed Out'), headers: { 'content-type': 'application/json', 'x-signature': independentSignature(body) } });
  assert.is(tampered.status, 401);
  assert.not.ok(JSON.stringify(wrong.json).includes(TEST_SECRETS.sharedSecret), 'no secret in the error body');
});

auth('an array body signed only by X-Signature is refused with a message saying why', async () => {
  const items = [buildTrack(), buildTrack()];
  const body = JSON.stringify(items);
  const res = await rawPost(instance, { body, headers: { 'content-type': 'application/json', 'x-signature': independentSignature(JSON.stringify(items[0])) } });
  assert.is(res.status, 401);
  assert.match(String(res.json['message']), /bearer/i);
  const ok = await instance.postSegment(items, { sign: 'bearer' });
  assert.is(ok.status, 200);
  assert.is(ok.json['accepted'], 2);
});

auth('bearer token with the wrong secret is refused', async () => {
  const res = await instance.postSegment(buildTrack(), { sign: 'bearer', secret: 'not-the-shared-secret-xx' });
  assert.is(res.status, 401);
});

auth.run();

// ---
const statuses = suite('status codes');
statuses.before(async () => { instance = await startTestInstance({ bodyLimitBytes: 4096 }); });
statuses.after(async () => { await instance.close(); });

statuses('400 on malformed JSON with the parser reason', async () => {
  const body = '{"type":"track",';
  const res = await rawPost(instance, { body, headers: { 'content-type': 'application/json', 'x-signature': independentSignature(body) } });
  assert.is(res.status, 400);
  assert.is(res.json['error'], 'malformed_json');
  assert.ok(Array.isArray(res.json['details']));
});

statuses('400 on a single message violating the spec, naming the field', async () => {
  const res = await instance.postSegment(buildTrack({ event: undefined }));
  assert.is(res.status, 400);
  const details = res.json['details'] as Array<{ path: string; message: string }>;
  assert.ok(details.some((detail) => detail.path === '/event'), JSON.stringify(details));
});

statuses('400 on a message without userId and anonymousId, and on a 101-character messageId', async () => {
  const anonymous = await instance.postSegment(buildTrack({ userId: undefined }));
  assert.is(anonymous.status, 400);
  const longId = await instance.postSegment(buildTrack({ messageId: 'x'.repeat(101) }));
  assert.is(longId.status, 400);
  assert.ok((longId.json['details'] as Array<{ path: string }>).some((detail) => detail.path === '/messageId'));
});

statuses('413 over the body limit, 415 when not JSON', async () => {
  const big = await instance.postSegment(buildTrack({ properties: { blob: 'x'.repeat(5000) } }));
  assert.is(big.status, 413);
  assert.is(big.json['error'], 'payload_too_large');
  const body = JSON.stringify(buildTrack());
  const text = await rawPost(instance, { body, headers: { 'content-type': 'text/plain', 'x-signature': independentSignature(body) } });
  assert.is(text.status, 415);
});

statuses('a batch with one invalid message rejects it alone and keeps it in the rejections log', async () => {
  const good1 = buildTrack({ userId: 'batch-user' });
  const bad = buildTrack({ userId: 'batch-user', event: 42 });
  const good2 = buildIdentify({ userId: 'batch-user', traits: { plan: 'team' } });
  const res = await instance.postSegment({ batch: [good1, bad, good2] });
  assert.is(res.status, 200);
  assert.is(res.json['accepted'], 2);
  const rejected = res.json['rejected'] as Array<{ index: number; messageId: string; errors: Array<{ path: string }> }>;
  assert.is(rejected.length, 1);
  assert.is(rejected[0]?.index, 1);
  assert.is(rejected[0]?.messageId, bad['messageId']);
  assert.ok(rejected[0]?.errors.some((error) => error.path === '/event'));
  const stored = [...instance.store.values('rejections')];
  assert.ok(stored.some((rejection) => rejection.messageId === bad['messageId']), 'kept in the rejections log');
  const profile = await user(instance, 'batch-user');
  assert.is(profile.counts.total, 2);
});

statuses.run();

// ---
const semantics = suite('dedupe, ordering, identity');
semantics.before(async () => { instance = await startTestInstance(); });
semantics.after(async () => { await instance.close(); });

semantics('a messageId seen before is acknowledged as a duplicate and not applied again', async () => {
  const track = buildTrack({ userId: 'dup-user', event: 'Report Exported' });
  const first = await instance.postSegment(track);
  const second = await instance.postSegment(track);
  assert.equal(first.json, { accepted: 1, duplicates: 0, ignored: 0, rejected: [] });
  assert.equal(second.json, { accepted: 0, duplicates: 1, ignored: 0, rejected: [] });
  const inBatch = await instance.postSegment([track, buildTrack({ userId: 'dup-user', event: 'Report Exported' })]);
  assert.is(inBatch.json['duplicates'], 1);
  assert.is(inBatch.json['accepted'], 1);
  const profile = await user(instance, 'dup-user');
  assert.is(profile.counts.byEvent['Report Exported'], 2);
});

semantics('an older identify arriving late does not overwrite newer traits', async () => {
  await instance.postSegment(buildIdentify({ userId: 'order-user', timestamp: at(10), traits: { plan: 'enterprise', seats: 50 } }));
  await instance.postSegment(buildIdentify({ userId: 'order-user', timestamp: at(1), traits: { plan: 'free', seats: 1, locale: 'fr' } }));
  const profile = await user(instance, 'order-user');
  assert.is(profile.traits['plan'], 'enterprise');
  assert.is(profile.traits['seats'], 50);
  assert.is(profile.traits['locale'], 'fr', 'a trait only the older call set is still recorded');
  assert.is(profile['firstSeenAt'], at(1));
  assert.is(profile['lastSeenAt'], at(10));
});

semantics('anonymous history merges into the user when identify links the two', async () => {
  const anonymousId = 'anon-merge-1';
  await instance.postSegment(buildPage({ userId: undefined, anonymousId, timestamp: at(0) }));
  await instance.postSegment(buildTrack({ userId: undefined, anonymousId, event: 'Pricing Viewed', timestamp: at(1) }));
  assert.is((await instance.api('/v1/users/merge-user')).status, 404);
  await instance.postSegment(buildIdentify({ userId: 'merge-user', anonymousId, timestamp: at(2), traits: { email: 'm@example.com' } }));
  await instance.postSegment(buildTrack({ userId: undefined, anonymousId, event: 'After Link', timestamp: at(3) }));
  const profile = await user(instance, 'merge-user');
  assert.equal(profile['anonymousIds'], [anonymousId]);
  assert.is(profile.counts.total, 4);
  assert.is(profile.counts.byEvent['Pricing Viewed'], 1);
  assert.is(profile.counts.byEvent['After Link'], 1, 'later anonymous events follow the link');
  assert.is(instance.store.get('anons', anonymousId), undefined, 'the anonymous profile is gone');
});

semantics('alias moves a previous userId and its history to the new one', async () => {
  await instance.postSegment(buildTrack({ userId: 'legacy-42', event: 'Old Event', timestamp: at(0) }));
  await instance.postSegment(buildAlias({ userId: 'new-42', previousId: 'legacy-42', timestamp: at(1) }));
  await instance.postSegment(buildTrack({ userId: 'legacy-42', event: 'Late Legacy Call', timestamp: at(2) }));
  const profile = await user(instance, 'new-42');
  assert.is(profile.counts.byEvent['Old Event'], 1);
  assert.is(profile.counts.byEvent['Late Legacy Call'], 1);
  assert.ok((profile['aliases'] as string[]).includes('legacy-42'));
  const viaOldId = await user(instance, 'legacy-42');
  assert.is(viaOldId['userId'], 'new-42');
});

semantics('group calls record the group and its traits on the user', async () => {
  await instance.postSegment(buildGroup({ userId: 'group-user', groupId: 'grp-9', traits: { name: 'Nine', plan: 'pro' } }));
  const profile = await user(instance, 'group-user');
  const groups = profile['groups'] as Array<{ groupId: string; traits: Record<string, unknown> }>;
  assert.is(groups[0]?.groupId, 'grp-9');
  assert.is(groups[0]?.traits['plan'], 'pro');
});

semantics('delete erases the user and a late retry of an older message does not recreate it', async () => {
  const older = buildTrack({ userId: 'gone-user', anonymousId: 'gone-anon', timestamp: at(0) });
  await instance.postSegment(older);
  await instance.postSegment(buildDelete({ userId: 'gone-user', timestamp: at(5) }));
  assert.is((await instance.api('/v1/users/gone-user')).status, 404);
  const lateRetry = await instance.postSegment(buildTrack({ userId: 'gone-user', timestamp: at(1) }));
  assert.is(lateRetry.json['ignored'], 1);
  const lateAnonymous = await instance.postSegment(buildTrack({ userId: undefined, anonymousId: 'gone-anon', timestamp: at(2) }));
  assert.is(lateAnonymous.json['ignored'], 1);
  assert.is((await instance.api('/v1/users/gone-user')).status, 404);
  assert.ok(instance.store.get('tombstones', 'user:gone-user'));
  const newer = await instance.postSegment(buildTrack({ userId: 'gone-user', timestamp: at(9) }));
  assert.is(newer.json['accepted'], 1, 'activity after the deletion is a new profile');
});

semantics('messages the bridge itself sent are recognised by the loop marker and ignored', async () => {
  const echo = buildTrack({ userId: 'loop-user', event: 'Flow Completed', context: { segmentBridge: { origin: 'segment-bridge', environment: 'staging' } } });
  const res = await instance.postSegment(echo);
  assert.equal(res.json, { accepted: 0, duplicates: 0, ignored: 1, rejected: [] });
  assert.is((await instance.api('/v1/users/loop-user')).status, 404);
  const sameNameFromCustomer = await instance.postSegment(buildTrack({ userId: 'loop-user', event: 'Flow Completed' }));
  assert.is(sameNameFromCustomer.json['accepted'], 1, 'recognised by marker, not by event name');
});

semantics('every fixture in fixtures/segment is accepted', async () => {
  const names = ['segment/identify', 'segment/track', 'segment/page', 'segment/screen', 'segment/group', 'segment/alias', 'segment/anonymous-track', 'segment/batch'];
  for (const name of names) {
    const body = JSON.parse(await readFile(new URL(`../fixtures/${name}.json`, import.meta.url), 'utf8')) as unknown;
    const res = await instance.postSegment(body);
    assert.is(res.status, 200, `${name}: ${JSON.stringify(res.json)}`);
    assert.equal(res.json['rejected'], [], name);
    assert.is(res.json['ignored'], 0, name);
  }
  const profile = await user(instance, USER_ID);
  assert.ok((profile['anonymousIds'] as string[]).includes(ANONYMOUS_ID), 'the anonymous visit merged into the user');
  const deletion = JSON.parse(await readFile(new URL('../fixtures/segment/deletion/delete.json', import.meta.url), 'utf8')) as unknown;
  assert.is((await instance.postSegment(deletion)).json['accepted'], 1);
  assert.is((await instance.api(`/v1/users/${USER_ID}`)).status, 404, 'delete.json erased the fixture user');
});

semantics.run();

// ---
const burst = suite('a concurrent burst');
burst.before(async () => { instance = await startTestInstance(); });
burst.after(async () => { await instance.close(); });

burst('500 signed requests at once: every one acknowledged, applied once, durable, with few fsyncs', async () => {
  const store = instance.store as unknown as LowdbRecordStore<BridgeSchema>;
  const fsyncsBefore = store.stats().fsyncs;
  const messages = Array.from({ length: 500 }, (_, i) => buildTrack({ userId: `burst-${i % 50}`, event: 'Burst Event', timestamp: at(i) }));
  const responses = await Promise.all(messages.map((message) => instance.postSegment(message)));
  assert.ok(responses.every((res) => res.status === 200 && res.json['accepted'] === 1), 'all 500 accepted');
  const fsyncs = store.stats().fsyncs - fsyncsBefore;
  assert.ok(fsyncs < 400, `group commit shares fsyncs between requests (${fsyncs} for 500 requests)`);

  await instance.close();
  instance = await startTestInstance({ dataDir: instance.config.dataDir });
  let total = 0;
  for (let u = 0; u < 50; u += 1) total += (await user(instance, `burst-${u}`)).counts.byEvent['Burst Event'] ?? 0;
  assert.is(total, 500, 'after a restart every acknowledged message is there exactly once');
  const again = await Promise.all(messages.slice(0, 20).map((message) => instance.postSegment(message)));
  assert.ok(again.every((res) => res.json['duplicates'] === 1), 'Segment retries of acknowledged messages are duplicates');
});

burst.run();
