/**
 * Delivery: flow events/second from POST /v1/flow-events (batches of 100) through the
 * durable outbox to a local Segment stand-in, until the stand-in has all of them, against
 * @segment/analytics-node alone (bench/analytics-alone.ts, its own process) sending the same
 * events to the same stand-in with the same flushAt. The stand-in runs in this process for
 * both, so the two sides pay the same receiving cost.
 */
import { spawn } from 'node:child_process';
import { rm } from 'node:fs/promises';
import { createInterface } from 'node:readline';
import { SegmentStandin } from '../test/support/segment-standin.ts';
import { BENCH_ENV, BENCH_FLUSH_AT, BENCH_SECRETS, benchTempDir, writeBenchEnvironment, type BenchPlan } from './bench-config.ts';
import { benchFlowEvent } from './flow-events.ts';
import { procCpuMs } from './child.ts';
import { fetchStatus, spawnInstance } from './instance.ts';
import { seedInChild } from './seed-store.ts';

/** Users the flow events are spread over (their profiles carry the flow history). */
const DELIVERY_USERS = 10_000;
const FLUSH_INTERVAL_MS = 1_000;
/** Concurrent POSTs of the product. */
const POST_CONNECTIONS = 5;

export interface DeliverySide {
  events: number;
  durationMs: number;
  eventsPerSec: number;
  /** Distinct messageIds of the run the stand-in accepted. */
  received: number;
  /** CPU time (all threads) of the sending process per event, start to last event received. */
  cpuUsPerEvent: number;
  /** That CPU time over the elapsed time: above 1 means more than one core busy (GC threads). */
  cores: number;
}

export interface DeliveryResult {
  bridge: DeliverySide & {
    /** Until every POST /v1/flow-events was answered 202 (events durably in the outbox). */
    acceptedMs: number;
    outboxPending: number;
    peakRssBytes: number;
  };
  /** analytics-node alone with its defaults (global fetch): the comparison. */
  alone: DeliverySide;
  /**
   * analytics-node alone given the bridge sink's HTTP client (src/adapters/keep-alive-http-client.ts):
   * the stricter comparison, without the part of the difference that is only the HTTP client.
   */
  aloneSameClient: DeliverySide;
  /** Alternating rounds run; each side reports its best round (the machine's noise only ever slows a run down). */
  rounds: number;
}

export async function measureDelivery(options: { plan: BenchPlan; log: (line: string) => void }): Promise<DeliveryResult> {
  const { plan, log } = options;
  const standin = await SegmentStandin.start({ writeKeys: [BENCH_SECRETS.writeKey] });
  let best: Omit<DeliveryResult, 'rounds'> | undefined;
  try {
    for (let round = 1; round <= plan.deliveryRounds; round += 1) {
      standin.reset();
      const alone = await measureAlone({ standin, events: plan.deliveryEvents, httpClient: 'default' });
      log(`  round ${round}: analytics-node alone ${Math.round(alone.eventsPerSec)} events/s (${Math.round(alone.cpuUsPerEvent)} µs CPU/event, ${alone.cores.toFixed(2)} cores)`);
      standin.reset();
      const aloneSameClient = await measureAlone({ standin, events: plan.deliveryEvents, httpClient: 'keep-alive' });
      log(`  round ${round}: analytics-node alone on the bridge's HTTP client ${Math.round(aloneSameClient.eventsPerSec)} events/s (${Math.round(aloneSameClient.cpuUsPerEvent)} µs CPU/event)`);
      standin.reset();
      const bridge = await measureBridge({ standin, plan });
      log(`  round ${round}: bridge ${Math.round(bridge.eventsPerSec)} events/s (${Math.round(bridge.cpuUsPerEvent)} µs CPU/event, ${bridge.cores.toFixed(2)} cores; all queued after ${Math.round(bridge.acceptedMs)} ms)`);
      best = {
        alone: best && best.alone.eventsPerSec > alone.eventsPerSec ? best.alone : alone,
        aloneSameClient: best && best.aloneSameClient.eventsPerSec > aloneSameClient.eventsPerSec ? best.aloneSameClient : aloneSameClient,
        bridge: best && best.bridge.eventsPerSec > bridge.eventsPerSec ? best.bridge : bridge,
      };
    }
  } finally {
    await standin.close();
  }
  if (!best) throw new Error('deliveryRounds must be at least 1');
  return { ...best, rounds: plan.deliveryRounds };
}

function received(standin: SegmentStandin, runTag: string): number {
  let count = 0;
  for (const id of standin.messageIds()) if (id.startsWith(`flow-${runTag}-`)) count += 1;
  return count;
}

async function measureBridge(options: { standin: SegmentStandin; plan: BenchPlan }): Promise<DeliveryResult['bridge']> {
  const { standin, plan } = options;
  const dir = await benchTempDir('delivery');
  try {
    const configFile = await writeBenchEnvironment(dir);
    const dataDir = `${dir}/data`;
    await seedInChild({ dataDir, users: DELIVERY_USERS });
    const instance = await spawnInstance({ configFile, dataDir, segmentHost: standin.url });
    try {
      const runTag = `b${Date.now().toString(36)}`;
      const total = plan.deliveryEvents;
      const cpuBeforeMs = await instance.cpuMs();
      const startedMs = performance.now();
      const acceptedMs = await postFlowEvents({ url: instance.url, runTag, total, perRequest: plan.deliveryBatch }).then(() => performance.now() - startedMs);
      await standin.waitFor(total, 180_000);
      const durationMs = performance.now() - startedMs;
      const cpuMs = (await instance.cpuMs()) - cpuBeforeMs;
      const status = await fetchStatus(instance.url);
      const peakRssBytes = await instance.peakRssBytes();
      return {
        events: total,
        durationMs,
        eventsPerSec: total / (durationMs / 1000),
        received: received(standin, runTag),
        cpuUsPerEvent: (cpuMs * 1000) / total,
        cores: cpuMs / durationMs,
        acceptedMs,
        outboxPending: status.outbox?.pending ?? -1,
        peakRssBytes,
      };
    } finally {
      await instance.stop();
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

async function measureAlone(options: { standin: SegmentStandin; events: number; httpClient: 'default' | 'keep-alive' }): Promise<DeliverySide> {
  const { standin, events } = options;
  const runTag = `a${Date.now().toString(36)}`;
  const child = spawn(process.execPath, ['--import', 'tsx', 'bench/analytics-alone.ts'], {
    stdio: ['pipe', 'pipe', 'inherit'],
    env: {
      ...process.env,
      BENCH_SEGMENT_HOST: standin.url,
      BENCH_WRITE_KEY: BENCH_SECRETS.writeKey,
      BENCH_FLUSH_AT: String(BENCH_FLUSH_AT),
      BENCH_FLUSH_INTERVAL_MS: String(FLUSH_INTERVAL_MS),
      BENCH_EVENTS: String(events),
      BENCH_USERS: String(DELIVERY_USERS),
      BENCH_RUN_TAG: runTag,
      BENCH_ENVIRONMENT: BENCH_ENV,
      BENCH_ALONE_HTTP: options.httpClient,
    },
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
  const lines = createInterface({ input: child.stdout });
  const iterator = lines[Symbol.asyncIterator]();
  const expect = async (word: string): Promise<void> => {
    for (;;) {
      const { value, done } = await iterator.next();
      if (done) throw new Error(`analytics-node child ended before "${word}"`);
      if (String(value).trim() === word) return;
    }
  };
  try {
    await expect('ready');
    const pid = child.pid ?? -1;
    const cpuBeforeMs = await procCpuMs(pid);
    const startedMs = performance.now();
    child.stdin.write('go\n');
    await standin.waitFor(events, 180_000);
    const durationMs = performance.now() - startedMs;
    const cpuMs = (await procCpuMs(pid)) - cpuBeforeMs;
    await expect('done');
    return {
      events,
      durationMs,
      eventsPerSec: events / (durationMs / 1000),
      received: received(standin, runTag),
      cpuUsPerEvent: (cpuMs * 1000) / events,
      cores: cpuMs / durationMs,
    };
  } finally {
    child.stdin.end();
    lines.close();
    if (child.exitCode === null) child.kill('SIGTERM');
    await exited;
  }
}

/**
 * The product's side: POSTs events 0..total-1 in bodies of `perRequest`, from
 * POST_CONNECTIONS concurrent senders, each waiting for its 202 before the next body.
 */
async function postFlowEvents(options: { url: string; runTag: string; total: number; perRequest: number }): Promise<void> {
  const { url, runTag, total, perRequest } = options;
  let next = 0;
  const sender = async (): Promise<void> => {
    while (next < total) {
      const events = [];
      for (let i = 0; i < perRequest && next < total; i += 1, next += 1) events.push(benchFlowEvent({ index: next, users: DELIVERY_USERS, runTag }));
      const response = await fetch(`${url}/v1/flow-events`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${BENCH_SECRETS.apiKey}` },
        body: JSON.stringify(events),
      });
      const body = await response.text();
      if (response.status !== 202) throw new Error(`POST /v1/flow-events answered ${response.status}: ${body.slice(0, 300)}`);
    }
  };
  await Promise.all(Array.from({ length: POST_CONNECTIONS }, () => sender()));
}
