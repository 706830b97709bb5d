/**
 * `tsx bench/latency-only.ts`: only the fixed-rate latency part of `npm run bench` at the
 * reference store size (saturating single and batched runs first, as the full bench does,
 * then 1,000 req/s right after them and once idle again), for quick A/B work.
 * `BENCH_USERS` (default 100000) sets the store size.
 */
import { BENCH_SECRETS, benchPlan } from './bench-config.ts';
import { measureFixedRates } from './fixed-rate.ts';
import { withSeededInstance } from './seeded-instance.ts';
import { runLoad } from './load.ts';
import { factoryFor } from './measured.ts';
import { bearerBatch, signedSingle } from './messages.ts';

const users = Number(process.env['BENCH_USERS'] ?? 100_000);
const plan = benchPlan();
const log = (line: string): void => {
  process.stderr.write(`${line}\n`);
};

await withSeededInstance({ users, prefix: 'latency-only' }, async (instance, dataDir) => {
  const factory = factoryFor(users);
  const secret = BENCH_SECRETS.sharedSecret;
  await runLoad({ url: instance.url, path: '/v1/segment', connections: plan.connections, durationSec: 1 + plan.durationSec, next: () => signedSingle(factory, secret) });
  await runLoad({ url: instance.url, path: '/v1/segment', connections: Math.max(2, plan.connections / 4), durationSec: plan.durationSec, next: () => bearerBatch({ factory, secret, size: plan.batchSize }) });
  const runs = await measureFixedRates({ instance, dataDir, plan, factory, log });
  for (const [name, run] of Object.entries(runs)) {
    process.stdout.write(`${name}: ${Math.round(run.rps)} req/s, p50 ${run.p50Ms} ms, p99 ${run.p99Ms} ms, max ${run.maxMs} ms, shards rewritten ${run.shardsRewritten}, non-2xx ${run.non2xx + run.errors}\n`);
  }
});
