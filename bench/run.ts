/**
 * `npm run bench`: ingest, store-size, memory and delivery benchmarks in one run, each
 * figure next to a baseline measured in the same run. See bench/RESULTS.md.
 *
 * Environment:
 * - `BENCH_QUICK=1`: small stores and short durations (a smoke run of about a minute);
 * - `BENCH_OUT=FILE`: also write the report (Markdown) to FILE;
 * - `BENCH_INSTANCE_NODE_FLAGS="..."`: node flags for every instance child (e.g. --cpu-prof).
 * Everything runs on 127.0.0.1; temporary stores are deleted afterwards.
 */
import { writeFile } from 'node:fs/promises';
import { benchPlan } from './bench-config.ts';
import { measureDelivery } from './delivery.ts';
import { bestBaseline, measureBaseline, measureStoreSize, type StoreSizeResult } from './ingest.ts';
import { measureFloor } from './floor.ts';
import { currentLoadAverage, machineInfo } from './machine.ts';
import { renderReport, type BenchResults } from './report.ts';

const log = (line: string): void => {
  process.stderr.write(`${line}\n`);
};

async function main(): Promise<void> {
  const plan = benchPlan();
  const startedMs = performance.now();
  const startedAt = new Date().toISOString();
  const machine = await machineInfo();
  log(`segment-bridge bench${plan.quick ? ' (quick)' : ''}: ${machine.cores} cores, ${machine.cpuModel}, Node ${machine.node}, load ${machine.loadAverage}`);

  log('baseline Koa server');
  const baselineFirst = await measureBaseline(plan);
  log('floor server (verify + validate + durable append, no store)');
  const floor = await measureFloor(plan);
  const sizes: StoreSizeResult[] = [];
  for (const users of plan.storeSizes) {
    log(`bridge with ${users.toLocaleString('en-US')} profiles`);
    sizes.push(await measureStoreSize({ plan, users, fixedRate: users === plan.referenceSize, log }));
  }
  log('delivery');
  const delivery = await measureDelivery({ plan, log });
  log('baseline Koa server again');
  const baseline = bestBaseline([baselineFirst, await measureBaseline(plan)]);

  const results: BenchResults = {
    plan,
    machine,
    loadAverageEnd: currentLoadAverage(),
    startedAt,
    durationSec: (performance.now() - startedMs) / 1000,
    command: `${plan.quick ? 'BENCH_QUICK=1 ' : ''}npm run bench`,
    baseline,
    floor,
    sizes,
    delivery,
  };
  const report = renderReport(results);
  process.stdout.write(`\n${report}`);
  const out = process.env['BENCH_OUT'];
  if (out) await writeFile(out, report);
}

await main();
