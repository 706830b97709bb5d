import { suite } from 'uvu';
import { currentFlowHistory } from '../src/services/flow-history.ts';
import * as assert from 'uvu/assert';
import { MemoryRecordStore } from '../src/adapters/memory-record-store.ts';
import { SegmentEventSink } from '../src/adapters/segment-event-sink.ts';
import type { EnvConfig } from '../src/config/types.ts';
import type { BridgeSchema } from '../src/domain/bridge-schema.ts';
import type { FlowEventInput } from '../src/domain/flow-events.ts';
import { emptyProfile } from '../src/domain/profile.ts';
import { StoreUnavailableError } from '../src/errors.ts';
import { systemClock } from '../src/ports/clock.ts';
import { dueOutboxEntries, enqueueFlowEvents } from '../src/services/outbox.ts';
import { OutboxWorker } from '../src/services/outbox-worker.ts';
import type { Scheduler } from '../src/ports/scheduler.ts';
import type { EventSink, OutboundTrack, SendResult } from '../src/ports/event-sink.ts';
import { testConfig } from './support/config.ts';
import { SegmentStandin } from './support/segment-standin.ts';

const WRITE_KEY = 'wk_outbox_test';
const T0 = Date.parse('2024-05-01T12:00:00.000Z');

class FakeClock {
  ms = T0;
  nowMs(): number {
    return this.ms;
  }
  advance(ms: number): void {
    this.ms += ms;
  }
}

/** Timers that fire only when the test says so; records what the worker armed. */
class ManualTimers implements Scheduler {
  armed = new Map<number, { callback: () => void; delayMs: number }>();
  #next = 1;
  schedule(callback: () => void, delayMs: number): () => void {
    const handle = this.#next++;
    this.armed.set(handle, { callback, delayMs });
    return () => this.armed.delete(handle);
  }
  delays(): number[] {
    return [...this.armed.values()].map((timer) => timer.delayMs);
  }
  /** Fires every armed timer once. */
  fireAll(): void {
    const timers = [...this.armed.values()];
    this.armed.clear();
    for (const timer of timers) timer.callback();
  }
}

/** Waits (event-loop turns, no fixed sleep) until `check` holds. */
async function until(check: () => boolean, timeoutMs = 3_000): Promise<void> {
  const started = performance.now();
  while (!check()) {
    if (performance.now() - started > timeoutMs) throw new Error('condition not reached');
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

function flowEvent(overrides: Partial<FlowEventInput> = {}): FlowEventInput {
  return { event: 'Flow Completed', userId: 'user-1', properties: { flow_id: 'onboarding' }, timestamp: '2024-04-30T08:00:00.000Z', ...overrides };
}

interface Harness {
  store: MemoryRecordStore<BridgeSchema>;
  config: EnvConfig;
  clock: FakeClock;
  timers: ManualTimers;
  segment: SegmentStandin;
  worker: OutboxWorker;
  sinkFor(writeKey: string): SegmentEventSink;
  enqueue(events: FlowEventInput[]): ReturnType<typeof enqueueFlowEvents>;
  close(): Promise<void>;
}

/** A store, a stand-in Segment, and a worker on a fake clock and manual timers; random = 0.5 so backoff delays are exact. */
async function harness(options: { writeKey?: string | null; events?: EnvConfig['events'] } = {}): Promise<Harness> {
  const store = new MemoryRecordStore<BridgeSchema>();
  const clock = new FakeClock();
  const timers = new ManualTimers();
  const segment = await SegmentStandin.start({ writeKeys: [WRITE_KEY] });
  const config = await testConfig({ events: options.events ?? {}, segment: { region: 'us', host: segment.url, flushAt: 15, flushIntervalMs: 50 } });
  const sinks: SegmentEventSink[] = [];
  const sinkFor = (writeKey: string): SegmentEventSink => {
    const sink = new SegmentEventSink({ writeKey, host: segment.url, flushAt: 15, flushIntervalMs: 50, httpRequestTimeoutMs: 2_000 });
    sinks.push(sink);
    return sink;
  };
  const writeKey = options.writeKey === undefined ? WRITE_KEY : options.writeKey;
  const worker = new OutboxWorker({ store, sink: writeKey === null ? undefined : sinkFor(writeKey), config, clock, scheduler: timers, retryPolicy: { random: () => 0.5 }, batchSize: 10 });
  return {
    store,
    config,
    clock,
    timers,
    segment,
    worker,
    sinkFor,
    enqueue: (events) => enqueueFlowEvents({ store, config, events, now: new Date(clock.nowMs()) }),
    close: async () => {
      await worker.stop({ flushTimeoutMs: 0 });
      await Promise.all(sinks.map((sink) => sink.close(100)));
      await segment.close();
    },
  };
}

/** The user's flow history as the API shows it (statuses derived from the outbox). */
function historyOf(h: Harness, userId: string): Array<{ messageId: string; status: string }> {
  const profile = h.store.get('users', userId);
  return (profile ? currentFlowHistory(h.store, profile) : []).map(({ messageId, status }) => ({ messageId, status }));
}

// ---
const enqueue = suite('enqueueFlowEvents');

enqueue('writes pending entries keyed by messageId, records queued history, commits before resolving', async () => {
  const h = await harness({ events: { 'Flow Completed': { rename: 'Survey Finished' } } });
  try {
    const commitsBefore = h.store.commits;
    const result = await h.enqueue([flowEvent({ messageId: 'm-1', anonymousId: 'anon-1' })]);
    assert.is(result.queued, 1);
    assert.is(h.store.commits, commitsBefore + 1);
    assert.equal(h.store.get('outbox', 'm-1'), {
      messageId: 'm-1',
      event: 'Flow Completed',
      sentAs: 'Survey Finished',
      userId: 'user-1',
      anonymousId: 'anon-1',
      properties: { flow_id: 'onboarding' },
      timestamp: '2024-04-30T08:00:00.000Z',
      enqueuedAt: new Date(T0).toISOString(),
      status: 'pending',
      attempts: 0,
      nextAttemptAtMs: T0,
    });
    assert.equal(h.store.get('users', 'user-1')?.flowHistory, [
      { messageId: 'm-1', event: 'Flow Completed', flowId: 'onboarding', timestamp: '2024-04-30T08:00:00.000Z', status: 'queued' },
    ]);
  } finally {
    await h.close();
  }
});

enqueue('generates sb-<env>-<uuid> once when the product sent no messageId', async () => {
  const h = await harness();
  try {
    const { entries } = await h.enqueue([flowEvent(), flowEvent()]);
    const ids = entries.map((entry) => entry.messageId);
    assert.is(ids.length, 2);
    for (const id of ids) assert.match(id, /^sb-staging-[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    assert.is.not(ids[0], ids[1]);
    assert.equal([...h.store.entries('outbox')].map(([key]) => key), ids);
  } finally {
    await h.close();
  }
});

enqueue('a messageId already queued is not added again (product retry)', async () => {
  const h = await harness();
  try {
    await h.enqueue([flowEvent({ messageId: 'm-1' })]);
    const again = await h.enqueue([flowEvent({ messageId: 'm-1', properties: { flow_id: 'changed' } }), flowEvent({ messageId: 'm-2' })]);
    assert.equal([again.queued, again.duplicates], [1, 1]);
    assert.is(h.store.get('outbox', 'm-1')?.properties['flow_id'], 'onboarding');
    assert.equal(historyOf(h, 'user-1').map((entry) => entry.messageId), ['m-2', 'm-1']);
  } finally {
    await h.close();
  }
});

enqueue('still idempotent when the flow history no longer holds the id (bounded history)', async () => {
  const h = await harness();
  try {
    const config = { ...h.config, historyLimit: 1 };
    await enqueueFlowEvents({ store: h.store, config, events: [flowEvent({ messageId: 'm-1' }), flowEvent({ messageId: 'm-2' })], now: new Date(T0) });
    const again = await enqueueFlowEvents({ store: h.store, config, events: [flowEvent({ messageId: 'm-1' })], now: new Date(T0) });
    assert.equal([again.queued, again.duplicates], [0, 1]);
    assert.equal(historyOf(h, 'user-1').map((entry) => entry.messageId), ['m-2']);
  } finally {
    await h.close();
  }
});

enqueue('disabled events: accepted, recorded as disabled, never in the outbox', async () => {
  const h = await harness({ events: { 'Flow Viewed': { disabled: true } } });
  try {
    const result = await h.enqueue([flowEvent({ event: 'Flow Viewed', messageId: 'v-1' }), flowEvent({ messageId: 'c-1' })]);
    assert.equal([result.queued, result.disabled], [1, 1]);
    assert.is(h.store.get('outbox', 'v-1'), undefined);
    assert.equal(historyOf(h, 'user-1'), [
      { messageId: 'c-1', status: 'queued' },
      { messageId: 'v-1', status: 'disabled' },
    ]);
  } finally {
    await h.close();
  }
});

enqueue('an existing profile keeps its data; history is newest first and bounded', async () => {
  const h = await harness();
  try {
    h.store.put('users', 'user-1', { ...emptyProfile({ id: 'user-1', kind: 'user', at: '2024-01-01T00:00:00.000Z' }), traits: { plan: 'pro' } });
    const limited = { ...h.config, historyLimit: 2 };
    const events = ['a', 'b', 'c'].map((id) => flowEvent({ messageId: id }));
    await enqueueFlowEvents({ store: h.store, config: limited, events, now: new Date(T0) });
    const profile = h.store.get('users', 'user-1');
    assert.equal(profile?.traits, { plan: 'pro' });
    assert.equal(profile?.flowHistory.map((entry) => entry.messageId), ['c', 'b']);
    assert.is(h.store.count('outbox'), 3);
  } finally {
    await h.close();
  }
});

enqueue('the store cannot be written: rejects and nothing is half-applied', async () => {
  const h = await harness();
  try {
    h.store.failNextCommit();
    try {
      await h.enqueue([flowEvent({ messageId: 'm-1' })]);
      assert.unreachable('should have rejected');
    } catch (error) {
      assert.instance(error, StoreUnavailableError);
    }
    assert.is(h.store.count('outbox'), 0);
    assert.is(h.store.get('users', 'user-1'), undefined);
  } finally {
    await h.close();
  }
});

enqueue('dueOutboxEntries: the earliest `limit` due entries, skipping excluded ones (being sent)', async () => {
  const h = await harness();
  try {
    for (let i = 0; i < 8; i += 1) {
      await h.enqueue([flowEvent({ messageId: `m-${i}` })]);
      h.clock.advance(1);
    }
    const retried = h.store.get('outbox', 'm-7');
    assert.ok(retried);
    h.store.put('outbox', 'm-7', { ...retried, nextAttemptAtMs: T0 - 1 });
    const ids = (exclude?: Set<string>): string[] => dueOutboxEntries({ store: h.store, nowMs: h.clock.nowMs(), limit: 3, ...(exclude ? { exclude } : {}) }).map((entry) => entry.messageId);
    assert.equal(ids(), ['m-7', 'm-0', 'm-1'], 'earliest attempt first, wherever it sits');
    assert.equal(ids(new Set(['m-7', 'm-1', 'm-2'])), ['m-0', 'm-3', 'm-4']);
    assert.equal(ids(new Set(['m-0', 'm-1', 'm-2', 'm-3', 'm-4', 'm-5', 'm-6', 'm-7'])), []);
  } finally {
    await h.close();
  }
});

enqueue.run();

// ---
const delivery = suite('OutboxWorker: delivery');

delivery('delivers due entries, removes them, marks history delivered', async () => {
  const h = await harness();
  try {
    await h.enqueue([flowEvent({ messageId: 'm-1' }), flowEvent({ messageId: 'm-2', userId: 'user-2' })]);
    const summary = await h.worker.runCycle();
    assert.equal(summary, { attempted: 2, delivered: 2, retried: 0, dead: 0 });
    assert.equal([...h.segment.messageIds()].sort(), ['m-1', 'm-2']);
    assert.is(h.store.count('outbox'), 0);
    assert.equal(historyOf(h, 'user-1'), [{ messageId: 'm-1', status: 'delivered' }]);
    assert.equal(historyOf(h, 'user-2'), [{ messageId: 'm-2', status: 'delivered' }]);
    const stats = h.worker.stats();
    assert.equal([stats.pending, stats.dead, stats.delivered, stats.sinkConfigured], [0, 0, 2, true]);
    assert.is(stats.lastDeliveryAt, new Date(T0).toISOString());
  } finally {
    await h.close();
  }
});

delivery('batches up to batchSize, oldest due first', async () => {
  const h = await harness();
  try {
    for (let i = 0; i < 12; i += 1) {
      await h.enqueue([flowEvent({ messageId: `m-${String(i).padStart(2, '0')}` })]);
      h.clock.advance(1);
    }
    const first = await h.worker.runCycle();
    assert.is(first.delivered, 10);
    assert.equal([...h.store.entries('outbox')].map(([id]) => id), ['m-10', 'm-11']);
    assert.is((await h.worker.runCycle()).delivered, 2);
  } finally {
    await h.close();
  }
});

delivery('start() resumes pending entries and kick() delivers new ones (real timers)', async () => {
  const store = new MemoryRecordStore<BridgeSchema>();
  const segment = await SegmentStandin.start({ writeKeys: [WRITE_KEY] });
  const config = await testConfig({ segment: { region: 'us', host: segment.url, flushAt: 15, flushIntervalMs: 50 } });
  const sink = new SegmentEventSink({ writeKey: WRITE_KEY, host: segment.url, flushIntervalMs: 50 });
  const worker = new OutboxWorker({ store, sink, config, clock: systemClock });
  try {
    await enqueueFlowEvents({ store, config, events: [flowEvent({ messageId: 'before-start' })], now: new Date() });
    worker.start();
    await segment.waitFor(1, 3_000);
    await enqueueFlowEvents({ store, config, events: [flowEvent({ messageId: 'after-kick' })], now: new Date() });
    worker.kick();
    await segment.waitFor(2, 3_000);
    assert.equal([...segment.messageIds()], ['before-start', 'after-kick']);
  } finally {
    await worker.stop({ flushTimeoutMs: 1_000 });
    await segment.close();
  }
});

delivery('schedules itself: at once on start, then when the next retry is due', async () => {
  const h = await harness();
  try {
    await h.enqueue([flowEvent({ messageId: 'm-1' })]);
    h.segment.failNext(1, 429, { 'Retry-After': '7' });
    h.worker.start();
    assert.equal(h.timers.delays(), [0]);
    h.timers.fireAll();
    await until(() => h.timers.armed.size > 0);
    assert.equal(h.timers.delays(), [7_000], 'next wake-up when the Retry-After elapses');
    h.clock.advance(7_000);
    h.timers.fireAll();
    await until(() => h.store.count('outbox') === 0);
    assert.equal(h.timers.delays(), [], 'nothing pending: no timer until kick()');
    await h.enqueue([flowEvent({ messageId: 'm-2' })]);
    h.worker.kick();
    assert.equal(h.timers.delays(), [0]);
  } finally {
    await h.close();
  }
});

delivery('a worker that was never started sends nothing on stop()', async () => {
  const h = await harness();
  try {
    await h.enqueue([flowEvent({ messageId: 'm-1' })]);
    await h.worker.stop({ flushTimeoutMs: 500 });
    assert.is(h.segment.requests().length, 0);
    assert.is(h.store.get('outbox', 'm-1')?.status, 'pending');
  } finally {
    await h.close();
  }
});

delivery.run();

// ---
const failures = suite('OutboxWorker: retries and dead letters');

failures('outage (500s) then recovery: same messageIds, nothing lost, backoff on the clock', async () => {
  const h = await harness();
  try {
    const ids = ['m-1', 'm-2', 'm-3'];
    await h.enqueue(ids.map((messageId) => flowEvent({ messageId })));
    h.segment.failNext(2, 500);

    assert.equal(await h.worker.runCycle(), { attempted: 3, delivered: 0, retried: 3, dead: 0 });
    const afterFirst = h.store.get('outbox', 'm-1');
    assert.equal([afterFirst?.status, afterFirst?.attempts, afterFirst?.nextAttemptAtMs], ['pending', 1, T0 + 500]);
    assert.is(afterFirst?.lastError, '[500] Internal Server Error');
    assert.is((await h.worker.runCycle()).attempted, 0, 'nothing is due before the backoff elapsed');

    h.clock.advance(500);
    assert.is((await h.worker.runCycle()).retried, 3);
    assert.is(h.store.get('outbox', 'm-2')?.nextAttemptAtMs, T0 + 500 + 1000, 'second backoff doubles');
    assert.is(h.worker.stats().pending, 3);
    assert.is(h.worker.stats().lastError?.message, '[500] Internal Server Error');

    h.clock.advance(1000);
    assert.is((await h.worker.runCycle()).delivered, 3);
    assert.is(h.store.count('outbox'), 0);
    assert.equal([...h.segment.messageIds()].sort(), ids);
    // Every attempt carried the same ids: 3 requests, each with the three original ids.
    assert.equal(h.segment.requests().map((request) => [...request.messageIds].sort()), [ids, ids, ids]);
  } finally {
    await h.close();
  }
});

failures('network down then up: retried until delivered', async () => {
  const h = await harness();
  try {
    await h.enqueue([flowEvent({ messageId: 'm-1' })]);
    h.segment.setDown(true);
    assert.is((await h.worker.runCycle()).retried, 1);
    assert.match(h.store.get('outbox', 'm-1')?.lastError ?? '', 'network');
    h.segment.setDown(false);
    h.clock.advance(500);
    assert.is((await h.worker.runCycle()).delivered, 1);
    assert.equal([...h.segment.messageIds()], ['m-1']);
  } finally {
    await h.close();
  }
});

failures('429 with Retry-After: waits exactly that long', async () => {
  const h = await harness();
  try {
    await h.enqueue([flowEvent({ messageId: 'm-1' })]);
    h.segment.failNext(1, 429, { 'Retry-After': '7' });
    assert.is((await h.worker.runCycle()).retried, 1);
    assert.is(h.store.get('outbox', 'm-1')?.nextAttemptAtMs, T0 + 7_000);
    h.clock.advance(6_999);
    assert.is((await h.worker.runCycle()).attempted, 0);
    h.clock.advance(1);
    assert.is((await h.worker.runCycle()).delivered, 1);
  } finally {
    await h.close();
  }
});

failures('wrong write key: dead letter with the reason; retryDead after fixing the key delivers it', async () => {
  const h = await harness({ writeKey: 'wrong-key' });
  try {
    await h.enqueue([flowEvent({ messageId: 'm-1' })]);
    assert.is((await h.worker.runCycle()).dead, 1);
    const dead = h.store.get('outbox', 'm-1');
    assert.is(dead?.status, 'dead');
    assert.is(dead?.deadAt, new Date(T0).toISOString());
    assert.match(dead?.lastError ?? '', 'write key');
    assert.match(dead?.lastError ?? '', '[401] Unauthorized');
    assert.not.match(dead?.lastError ?? '', 'wrong-key');
    assert.equal(historyOf(h, 'user-1'), [{ messageId: 'm-1', status: 'dead' }]);
    assert.equal([h.worker.stats().dead, h.worker.stats().pending], [1, 0]);
    h.clock.advance(3_600_000);
    assert.is((await h.worker.runCycle()).attempted, 0, 'dead letters are not retried on their own');

    // The operator fixes the key and restarts: a new worker on the same store.
    await h.worker.stop({ flushTimeoutMs: 0 });
    const fixed = new OutboxWorker({ store: h.store, sink: h.sinkFor(WRITE_KEY), config: h.config, clock: h.clock });
    assert.is(fixed.retryDead(), 1);
    const requeued = h.store.get('outbox', 'm-1');
    assert.equal([requeued?.status, requeued?.attempts, requeued?.deadAt], ['pending', 0, undefined]);
    assert.is((await fixed.runCycle()).delivered, 1);
    assert.equal([...h.segment.messageIds()], ['m-1']);
    assert.equal(historyOf(h, 'user-1'), [{ messageId: 'm-1', status: 'delivered' }]);
    await fixed.stop({ flushTimeoutMs: 0 });
  } finally {
    await h.close();
  }
});

failures('retryDead(ids) moves only those', async () => {
  const h = await harness({ writeKey: 'wrong-key' });
  try {
    await h.enqueue([flowEvent({ messageId: 'm-1' }), flowEvent({ messageId: 'm-2' })]);
    await h.worker.runCycle();
    assert.is(h.worker.retryDead(['m-2', 'unknown']), 1);
    assert.equal([h.store.get('outbox', 'm-1')?.status, h.store.get('outbox', 'm-2')?.status], ['dead', 'pending']);
  } finally {
    await h.close();
  }
});

failures('a failed commit after delivery rolls back: the entries are sent again (at-least-once)', async () => {
  const h = await harness();
  try {
    await h.enqueue([flowEvent({ messageId: 'm-1' })]);
    h.store.failNextCommit();
    await h.worker.runCycle();
    assert.is(h.store.get('outbox', 'm-1')?.status, 'pending');
    assert.match(h.worker.stats().lastError?.message ?? '', 'store');
    assert.is((await h.worker.runCycle()).delivered, 1);
    assert.is(h.store.count('outbox'), 0);
    assert.equal(h.segment.events().map((event) => event.messageId), ['m-1', 'm-1']);
  } finally {
    await h.close();
  }
});

failures.run();

// ---
const lifecycle = suite('OutboxWorker: no sink, shutdown');

lifecycle('no sink (no write key): nothing sent, everything pending, stats say why', async () => {
  const h = await harness({ writeKey: null });
  try {
    await h.enqueue([flowEvent({ messageId: 'm-1' }), flowEvent({ messageId: 'm-2' })]);
    h.worker.start();
    assert.equal(await h.worker.runCycle(), { attempted: 0, delivered: 0, retried: 0, dead: 0 });
    const stats = h.worker.stats();
    assert.equal([stats.sinkConfigured, stats.pending, stats.oldestPendingAt], [false, 2, new Date(T0).toISOString()]);
    assert.is(h.segment.requests().length, 0);
  } finally {
    await h.close();
  }
});

lifecycle('stop() delivers what is due, then takes no new work', async () => {
  const h = await harness();
  try {
    await h.enqueue([flowEvent({ messageId: 'm-1' })]);
    h.worker.start();
    await h.worker.stop({ flushTimeoutMs: 2_000 });
    assert.equal([...h.segment.messageIds()], ['m-1']);
    await h.enqueue([flowEvent({ messageId: 'm-2' })]);
    h.worker.kick();
    assert.is((await h.worker.runCycle()).attempted, 0);
    assert.is(h.store.get('outbox', 'm-2')?.status, 'pending');
  } finally {
    await h.close();
  }
});

lifecycle('stop() is bounded: Segment not answering leaves the entries pending', async () => {
  const h = await harness();
  try {
    await h.enqueue([flowEvent({ messageId: 'm-1' }), flowEvent({ messageId: 'm-2' })]);
    h.segment.hangNext(5);
    h.worker.start();
    const started = performance.now();
    await h.worker.stop({ flushTimeoutMs: 200 });
    assert.ok(performance.now() - started < 1_500, 'stop must not wait for the 2 s request timeout');
    assert.equal([...h.store.values('outbox')].map((entry) => entry.status), ['pending', 'pending']);
    assert.is(h.segment.events().length, 0);
  } finally {
    await h.close();
  }
});

lifecycle.run();

// ---
const concurrent = suite('OutboxWorker: several rounds in flight');

/** An EventSink whose sends stay open until the test answers them; records what was in flight together. */
class HeldSink implements EventSink {
  readonly open: Array<{ ids: string[]; answer: (ok: boolean | ((id: string) => SendResult)) => void }> = [];
  readonly sent: string[] = [];
  maxInFlight = 0;
  /** A messageId seen in two sends open at the same time. */
  overlap: string | undefined;
  closed = false;

  send(events: readonly OutboundTrack[]): Promise<SendResult[]> {
    const ids = events.map((event) => event.messageId);
    const busy = new Set(this.open.flatMap((send) => send.ids));
    this.overlap ??= ids.find((id) => busy.has(id));
    this.sent.push(...ids);
    return new Promise((resolve) => {
      const send = {
        ids,
        answer: (outcome: boolean | ((id: string) => SendResult)) => {
          this.open.splice(this.open.indexOf(send), 1);
          resolve(ids.map((id) => (typeof outcome === 'function' ? outcome(id) : outcome ? { messageId: id, ok: true } : { messageId: id, ok: false, status: 500, reason: '[500] Internal Server Error' })));
        },
      };
      this.open.push(send);
      this.maxInFlight = Math.max(this.maxInFlight, this.open.length);
    });
  }

  async close(): Promise<void> {
    this.closed = true;
  }
}

async function heldHarness(options: { entries: number; concurrency: number; batchSize: number }): Promise<{ store: MemoryRecordStore<BridgeSchema>; sink: HeldSink; worker: OutboxWorker; clock: FakeClock }> {
  const store = new MemoryRecordStore<BridgeSchema>();
  const clock = new FakeClock();
  const config = await testConfig({});
  const sink = new HeldSink();
  const worker = new OutboxWorker({ store, sink, config, clock, concurrency: options.concurrency, batchSize: options.batchSize, retryPolicy: { random: () => 0.5 } });
  const events = Array.from({ length: options.entries }, (_, i) => flowEvent({ messageId: `m-${String(i).padStart(2, '0')}`, userId: `user-${i % 4}` }));
  await enqueueFlowEvents({ store, config, events, now: new Date(clock.nowMs()) });
  return { store, sink, worker, clock };
}

concurrent('up to `concurrency` sends at once, each entry in one of them only, all delivered once', async () => {
  const { store, sink, worker } = await heldHarness({ entries: 25, concurrency: 3, batchSize: 5 });
  try {
    worker.start();
    await until(() => sink.open.length === 3);
    assert.is(sink.open.length, 3, 'three rounds out together');
    assert.is(new Set(sink.open.flatMap((send) => send.ids)).size, 15, 'three different sets of entries');
    while (store.count('outbox') > 0) {
      await until(() => sink.open.length > 0 || store.count('outbox') === 0);
      sink.open[0]?.answer(true);
      await new Promise((resolve) => setImmediate(resolve));
    }
    assert.is(sink.maxInFlight, 3, 'never more than concurrency');
    assert.is(sink.overlap, undefined, 'no entry in two sends at once');
    assert.equal([...sink.sent].sort(), Array.from({ length: 25 }, (_, i) => `m-${String(i).padStart(2, '0')}`));
    assert.is(worker.stats().delivered, 25);
  } finally {
    await worker.stop({ flushTimeoutMs: 0 });
  }
});

concurrent('a failed round does not touch the others: its entries retry, theirs are delivered', async () => {
  const { store, sink, worker } = await heldHarness({ entries: 6, concurrency: 3, batchSize: 2 });
  try {
    worker.start();
    await until(() => sink.open.length === 3);
    const [first, failing, third] = [...sink.open];
    assert.ok(first && failing && third);
    failing.answer(false);
    third.answer(true);
    first.answer(true);
    await until(() => store.count('outbox') === 2);
    for (const id of [...first.ids, ...third.ids]) assert.is(store.get('outbox', id), undefined, `${id} delivered`);
    for (const id of failing.ids) {
      const entry = store.get('outbox', id);
      assert.equal([entry?.status, entry?.attempts, entry?.lastError], ['pending', 1, '[500] Internal Server Error']);
    }
    assert.is(worker.stats().delivered, 4);
  } finally {
    await worker.stop({ flushTimeoutMs: 0 });
  }
});

concurrent('runCycle() while rounds are out takes only entries nobody is sending', async () => {
  const { sink, worker } = await heldHarness({ entries: 7, concurrency: 2, batchSize: 3 });
  try {
    worker.start();
    await until(() => sink.open.length === 2);
    const extra = worker.runCycle();
    assert.is(sink.open.length, 3);
    assert.equal(sink.open[2]?.ids, ['m-06']);
    for (const send of [...sink.open]) send.answer(true);
    assert.equal(await extra, { attempted: 1, delivered: 1, retried: 0, dead: 0 });
    assert.is(sink.overlap, undefined);
  } finally {
    await worker.stop({ flushTimeoutMs: 0 });
  }
});

concurrent('stop() with rounds in flight: waits for them, commits their results, sends the rest, then closes the sink', async () => {
  const { store, sink, worker } = await heldHarness({ entries: 5, concurrency: 2, batchSize: 2 });
  worker.start();
  await until(() => sink.open.length === 2);
  const stopped = worker.stop({ flushTimeoutMs: 5_000 });
  // Answer whatever is out until stop() resolves: the two rounds in flight, then the flush.
  let done = false;
  void stopped.then(() => (done = true));
  while (!done) {
    for (const send of [...sink.open]) send.answer(true);
    await new Promise((resolve) => setImmediate(resolve));
  }
  assert.is(store.count('outbox'), 0, 'the in-flight results and the last entry were committed');
  assert.is(store.commits > 0, true);
  assert.equal([...sink.sent].sort(), ['m-00', 'm-01', 'm-02', 'm-03', 'm-04']);
  assert.is(sink.closed, true);
});

concurrent('stop() is bounded with rounds that never finish: entries stay pending, the sink is closed', async () => {
  const { store, sink, worker } = await heldHarness({ entries: 4, concurrency: 2, batchSize: 2 });
  worker.start();
  await until(() => sink.open.length === 2);
  // The held sends are bare promises: keep the process up while the (unref'd) bound runs.
  const keepAlive = setInterval(() => undefined, 1_000);
  try {
    await worker.stop({ flushTimeoutMs: 50 });
  } finally {
    clearInterval(keepAlive);
  }
  assert.is(sink.closed, true);
  assert.equal([...store.values('outbox')].map((entry) => entry.status), ['pending', 'pending', 'pending', 'pending']);
  assert.is(worker.stats().running, false);
});

concurrent.run();
