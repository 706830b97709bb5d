/**
 * Ingest measurements: signed webhook requests against the baseline Koa server and against
 * the instance with its store pre-seeded at each size (single messages, batches of 100,
 * and a fixed 1,000 req/s for tail latency). Each server runs in its own child process.
 */
import { rm } from 'node:fs/promises';
import { BENCH_SECRETS, benchTempDir, writeBenchEnvironment, type BenchPlan } from './bench-config.ts';
import { spawnServer, type ChildServer } from './child.ts';
import { measureFixedRate, measureFixedRates, type FixedRateRuns } from './fixed-rate.ts';
import { dirBytes, fetchStatus, spawnInstance } from './instance.ts';
import { runLoad } from './load.ts';
import { factoryFor, measured, type Measured } from './measured.ts';
import { bearerBatch, signedSingle, type MessageFactory, type SignedRequest } from './messages.ts';
import { seedInChild } from './seed-store.ts';

export type { Measured } from './measured.ts';

export interface IngestRun {
  single: Measured;
  batch: Measured;
}

export interface BaselineResult extends IngestRun {
  peakRssBytes: number;
  /** The fixed-rate run on the baseline: the machine's own latency floor at that rate. */
  fixedRate: Measured;
  /** Every baseline measurement of the run (the best of each kind is the one compared against). */
  runs: IngestRun[];
}

export interface StoreSizeResult extends IngestRun {
  users: number;
  seedMs: number;
  storeBytes: number;
  startMs: number;
  rssAfterStartBytes: number;
  peakRssBytes: number;
  stopMs: number;
  fixedRate?: FixedRateRuns;
  /** Messages acknowledged 200 (warm-up included). */
  acknowledged: number;
  /** Messages the instance holds as seen afterwards: at least `acknowledged` (requests cut off at the end may add a few). */
  seen: number;
}

/** Warm-up, single messages, then batches: the same sequence on every server. */
export async function measureIngest(options: { server: ChildServer; plan: BenchPlan; factory: MessageFactory }): Promise<IngestRun & { acknowledged: number }> {
  const { server, plan, factory } = options;
  const secret = BENCH_SECRETS.sharedSecret;
  const single = (): SignedRequest => signedSingle(factory, secret);
  const warm = await runLoad({ url: server.url, path: '/v1/segment', connections: plan.connections, durationSec: 1, next: single });
  const singleRun = await measured({ server, messagesPerRequest: 1, load: { path: '/v1/segment', connections: plan.connections, durationSec: plan.durationSec, next: single } });
  const batchRun = await measured({
    server,
    messagesPerRequest: plan.batchSize,
    load: {
      path: '/v1/segment',
      // Fewer connections for 100-message bodies: Segment batches to cut requests, not to multiply them.
      connections: Math.max(2, Math.floor(plan.connections / 4)),
      durationSec: plan.durationSec,
      next: () => bearerBatch({ factory, secret, size: plan.batchSize }),
    },
  });
  return { single: singleRun, batch: batchRun, acknowledged: warm.ok + singleRun.ok + batchRun.ok * plan.batchSize };
}

export async function measureBaseline(plan: BenchPlan): Promise<BaselineResult> {
  const server = await spawnServer({ args: ['bench/baseline-server.ts'] });
  try {
    const factory = factoryFor(plan.referenceSize);
    const run = await measureIngest({ server, plan, factory });
    const fixedRate = await measureFixedRate({ server, plan, factory });
    return { single: run.single, batch: run.batch, fixedRate, peakRssBytes: await server.peakRssBytes(), runs: [{ single: run.single, batch: run.batch }] };
  } finally {
    await server.stop();
  }
}

/**
 * Combines baseline measurements taken at different times of the run, keeping the fastest of
 * each kind: other work on the machine can only slow a run down, and comparing against the
 * fastest baseline never flatters the bridge.
 */
export function bestBaseline(results: BaselineResult[]): BaselineResult {
  const runs = results.flatMap((result) => result.runs);
  if (runs.length === 0) throw new Error('no baseline measurement');
  const fastest = (kind: keyof IngestRun): Measured =>
    runs.map((run) => run[kind]).reduce((best, run) => (run.messagesPerSec > best.messagesPerSec ? run : best));
  const fixedRate = results.map((result) => result.fixedRate).reduce((best, run) => (run.p99Ms < best.p99Ms ? run : best));
  return { single: fastest('single'), batch: fastest('batch'), fixedRate, peakRssBytes: Math.max(...results.map((result) => result.peakRssBytes)), runs };
}

/** Seeds `users` profiles, starts the instance on them, measures, stops, deletes the store. */
export async function measureStoreSize(options: { plan: BenchPlan; users: number; fixedRate: boolean; log: (line: string) => void }): Promise<StoreSizeResult> {
  const { plan, users, log } = options;
  const dir = await benchTempDir(`ingest-${users}`);
  try {
    const configFile = await writeBenchEnvironment(dir);
    const dataDir = `${dir}/data`;
    log(`  seeding ${users.toLocaleString('en-US')} profiles`);
    const seed = await seedInChild({ dataDir, users });
    const storeBytes = await dirBytes(dataDir);
    const instance = await spawnInstance({ configFile, dataDir });
    log(`  started in ${Math.round(instance.startMs)} ms; measuring`);
    const rssAfterStartBytes = await instance.rssBytes();
    let stopMs = 0;
    try {
      const factory = factoryFor(users);
      const run = await measureIngest({ server: instance, plan, factory });
      let acknowledged = run.acknowledged;
      let fixedRate: FixedRateRuns | undefined;
      if (options.fixedRate) {
        fixedRate = await measureFixedRates({ instance, dataDir, plan, factory, log });
        acknowledged += fixedRate.afterLoad.ok + fixedRate.steady.ok;
      }
      const status = await fetchStatus(instance.url);
      const peakRssBytes = await instance.peakRssBytes();
      stopMs = await instance.stop();
      return {
        users,
        seedMs: seed.durationMs,
        storeBytes,
        startMs: instance.startMs,
        rssAfterStartBytes,
        peakRssBytes,
        stopMs,
        single: run.single,
        batch: run.batch,
        ...(fixedRate ? { fixedRate } : {}),
        acknowledged,
        seen: status.counts.seenMessages,
      };
    } finally {
      if (stopMs === 0) await instance.stop();
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
