import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { MemoryRecordStore } from '../src/adapters/memory-record-store.ts';
import type { BridgeSchema, BridgeStore } from '../src/domain/bridge-schema.ts';
import type { TriggerConfig } from '../src/config/types.ts';
import type { JsonObject } from '../src/domain/json.ts';
import { emptyProfile } from '../src/domain/profile.ts';
import { buildInviteUrl } from '../src/domain/invite-url.ts';
import { DAY_MS } from '../src/domain/trigger-frequency.ts';
import { evaluateTriggers, listRuns, runIdFor, type TriggerEvent } from '../src/services/triggers.ts';
import { testConfig } from './support/config.ts';

const NOW_MS = Date.parse('2025-03-10T12:00:00.000Z');

function trigger(overrides: Partial<TriggerConfig> = {}): TriggerConfig {
  return {
    id: 'upgrade-survey',
    event: 'Plan Upgraded',
    source: 'any',
    where: {},
    flow: { id: 'flow_1', url: 'https://app.example.com/flows/{flowId}?user={userId}&run={runId}' },
    frequency: undefined,
    webhook: undefined,
    ...overrides,
  };
}

function event(overrides: Partial<TriggerEvent> = {}): TriggerEvent {
  return {
    name: 'Plan Upgraded',
    source: 'segment',
    messageId: 'msg-1',
    userId: 'user-1',
    properties: { plan: 'pro' },
    timestamp: '2025-03-10T11:59:00.000Z',
    ...overrides,
  };
}

function putTraits(store: BridgeStore, userId: string, traits: JsonObject): void {
  store.put('users', userId, { ...emptyProfile({ id: userId, kind: 'user', at: '2025-03-01T00:00:00.000Z' }), traits });
}

/** A memory store that counts writes and refuses full scans of `runs` (1M-run stores). */
function spyStore(): { store: BridgeStore; writes: () => number } {
  const inner = new MemoryRecordStore<BridgeSchema>();
  let writes = 0;
  const store = new Proxy(inner, {
    get(target, property) {
      if (property === 'put' || property === 'remove') {
        return (...args: unknown[]) => {
          writes += 1;
          return (Reflect.get(target, property) as (...a: unknown[]) => unknown).apply(target, args);
        };
      }
      if (property === 'values' || property === 'entries') {
        return (collection: string) => {
          if (collection === 'runs' || collection === 'deliveries') throw new Error(`scanned ${collection}`);
          return (Reflect.get(target, property) as (c: string) => unknown).call(target, collection);
        };
      }
      const value: unknown = Reflect.get(target, property);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
  return { store, writes: () => writes };
}

async function setup(triggers: TriggerConfig[]) {
  const config = await testConfig({ triggers });
  const { store, writes } = spyStore();
  let ids = 0;
  const evaluate = (overrides: Partial<TriggerEvent> = {}, nowMs = NOW_MS) =>
    evaluateTriggers({ store, config, event: event(overrides), nowMs, newId: () => `msg_delivery_${++ids}` });
  return { config, store, writes, evaluate };
}

// ---
const allowlist = suite('evaluateTriggers: allowlist');

allowlist('an event no trigger names reads nothing and writes nothing', async () => {
  const { store, writes, evaluate } = await setup([trigger()]);
  putTraits(store, 'user-1', { plan: 'pro' });
  const before = writes();
  assert.equal(evaluate({ name: 'Page Scrolled' }), []);
  assert.equal(evaluate({ name: 'plan upgraded' }), [], 'names are case-sensitive');
  assert.is(writes(), before);
  assert.is(store.count('runs'), 0);
  assert.is(store.count('runIndex'), 0);
});

allowlist('source must be any or the event source', async () => {
  const { evaluate } = await setup([trigger({ id: 'seg', source: 'segment' }), trigger({ id: 'cus', source: 'custom' }), trigger({ id: 'any', source: 'any' })]);
  assert.equal(evaluate({ source: 'segment', messageId: 'a' }).map((run) => run.triggerId), ['seg', 'any']);
  assert.equal(evaluate({ source: 'custom', messageId: 'b' }).map((run) => run.triggerId), ['cus', 'any']);
});

allowlist('an anonymous-only event fires nothing and writes nothing', async () => {
  const { writes, evaluate } = await setup([trigger()]);
  assert.equal(evaluate({ userId: undefined }), []);
  assert.is(writes(), 0);
});

allowlist('a named event that does not match writes nothing', async () => {
  const { store, writes, evaluate } = await setup([trigger({ where: { properties: { plan: 'team' } }, webhook: { url: 'http://127.0.0.1:9/h', secretEnv: 'HOOK_SECRET' } })]);
  assert.equal(evaluate(), []);
  assert.is(writes(), 0);
  assert.is(store.count('deliveries'), 0);
});

allowlist.run();

// ---
const traits = suite('evaluateTriggers: trait filters');

traits('see the traits stored when the event is processed (identify first)', async () => {
  const { store, evaluate } = await setup([trigger({ where: { properties: { plan: 'pro' }, traits: { role: 'admin', 'company.size': { $gte: 50 } } } })]);
  assert.equal(evaluate({ messageId: 'before-identify' }), [], 'no profile yet');
  putTraits(store, 'user-1', { role: 'admin', company: { size: 10 } });
  assert.equal(evaluate({ messageId: 'small-company' }), []);
  putTraits(store, 'user-1', { role: 'admin', company: { size: 80 } });
  const runs = evaluate({ messageId: 'after-identify' });
  assert.is(runs.length, 1);
  assert.is(runs[0]?.sourceMessageId, 'after-identify');
});

traits('an aliased userId uses the canonical profile and is recorded as the canonical id', async () => {
  const { store, evaluate } = await setup([trigger({ where: { traits: { role: 'admin' } } })]);
  putTraits(store, 'user-new', { role: 'admin' });
  store.put('aliases', 'user-old', { userId: 'user-new', kind: 'alias', linkedAt: '2025-03-01T00:00:00.000Z' });
  const runs = evaluate({ userId: 'user-old' });
  assert.is(runs[0]?.userId, 'user-new');
});

traits.run();

// ---
const runsSuite = suite('evaluateTriggers: runs and deliveries');

runsSuite('a match records a run with the invite URL, not committed', async () => {
  const { config, store, evaluate } = await setup([trigger()]);
  const commitsBefore = (store as unknown as MemoryRecordStore<BridgeSchema>).commits;
  const [run] = evaluate();
  const runId = runIdFor({ triggerId: 'upgrade-survey', source: 'segment', messageId: 'msg-1' });
  assert.equal(run, {
    id: runId,
    triggerId: 'upgrade-survey',
    userId: 'user-1',
    sourceMessageId: 'msg-1',
    source: 'segment',
    event: 'Plan Upgraded',
    flowId: 'flow_1',
    inviteUrl: `https://app.example.com/flows/flow_1?user=user-1&run=${runId}`,
    createdAt: '2025-03-10T12:00:00.000Z',
  });
  assert.equal(store.get('runs', runId), run);
  assert.equal(store.get('runIndex', 'user-1'), { userId: 'user-1', runs: [{ id: runId, triggerId: 'upgrade-survey', atMs: NOW_MS }] });
  assert.is(store.count('deliveries'), 0, 'no webhook, no delivery');
  assert.is((store as unknown as MemoryRecordStore<BridgeSchema>).commits, commitsBefore, 'the caller commits');
  assert.is(config.name, 'staging');
});

runsSuite('a webhook trigger adds a pending delivery with the exact signed body', async () => {
  const { store, evaluate } = await setup([trigger({ webhook: { url: 'https://hooks.example.com/in', secretEnv: 'HOOK_SECRET' } })]);
  const [run] = evaluate();
  assert.ok(run);
  assert.is(run.deliveryId, 'msg_delivery_1');
  const delivery = store.get('deliveries', 'msg_delivery_1');
  assert.ok(delivery);
  assert.equal({ ...delivery, body: undefined }, {
    id: 'msg_delivery_1',
    runId: run.id,
    triggerId: 'upgrade-survey',
    userId: 'user-1',
    url: 'https://hooks.example.com/in',
    secretEnv: 'HOOK_SECRET',
    body: undefined,
    status: 'pending',
    attempts: 0,
    nextAttemptAtMs: NOW_MS,
    createdAt: '2025-03-10T12:00:00.000Z',
  });
  assert.is(
    delivery.body,
    JSON.stringify({
      type: 'trigger.fired',
      id: run.id,
      environment: 'staging',
      triggerId: 'upgrade-survey',
      userId: 'user-1',
      flow: { id: 'flow_1', inviteUrl: run.inviteUrl },
      event: { name: 'Plan Upgraded', messageId: 'msg-1', source: 'segment' },
      createdAt: '2025-03-10T12:00:00.000Z',
    }),
  );
});

runsSuite('several triggers on one event each record a run', async () => {
  const { store, evaluate } = await setup([trigger({ id: 'a' }), trigger({ id: 'b', where: { properties: { plan: 'pro' } } }), trigger({ id: 'c', where: { properties: { plan: 'free' } } })]);
  assert.equal(evaluate().map((run) => run.triggerId), ['a', 'b']);
  assert.is(store.get('runIndex', 'user-1')?.runs.length, 2);
});

runsSuite.run();

// ---
const idempotency = suite('evaluateTriggers: idempotency');

idempotency('the same message twice creates one run and one delivery', async () => {
  const { store, evaluate } = await setup([trigger({ webhook: { url: 'https://hooks.example.com/in', secretEnv: 'HOOK_SECRET' } })]);
  assert.is(evaluate({ messageId: 'dup' }).length, 1);
  assert.equal(evaluate({ messageId: 'dup' }, NOW_MS + 60_000), []);
  assert.is(store.count('runs'), 1);
  assert.is(store.count('deliveries'), 1);
  assert.is(store.get('runIndex', 'user-1')?.runs.length, 1);
});

idempotency('run ids are deterministic per trigger, source and messageId', () => {
  const id = runIdFor({ triggerId: 't', source: 'segment', messageId: 'm' });
  assert.match(id, /^run_[0-9a-f]{32}$/);
  assert.is(runIdFor({ triggerId: 't', source: 'segment', messageId: 'm' }), id);
  assert.is.not(runIdFor({ triggerId: 't2', source: 'segment', messageId: 'm' }), id);
  assert.is.not(runIdFor({ triggerId: 't', source: 'custom', messageId: 'm' }), id);
  assert.is.not(runIdFor({ triggerId: 't', source: 'segment', messageId: 'm2' }), id);
});

idempotency.run();

// ---
const frequency = suite('evaluateTriggers: frequency per (trigger, user)');

frequency('once: the second matching event of the same user fires nothing', async () => {
  const { evaluate } = await setup([trigger({ frequency: { perUser: 'once' } }), trigger({ id: 'other' })]);
  assert.equal(evaluate({ messageId: '1' }).map((run) => run.triggerId), ['upgrade-survey', 'other']);
  assert.equal(evaluate({ messageId: '2' }, NOW_MS + 400 * DAY_MS).map((run) => run.triggerId), ['other']);
  assert.is(evaluate({ messageId: '3', userId: 'user-2' }).length, 2, 'another user is counted apart');
});

frequency('max per window, with a moving now', async () => {
  const { evaluate } = await setup([trigger({ frequency: { perUser: { max: 2, windowDays: 7 } } })]);
  assert.is(evaluate({ messageId: '1' }, NOW_MS).length, 1);
  assert.is(evaluate({ messageId: '2' }, NOW_MS + DAY_MS).length, 1);
  assert.is(evaluate({ messageId: '3' }, NOW_MS + 2 * DAY_MS).length, 0, 'third in the window');
  assert.is(evaluate({ messageId: '4' }, NOW_MS + 7 * DAY_MS).length, 1, 'the first run has left the window');
  assert.is(evaluate({ messageId: '5' }, NOW_MS + 7 * DAY_MS + 1).length, 0);
});

frequency('an erased run no longer counts', async () => {
  const { store, evaluate } = await setup([trigger({ frequency: { perUser: 'once' } })]);
  const [run] = evaluate({ messageId: '1' });
  assert.ok(run);
  store.remove('runs', run.id);
  assert.is(evaluate({ messageId: '2' }).length, 1);
  assert.is(store.get('runIndex', 'user-1')?.runs.length, 1, 'the stale entry was dropped');
});

frequency.run();

// ---
const listing = suite('listRuns');

listing('per user from the index, newest first, limited', async () => {
  const { store, evaluate } = await setup([trigger()]);
  evaluate({ messageId: 'a' }, NOW_MS);
  evaluate({ messageId: 'b' }, NOW_MS + 1000);
  evaluate({ messageId: 'c' }, NOW_MS + 2000);
  evaluate({ messageId: 'x', userId: 'user-2' }, NOW_MS + 3000);
  assert.equal(listRuns({ store, userId: 'user-1', limit: 2 }).map((run) => run.sourceMessageId), ['c', 'b']);
  assert.equal(listRuns({ store, userId: 'nobody' }), []);
});

listing('all users by scanning runs, newest first', async () => {
  const config = await testConfig({ triggers: [trigger()] });
  const store = new MemoryRecordStore<BridgeSchema>();
  for (const [messageId, userId, offsetMs] of [['a', 'u1', 2000], ['b', 'u2', 0], ['c', 'u3', 1000]] as const) {
    evaluateTriggers({ store, config, event: event({ messageId, userId }), nowMs: NOW_MS + offsetMs });
  }
  assert.equal(listRuns({ store }).map((run) => run.sourceMessageId), ['a', 'c', 'b']);
  assert.equal(listRuns({ store, limit: 1 }).map((run) => run.sourceMessageId), ['a']);
});

listing.run();

// ---
const invite = suite('buildInviteUrl');

const values = { userId: 'u 1&x=y', runId: 'run_abc', flowId: 'flow/1', triggerId: 't-1', environment: 'staging' };

invite('replaces every placeholder with its URL-encoded value', () => {
  assert.is(
    buildInviteUrl('https://a.example/{environment}/{flowId}?u={userId}&r={runId}&t={triggerId}&again={userId}', values),
    'https://a.example/staging/flow%2F1?u=u%201%26x%3Dy&r=run_abc&t=t-1&again=u%201%26x%3Dy',
  );
});

invite('leaves other braces and plain URLs alone', () => {
  assert.is(buildInviteUrl('https://a.example/{unknown}/{userid}', values), 'https://a.example/{unknown}/{userid}');
  assert.is(buildInviteUrl('https://a.example/start', values), 'https://a.example/start');
});

invite.run();
