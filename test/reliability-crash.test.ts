/**
 * Crashes for real: a `serve` child process is SIGKILLed at seeded pseudo-random moments
 * while Segment-style senders replay 10,000 signed messages, then restarted on the same
 * data directory. Afterwards every acknowledged message must have been applied exactly
 * once, whatever was lost in flight (SPEC §2 durable ack + dedupe, §4 atomic writes).
 * The second suite does the same for the outbox during a Segment outage (SPEC §3).
 *
 * The figures of a run are printed with `RELIABILITY_FIGURES=1` (see RELIABILITY.md).
 */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ChildInstance, writeEnvironmentFile } from './support/child-instance.ts';
import { SegmentSender } from './support/segment-sender.ts';
import { SegmentStandin } from './support/segment-standin.ts';
import { tempDir } from './support/config.ts';
import { LowdbRecordStore } from '../src/adapters/lowdb-record-store.ts';
import type { BridgeSchema } from '../src/domain/bridge-schema.ts';
import { SHUTDOWN_FLUSH_MS } from '../src/main.ts';

const SECRETS = {
  SEGMENT_SHARED_SECRET_STAGING: 'crash-shared-secret-5b1e0f7a9c',
  BRIDGE_API_KEY_STAGING: 'crash-api-key-2d6c4e8b0a1f37',
  SEGMENT_WRITE_KEY_STAGING: 'crash-write-key',
} as const;
const SEED = 0x5eed_2025;
const MESSAGES = 10_000;
const USERS = 500;
const KILLS = 5;
const HISTORY_LIMIT = 8;
const BASE_MS = Date.parse('2025-06-01T00:00:00.000Z');
const TRACK_EVENTS = ['Counter Incremented', 'Report Exported', 'Button Clicked'] as const;
const PLANS = ['free', 'pro', 'team'] as const;

/** mulberry32: small, seeded, good enough to pick kills and shuffle. */
function prng(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

interface Expected {
  total: number;
  byType: Record<string, number>;
  byEvent: Record<string, number>;
  /** The identify with the latest timestamp sets the traits, whatever the arrival order. */
  lastIdentify: { seq: number; plan: string } | undefined;
  groups: Set<string>;
  /** Newest first by timestamp (= by seq). */
  messageSeqs: number[];
}

/** 10,000 messages over 500 users, in a shuffled order (timestamps do not follow arrival). */
function buildWorkload(random: () => number): { messages: Array<Record<string, unknown>>; expected: Map<string, Expected> } {
  const pick = <T>(list: readonly T[]): T => list[Math.floor(random() * list.length)] as T;
  const expected = new Map<string, Expected>();
  const messages: Array<Record<string, unknown>> = [];
  for (let seq = 0; seq < MESSAGES; seq += 1) {
    const userId = `crash-user-${String(Math.floor(random() * USERS)).padStart(3, '0')}`;
    const roll = random();
    const type = roll < 0.15 ? 'identify' : roll < 0.7 ? 'track' : roll < 0.9 ? 'page' : 'group';
    const base = { type, userId, messageId: `crash-${seq}`, timestamp: new Date(BASE_MS + seq * 1000).toISOString(), context: { library: { name: 'crash-test' } } };
    const entry = expected.get(userId) ?? { total: 0, byType: {}, byEvent: {}, lastIdentify: undefined, groups: new Set<string>(), messageSeqs: [] };
    expected.set(userId, entry);
    entry.total += 1;
    entry.byType[type] = (entry.byType[type] ?? 0) + 1;
    entry.messageSeqs.unshift(seq);
    if (type === 'identify') {
      const plan = pick(PLANS);
      messages.push({ ...base, traits: { seq, plan } });
      entry.lastIdentify = { seq, plan };
    } else if (type === 'track') {
      const event = pick(TRACK_EVENTS);
      messages.push({ ...base, event, properties: { seq } });
      entry.byEvent[event] = (entry.byEvent[event] ?? 0) + 1;
    } else if (type === 'page') {
      messages.push({ ...base, name: 'Pricing', properties: { seq } });
    } else {
      const groupId = `grp-${Math.floor(random() * 20)}`;
      messages.push({ ...base, groupId, traits: { name: groupId } });
      entry.groups.add(groupId);
    }
  }
  for (let i = messages.length - 1; i > 0; i -= 1) {
    const j = Math.floor(random() * (i + 1));
    [messages[i], messages[j]] = [messages[j] as Record<string, unknown>, messages[i] as Record<string, unknown>];
  }
  return { messages, expected };
}

/** Every JSON file of the store (shards, manifest) parses: a crash never leaves a torn file. */
async function assertStoreFilesParse(storeDir: string): Promise<number> {
  let parsed = 0;
  const walk = async (dir: string): Promise<void> => {
    for (const entry of await readdir(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) await walk(path);
      else if (entry.name.endsWith('.json')) {
        const text = await readFile(path, 'utf8');
        try {
          JSON.parse(text);
        } catch (error) {
          assert.unreachable(`${path} is not valid JSON after a crash: ${(error as Error).message}`);
        }
        parsed += 1;
      }
    }
  };
  await walk(storeDir);
  return parsed;
}

async function getJson(url: string, apiKey: string): Promise<{ status: number; json: Record<string, unknown> }> {
  const response = await fetch(url, { headers: { authorization: `Bearer ${apiKey}` } });
  return { status: response.status, json: (await response.json()) as Record<string, unknown> };
}

/** Runs `task` over `items`, `concurrency` at a time. */
async function pool<T>(items: readonly T[], concurrency: number, task: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(Array.from({ length: concurrency }, async () => {
    while (next < items.length) {
      const item = items[next] as T;
      next += 1;
      await task(item);
    }
  }));
}

const report = (line: string): void => {
  if (process.env['RELIABILITY_FIGURES']) process.stdout.write(`  [figures] ${line}\n`);
};

// ---
const crash = suite('crash: SIGKILL during a 10,000-message replay; every acknowledged message applied exactly once');

crash('acknowledged => applied once; duplicates answered as such; the store reopens cleanly', async () => {
  const startedMs = performance.now();
  const random = prng(SEED);
  const { messages, expected } = buildWorkload(random);
  // One kill in each of KILLS equal stretches of the run, at a seeded point within it.
  const stretch = (MESSAGES - 1000) / KILLS;
  const killAt = Array.from({ length: KILLS }, (_, k) => Math.floor(500 + k * stretch + random() * stretch));

  const root = await tempDir('sb-crash-');
  const dataDir = join(root, 'data');
  const configFile = await writeEnvironmentFile({ dir: root, settings: { name: 'staging', historyLimit: HISTORY_LIMIT, segment: { host: 'http://127.0.0.1:9' } } });
  const start = () => ChildInstance.start({ configFile, dataDir, vars: SECRETS, cwd: root });

  let current = await start();
  let ready: Promise<string> = Promise.resolve(current.url);
  let kills = 0;
  let restarting = false;
  const killAndRestart = async (): Promise<string> => {
    const exit = await current.kill('SIGKILL');
    assert.is(exit.signal, 'SIGKILL');
    kills += 1;
    await assertStoreFilesParse(join(dataDir, 'store'));
    current = await start();
    restarting = false;
    return current.url;
  };
  const sender = new SegmentSender({
    target: () => ready,
    sharedSecret: SECRETS.SEGMENT_SHARED_SECRET_STAGING,
    concurrency: 16,
    onAcknowledged: (acknowledged) => {
      if (!restarting && kills < killAt.length && acknowledged >= (killAt[kills] ?? Infinity)) {
        restarting = true;
        ready = killAndRestart();
      }
    },
  });

  try {
    await sender.sendAll(messages);
    await ready;
    assert.is(kills, KILLS, 'every planned kill happened');
    assert.is(sender.failed.size, 0, `no message refused: ${JSON.stringify([...sender.failed].slice(0, 3))}`);
    assert.is(sender.acknowledged.size, MESSAGES);
    for (const [messageId, times] of sender.acceptedReports) assert.ok(times <= 1, `${messageId} reported accepted ${times} times`);
    assert.ok(sender.stats.accepted <= MESSAGES);
    assert.is(sender.stats.accepted + sender.stats.duplicates >= MESSAGES, true);
    assert.is(sender.stats.rejected, 0);
    assert.is(sender.stats.ignored, 0);
    const firstPass = { ...sender.stats, byStatus: { ...sender.stats.byStatus } };

    const apiKey = SECRETS.BRIDGE_API_KEY_STAGING;
    await pool([...expected.entries()], 16, async ([userId, want]) => {
      const { status, json } = await getJson(`${current.url}/v1/users/${userId}`, apiKey);
      assert.is(status, 200, userId);
      const counts = json['counts'] as Expected & { byType: Record<string, number> };
      assert.is(counts.total, want.total, `${userId}: counts.total`);
      assert.equal(counts.byType, want.byType, `${userId}: counts.byType`);
      assert.equal(counts.byEvent, want.byEvent, `${userId}: counts.byEvent`);
      const recent = (json['recentEvents'] as Array<{ messageId: string }>).map((event) => event.messageId);
      assert.is(new Set(recent).size, recent.length, `${userId}: recentEvents unique`);
      assert.equal(recent, want.messageSeqs.slice(0, HISTORY_LIMIT).map((seq) => `crash-${seq}`), `${userId}: newest by timestamp, not arrival`);
      const traits = json['traits'] as Record<string, unknown>;
      if (want.lastIdentify) assert.equal({ seq: traits['seq'], plan: traits['plan'] }, want.lastIdentify, `${userId}: latest identify wins`);
      const groups = (json['groups'] as Array<{ groupId: string }>).map((group) => group.groupId).sort();
      assert.equal(groups, [...want.groups].sort(), `${userId}: groups`);
    });

    // Segment also redelivers messages it already got a 2xx for (hours later): every one is a duplicate.
    const redelivered = messages.filter((_, index) => index % 10 === 0);
    const duplicatesBefore = sender.stats.duplicates;
    const acceptedBefore = sender.stats.accepted;
    await sender.sendAll(redelivered);
    assert.is(sender.stats.accepted, acceptedBefore, 'a redelivered message is never accepted again');
    assert.is(sender.stats.duplicates - duplicatesBefore, redelivered.length);

    const stop = await current.stop();
    assert.is(stop.code, 0, `graceful stop: ${current.stderr()}`);
    const files = await assertStoreFilesParse(join(dataDir, 'store'));
    assert.ok(files > 1, 'shards were written on close');
    const store = await LowdbRecordStore.open<BridgeSchema>({ dir: join(dataDir, 'store') });
    try {
      assert.is(store.count('seen'), MESSAGES, 'every messageId remembered once');
      assert.is(store.count('users'), expected.size);
      const total = [...store.values('users')].reduce((sum, profile) => sum + profile.counts.total, 0);
      assert.is(total, MESSAGES, 'sum of counts = messages sent: nothing applied twice, nothing lost');
      assert.is(store.stats().recovered.tornBytesTruncated, 0);
    } finally {
      await store.close();
    }
    const seconds = ((performance.now() - startedMs) / 1000).toFixed(1);
    report(`inbound: ${MESSAGES} messages + ${redelivered.length} redelivered, ${KILLS} SIGKILLs at acks ${killAt.join('/')}; ` +
      `${firstPass.requests} requests, ${firstPass.retries} retries, ${firstPass.networkErrors} network errors, ` +
      `${firstPass.accepted} accepted, ${firstPass.duplicates} duplicates (responses lost in a kill), statuses ${JSON.stringify(firstPass.byStatus)}; ${seconds} s`);
  } finally {
    await ready.catch(() => undefined);
    await current.kill('SIGKILL').catch(() => undefined);
  }
});

crash.run();

// ---
const outage = suite('crash: Segment outage, SIGKILL and SIGTERM; every 202-acknowledged flow event is delivered');

outage('events queued while Segment is down survive a SIGKILL and arrive, with their messageIds, once Segment is back', async () => {
  const startedMs = performance.now();
  const standin = await SegmentStandin.start({ writeKeys: [SECRETS.SEGMENT_WRITE_KEY_STAGING] });
  standin.setDown(true);
  const root = await tempDir('sb-outage-');
  const dataDir = join(root, 'data');
  const configFile = await writeEnvironmentFile({ dir: root, settings: { name: 'staging', segment: { host: standin.url, flushAt: 50, flushIntervalMs: 10 } } });
  const start = () => ChildInstance.start({ configFile, dataDir, vars: SECRETS, cwd: root });
  let current = await start();
  const apiKey = SECRETS.BRIDGE_API_KEY_STAGING;
  const acknowledged = new Set<string>();
  let killed: Promise<unknown> | undefined;
  let postErrors = 0;
  const EVENTS = 400;
  const bodies = Array.from({ length: EVENTS / 10 }, (_, request) =>
    Array.from({ length: 10 }, (_, i) => {
      const n = request * 10 + i;
      const event = { event: 'Flow Step Completed', userId: `outage-user-${n % 37}`, properties: { flow_id: 'onboarding', step_id: `step-${n}` }, timestamp: new Date(BASE_MS + n).toISOString() };
      // Half carry the product's own messageId, half get one from the bridge (returned in the 202).
      return n % 2 === 0 ? { ...event, messageId: `outage-${n}` } : event;
    }));
  try {
    await pool(bodies, 4, async (body) => {
      try {
        const response = await fetch(`${current.url}/v1/flow-events`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', authorization: `Bearer ${apiKey}` },
          body: JSON.stringify(body),
        });
        const json = (await response.json()) as { messageIds?: string[] };
        if (response.status === 202) for (const id of json.messageIds ?? []) acknowledged.add(id);
      } catch {
        postErrors += 1; // in flight when the process died: never acknowledged, nothing promised
      }
      // Kill mid-stream, after some delivery attempts failed against the dead Segment.
      if (!killed && acknowledged.size >= EVENTS / 2 && standin.requests().length > 0) killed = current.kill('SIGKILL');
    });
    assert.ok(killed, 'the instance was killed mid-stream');
    await killed;
    assert.is(standin.messageIds().size, 0, 'nothing reached Segment while it was down');
    assert.ok(acknowledged.size >= EVENTS / 2, `${acknowledged.size} events acknowledged before the kill`);

    current = await start();
    standin.setDown(false);
    const deadline = Date.now() + 30_000;
    const missing = (): string[] => [...acknowledged].filter((id) => !standin.messageIds().has(id));
    while (missing().length > 0 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 50));
    assert.equal(missing(), [], 'every 202-acknowledged flow event reached Segment');
    for (const event of standin.events()) {
      assert.is(event['event'], 'Flow Step Completed');
      assert.is((event['properties'] as Record<string, unknown>)['environment'], 'staging');
    }
    const status = await getJson(`${current.url}/v1/status`, apiKey);
    const pendingAfter = (status.json['outbox'] as { pending: number }).pending;
    report(`outbox: ${acknowledged.size} flow events acknowledged (${postErrors} requests lost in the kill), 1 SIGKILL during a Segment outage; ` +
      `${standin.requests().length} requests to Segment, ${standin.events().length} events received (${standin.messageIds().size} distinct); ` +
      `${pendingAfter} pending afterwards; ${((performance.now() - startedMs) / 1000).toFixed(1)} s`);
  } finally {
    await current.kill('SIGKILL').catch(() => undefined);
    await standin.close();
  }
});

outage('SIGTERM while Segment hangs: exits 0 within the flush bound, the events stay in the outbox and go out after a restart', async () => {
  const standin = await SegmentStandin.start({ writeKeys: [SECRETS.SEGMENT_WRITE_KEY_STAGING] });
  standin.hangNext(1_000);
  const root = await tempDir('sb-shutdown-');
  const dataDir = join(root, 'data');
  const configFile = await writeEnvironmentFile({ dir: root, settings: { name: 'staging', segment: { host: standin.url, flushAt: 50, flushIntervalMs: 10 } } });
  const start = () => ChildInstance.start({ configFile, dataDir, vars: SECRETS, cwd: root });
  let current = await start();
  try {
    const events = Array.from({ length: 20 }, (_, n) => ({ event: 'Flow Completed', userId: `shutdown-user-${n}`, properties: { flow_id: 'nps' }, messageId: `shutdown-${n}` }));
    const response = await fetch(`${current.url}/v1/flow-events`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${SECRETS.BRIDGE_API_KEY_STAGING}` }, body: JSON.stringify(events) });
    assert.is(response.status, 202);
    while (standin.requests().length === 0) await new Promise((resolve) => setTimeout(resolve, 10));

    const stoppingMs = performance.now();
    let cap: NodeJS.Timeout | undefined;
    const exit = await Promise.race([current.stop(), new Promise<undefined>((resolve) => (cap = setTimeout(() => resolve(undefined), 15_000)))]);
    clearTimeout(cap);
    const shutdownSec = (performance.now() - stoppingMs) / 1000;
    assert.ok(exit, 'the instance exited on SIGTERM although Segment never answered');
    assert.is(exit.code, 0, current.stderr());
    assert.is(standin.messageIds().size, 0);
    const store = await LowdbRecordStore.open<BridgeSchema>({ dir: join(dataDir, 'store') });
    try {
      assert.equal([...store.values('outbox')].map((entry) => entry.messageId).sort(), events.map((event) => event.messageId).sort(), 'left in the outbox on disk');
    } finally {
      await store.close();
    }

    standin.reset();
    current = await start();
    await standin.waitFor(events.length, 20_000);
    assert.equal([...standin.messageIds()].sort(), events.map((event) => event.messageId).sort());
    report(`graceful shutdown: SIGTERM with a delivery hanging at Segment exited 0 after ${shutdownSec.toFixed(1)} s (bound ${SHUTDOWN_FLUSH_MS / 1000} s), ${events.length} events kept and delivered after restart`);
  } finally {
    await current.kill('SIGKILL').catch(() => undefined);
    await standin.close();
  }
});

outage.run();
