/**
 * The source side over real HTTP: POST /v1/flow-events -> durable outbox -> analytics-node ->
 * a local stand-in for Segment's tracking API. Outages, restarts, wrong keys, echoes.
 */
import { suite } from 'uvu';
import { waitFor } from './support/wait-for.ts';
import * as assert from 'uvu/assert';
import { SegmentStandin } from './support/segment-standin.ts';
import { startTestInstance, type TestInstance } from './support/instance.ts';
import { tempDir, testConfig, TEST_SECRETS } from './support/config.ts';

function flowEvent(overrides: Record<string, unknown> = {}) {
  return { event: 'Flow Completed', userId: 'user-42', properties: { flow_id: 'onboarding', steps: 4 }, timestamp: '2026-11-01T10:00:00.000Z', ...overrides };
}

async function configFor(standin: SegmentStandin, overrides: Parameters<typeof testConfig>[0] = {}) {
  const config = await testConfig(overrides);
  return { ...config, segment: { ...config.segment, host: standin.url, flushAt: 50, flushIntervalMs: 10 } };
}

let standin: SegmentStandin;
let instance: TestInstance;

// ---
const delivery = suite('delivery to Segment');
delivery.before(async () => {
  standin = await SegmentStandin.start({ writeKeys: [TEST_SECRETS.writeKey] });
  instance = await startTestInstance(await configFor(standin, { events: { 'Flow Dismissed': { disabled: true }, 'Flow Completed': { rename: 'Onboarding Flow Completed' } } }));
});
delivery.after(async () => {
  await instance.close();
  await standin.close();
});

delivery('an accepted event is sent with the shared userId, renamed, with its messageId, timestamp and environment', async () => {
  const res = await instance.api('/v1/flow-events', { body: flowEvent({ messageId: 'flow-msg-1' }) });
  assert.is(res.status, 202);
  assert.is(res.json['queued'], 1);
  const [event] = await standin.waitFor(1);
  assert.ok(event);
  assert.is(event['userId'], 'user-42');
  assert.is(event['event'], 'Onboarding Flow Completed');
  assert.is(event['messageId'], 'flow-msg-1');
  assert.is(event['timestamp'], '2026-11-01T10:00:00.000Z');
  assert.equal(event['properties'], { flow_id: 'onboarding', steps: 4, environment: 'staging' });
  assert.equal((event['context'] as Record<string, unknown>)['segmentBridge'], { origin: 'segment-bridge', environment: 'staging' });
  assert.ok(standin.requests().every((request) => request.writeKey === TEST_SECRETS.writeKey));
  await waitFor(() => instance.store.count('outbox') === 0);
  const profile = await instance.api('/v1/users/user-42');
  const history = profile.json['flowHistory'] as Array<{ messageId: string; status: string }>;
  assert.equal(history.map((entry) => [entry.messageId, entry.status]), [['flow-msg-1', 'delivered']]);
});

delivery('a disabled event is accepted but never sent; a repeated messageId is not queued twice', async () => {
  const before = standin.events().length;
  const res = await instance.api('/v1/flow-events', { body: [flowEvent({ event: 'Flow Dismissed', messageId: 'dismiss-1' }), flowEvent({ messageId: 'flow-msg-1' })] });
  assert.is(res.status, 202);
  assert.is(res.json['queued'], 0);
  assert.is(res.json['disabled'], 1);
  assert.is(res.json['duplicates'], 1);
  await instance.outbox.runCycle();
  assert.is(standin.events().length, before);
});

delivery('unknown events and missing required properties are 400 with the path', async () => {
  const res = await instance.api('/v1/flow-events', { body: [flowEvent(), flowEvent({ event: 'Flow Exploded' }), { event: 'Response Submitted', userId: 'u', properties: { flow_id: 'f' } }] });
  assert.is(res.status, 400);
  const paths = (res.json['details'] as Array<{ path: string }>).map((detail) => detail.path);
  assert.ok(paths.includes('/1/event'), paths.join());
  assert.ok(paths.includes('/2/properties/response_id'), paths.join());
  const noKey = await instance.api('/v1/flow-events', { body: flowEvent(), token: 'wrong-key-0000000000000' });
  assert.is(noKey.status, 401);
});

delivery('an echo of a delivered event through the Webhooks destination is ignored', async () => {
  const [sent] = standin.events();
  assert.ok(sent);
  const echo = { ...sent, receivedAt: new Date().toISOString() };
  const res = await instance.postSegment(echo);
  assert.equal(res.json, { accepted: 0, duplicates: 0, ignored: 1, rejected: [] });
});

delivery.run();

// ---
const outage = suite('outage, restart, dead letters');
outage.before(async () => {
  standin = await SegmentStandin.start({ writeKeys: [TEST_SECRETS.writeKey] });
});
outage.after(async () => {
  await standin.close();
});

outage('a Segment outage keeps events queued; they go out with the same messageIds after recovery and a restart', async () => {
  const dataDir = await tempDir();
  const config = await configFor(standin, { dataDir });
  standin.setDown(true);
  instance = await startTestInstance(config);
  const res = await instance.api('/v1/flow-events', { body: [1, 2, 3].map((n) => flowEvent({ messageId: `outage-${n}`, userId: `u-${n}` })) });
  assert.is(res.status, 202);
  await waitFor(() => instance.outbox.stats().lastError !== undefined);
  const status = await instance.api('/v1/status');
  const outbox = status.json['outbox'] as { pending: number; oldestPendingAt?: string; lastError?: { message: string } };
  assert.is(outbox.pending, 3);
  assert.ok(outbox.oldestPendingAt);
  assert.ok(outbox.lastError);
  await instance.close();

  standin.setDown(false);
  instance = await startTestInstance(config);
  await standin.waitFor(3);
  await waitFor(() => instance.store.count('outbox') === 0);
  assert.equal([...standin.messageIds()].filter((id) => id.startsWith('outage-')).sort(), ['outage-1', 'outage-2', 'outage-3']);
  await instance.close();
});

outage('a wrong write key sends events to dead letters with the reason; retry after fixing the key delivers them', async () => {
  const dataDir = await tempDir();
  instance = await startTestInstance(await configFor(standin, { dataDir, secrets: { writeKey: 'wrong-write-key' } }));
  await instance.api('/v1/flow-events', { body: flowEvent({ messageId: 'dead-1' }) });
  await waitFor(() => instance.outbox.stats().dead === 1);
  const dead = await instance.api('/v1/outbox?status=dead');
  const entries = dead.json['entries'] as Array<{ messageId: string; lastError: string }>;
  assert.is(entries[0]?.messageId, 'dead-1');
  assert.match(entries[0]?.lastError ?? '', /401/);
  assert.not.match(JSON.stringify(dead.json), /wrong-write-key/);
  await instance.close();

  instance = await startTestInstance(await configFor(standin, { dataDir }));
  assert.is(instance.outbox.stats().dead, 1, 'dead letters survive a restart and are not retried on their own');
  const retried = await instance.api('/v1/outbox/retry', { body: {} });
  assert.is(retried.json['retried'], 1);
  await waitFor(() => standin.messageIds().has('dead-1'));
  await waitFor(() => instance.store.count('outbox') === 0);
  await instance.close();
});

outage('staging without a write key queues and says so; setting the key and restarting delivers the backlog', async () => {
  const dataDir = await tempDir();
  instance = await startTestInstance(await configFor(standin, { dataDir, secrets: { writeKey: undefined } }));
  await instance.api('/v1/flow-events', { body: flowEvent({ messageId: 'nokey-1' }) });
  const status = await instance.api('/v1/status');
  assert.is((status.json['outbox'] as { sinkConfigured: boolean }).sinkConfigured, false);
  assert.is((status.json['outbox'] as { pending: number }).pending, 1);
  await instance.close();
  assert.not.ok(standin.messageIds().has('nokey-1'));
  instance = await startTestInstance(await configFor(standin, { dataDir }));
  await waitFor(() => standin.messageIds().has('nokey-1'));
  await instance.close();
});

outage.run();
