/**
 * Tail latency at a fixed request rate (autocannon `overallRate`: open loop, latencies
 * corrected for coordinated omission), on the instance twice: straight after the saturating
 * runs, and once it is idle again. Each run notes whether a compaction rewrote shard files
 * meanwhile (their mtimes), since compactions are what moves the tail.
 */
import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { BENCH_SECRETS, type BenchPlan } from './bench-config.ts';
import type { ChildServer } from './child.ts';
import { measured, type Measured } from './measured.ts';
import { signedSingle, type MessageFactory } from './messages.ts';

/** A fixed-rate run on the instance, and how many shard files a compaction rewrote meanwhile. */
export type FixedRateRun = Measured & { plannedSec: number; shardsRewritten: number };

export interface FixedRateRuns {
  /** Straight after the saturating runs: their compaction and garbage are still being worked off. */
  afterLoad: FixedRateRun;
  /** After the instance went idle again: steady rate (periodic compaction and GC included when they fall in the window). */
  steady: FixedRateRun & { settleMs: number };
}

/** Signed single messages at `plan.fixedRate` requests/second. */
export function measureFixedRate(options: { server: ChildServer; plan: BenchPlan; factory: MessageFactory; durationSec?: number }): Promise<Measured> {
  const { server, plan, factory } = options;
  return measured({
    server,
    messagesPerRequest: 1,
    load: {
      path: '/v1/segment',
      connections: plan.connections,
      overallRate: plan.fixedRate,
      durationSec: options.durationSec ?? plan.fixedRateDurationSec,
      next: () => signedSingle(factory, BENCH_SECRETS.sharedSecret),
    },
  });
}

export async function measureFixedRates(options: { instance: ChildServer; dataDir: string; plan: BenchPlan; factory: MessageFactory; log: (line: string) => void }): Promise<FixedRateRuns> {
  const { instance, dataDir, plan, factory, log } = options;
  const withShards = async (plannedSec: number): Promise<FixedRateRun> => {
    const startedMs = Date.now();
    const run = await measureFixedRate({ server: instance, plan, factory, durationSec: plannedSec });
    return { ...run, plannedSec, shardsRewritten: await shardFilesWrittenSince(dataDir, startedMs) };
  };
  log(`  fixed ${plan.fixedRate} req/s right after the saturating runs`);
  const afterLoad = await withShards(plan.fixedRateDurationSec);
  const settleMs = await waitUntilIdle(instance);
  log(`  idle again after ${Math.round(settleMs)} ms; fixed ${plan.fixedRate} req/s, steady, ${plan.steadyRateDurationSec} s`);
  const steady = await withShards(plan.steadyRateDurationSec);
  return { afterLoad, steady: { ...steady, settleMs } };
}

/** Waits until the child used under 5 % of a core over half a second (its compaction and GC are done); at most 60 s. */
async function waitUntilIdle(server: ChildServer): Promise<number> {
  const startedMs = performance.now();
  let before = await server.cpuMs();
  while (performance.now() - startedMs < 60_000) {
    await new Promise((resolve) => setTimeout(resolve, 500));
    const now = await server.cpuMs();
    if (now - before < 25) break;
    before = now;
  }
  return performance.now() - startedMs;
}

/** Shard files (rewritten by a compaction) modified at or after `sinceMs`. */
async function shardFilesWrittenSince(dataDir: string, sinceMs: number): Promise<number> {
  const dir = join(dataDir, 'store', 'shards');
  let count = 0;
  for (const name of await readdir(dir)) {
    if (name.endsWith('.json') && (await stat(join(dir, name))).mtimeMs >= sinceMs) count += 1;
  }
  return count;
}
