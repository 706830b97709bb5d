/**
 * What one `npm run bench` measures and for how long. `BENCH_QUICK=1` shrinks every store
 * and duration for a smoke run (a minute or so); the full run stays under ~10 minutes on a
 * 2-core machine.
 */
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface BenchPlan {
  quick: boolean;
  /** Profiles pre-seeded per ingest scenario, smallest first. */
  storeSizes: number[];
  /** The store size the fixed-rate and the "≥ 50 % of baseline" targets are judged at. */
  referenceSize: number;
  /** Seconds per open-loop throughput measurement (autocannon `duration`). */
  durationSec: number;
  /** Seconds of the fixed-rate latency measurement right after the saturating runs (and on the baseline). */
  fixedRateDurationSec: number;
  /** Seconds of the fixed-rate latency measurement once the instance is idle again (the target's measurement). */
  steadyRateDurationSec: number;
  /** Requests/second of the fixed-rate measurement. */
  fixedRate: number;
  /** Concurrent connections of the throughput measurements. */
  connections: number;
  /** Messages per batched (array) request. */
  batchSize: number;
  /** Flow events pushed through the outbox (and through analytics-node alone). */
  deliveryEvents: number;
  /** Flow events per POST /v1/flow-events. */
  deliveryBatch: number;
  /** Alternating analytics-node-alone / bridge rounds; the best of each side counts. */
  deliveryRounds: number;
}

export function benchPlan(env: NodeJS.ProcessEnv = process.env): BenchPlan {
  const quick = env['BENCH_QUICK'] === '1';
  return quick
    ? {
        quick,
        storeSizes: [1_000, 20_000],
        referenceSize: 20_000,
        durationSec: 2,
        fixedRateDurationSec: 3,
        steadyRateDurationSec: 3,
        fixedRate: 1_000,
        connections: 32,
        batchSize: 100,
        deliveryEvents: 3_000,
        deliveryBatch: 100,
        deliveryRounds: 1,
      }
    : {
        quick,
        storeSizes: [1_000, 100_000, 1_000_000],
        referenceSize: 100_000,
        durationSec: 10,
        fixedRateDurationSec: 10,
        steadyRateDurationSec: 90,
        fixedRate: 1_000,
        connections: 32,
        batchSize: 100,
        deliveryEvents: 30_000,
        deliveryBatch: 100,
        deliveryRounds: 3,
      };
}

/** Secrets of the benchmark environment (never real ones; passed to children in env). */
export const BENCH_SECRETS = {
  sharedSecret: 'bench-shared-secret-3f9a0c7e51d24b8a',
  apiKey: 'bench-api-key-8d41c2e07a9f4b36',
  writeKey: 'bench-write-key-segment-standin',
} as const;

/** The environment name; its secrets live in `SEGMENT_*_BENCH` / `BRIDGE_API_KEY_BENCH`. */
export const BENCH_ENV = 'bench';

/** Analytics-node's batch size on both sides of the delivery comparison (the shipped default). */
export const BENCH_FLUSH_AT = 15;

export function benchSecretsEnv(): Record<string, string> {
  return {
    SEGMENT_SHARED_SECRET_BENCH: BENCH_SECRETS.sharedSecret,
    BRIDGE_API_KEY_BENCH: BENCH_SECRETS.apiKey,
    SEGMENT_WRITE_KEY_BENCH: BENCH_SECRETS.writeKey,
  };
}

export async function benchTempDir(prefix: string): Promise<string> {
  return mkdtemp(join(tmpdir(), `sb-bench-${prefix}-`));
}

/**
 * Writes a production-like environment file (`production: true`: every secret required)
 * with the staging triggers, so inbound track calls are evaluated as in a real deployment.
 */
export async function writeBenchEnvironment(dir: string): Promise<string> {
  const file = join(dir, 'bench.json');
  const environment = {
    name: BENCH_ENV,
    port: 0,
    host: '127.0.0.1',
    publicUrl: 'http://127.0.0.1:0',
    production: true,
    segment: { region: 'us', flushAt: BENCH_FLUSH_AT, flushIntervalMs: 1000 },
    triggers: [
      {
        id: 'onboarding-pro-on-signup',
        event: 'Signed Up',
        source: 'any',
        where: { properties: { plan: 'pro' } },
        flow: { id: 'onboarding-pro', url: 'https://app.example.com/flows/onboarding-pro?user={userId}&run={runId}' },
        frequency: { perUser: 'once' },
      },
      {
        id: 'upgrade-tour-on-plan-upgraded',
        event: 'Plan Upgraded',
        source: 'any',
        where: { traits: { plan: { $in: ['pro', 'enterprise'] } } },
        flow: { id: 'upgrade-tour', url: 'https://app.example.com/flows/upgrade-tour?user={userId}&run={runId}' },
        frequency: { perUser: { max: 2, windowDays: 30 } },
      },
    ],
    dedupeWindowDays: 7,
    historyLimit: 50,
  };
  await writeFile(file, `${JSON.stringify(environment, null, 2)}\n`);
  return file;
}
