/**
 * Turns one run's measurements into the Markdown tables printed at the end of
 * `npm run bench` (and pasted into bench/RESULTS.md): figures, ratios against the baseline
 * measured in the same run, and the targets with pass / fail.
 */
import { BENCH_FLUSH_AT, type BenchPlan } from './bench-config.ts';
import type { DeliveryResult } from './delivery.ts';
import type { BaselineResult, IngestRun, Measured, StoreSizeResult } from './ingest.ts';
import type { MachineInfo } from './machine.ts';

export interface BenchResults {
  plan: BenchPlan;
  machine: MachineInfo;
  loadAverageEnd: number;
  startedAt: string;
  durationSec: number;
  command: string;
  baseline: BaselineResult;
  /** The floor server: what any correct implementation must do per request, without a store. */
  floor: IngestRun;
  sizes: StoreSizeResult[];
  delivery: DeliveryResult;
}

export interface Target {
  name: string;
  value: string;
  pass: boolean;
}

const int = (value: number): string => Math.round(value).toLocaleString('en-US');
const ms = (value: number): string => (value >= 100 ? int(value) : value.toFixed(value >= 10 ? 0 : 1));
const mib = (bytes: number): string => int(bytes / 2 ** 20);
const sec = (millis: number): string => (millis / 1000).toFixed(1);
const ratio = (value: number): string => value.toFixed(2);
const size = (users: number): string => (users >= 1_000_000 ? `${users / 1_000_000}M` : users >= 1_000 ? `${users / 1_000}k` : String(users));

function referenceOf(results: BenchResults): StoreSizeResult | undefined {
  return results.sizes.find((entry) => entry.users === results.plan.referenceSize);
}

export function evaluateTargets(results: BenchResults): Target[] {
  const { baseline, sizes, delivery, plan } = results;
  const reference = referenceOf(results);
  const smallest = sizes[0];
  const largest = sizes[sizes.length - 1];
  const targets: Target[] = [];
  if (reference) {
    const share = reference.single.rps / baseline.single.rps;
    targets.push({ name: `ingest (single, signed) at ${size(reference.users)} profiles >= 50% of baseline`, value: `${ratio(share)} (${int(reference.single.rps)} vs ${int(baseline.single.rps)} req/s)`, pass: share >= 0.5 });
    const fixed = reference.fixedRate;
    if (fixed) {
      const { steady, afterLoad } = fixed;
      const held = steady.rps >= plan.fixedRate * 0.95 && steady.errors === 0 && steady.non2xx === 0;
      targets.push({
        name: `p99 at ${int(plan.fixedRate)} req/s, ${size(reference.users)} profiles < 50 ms (steady, ${steady.plannedSec} s)`,
        value: `p99 ${ms(steady.p99Ms)} ms at ${int(steady.rps)} req/s (right after saturation: p99 ${ms(afterLoad.p99Ms)} ms; baseline Koa: ${ms(baseline.fixedRate.p99Ms)} ms)`,
        pass: steady.p99Ms < 50 && held,
      });
    }
  }
  if (smallest && largest && smallest !== largest) {
    for (const kind of ['single', 'batch'] as const) {
      const kept = largest[kind].messagesPerSec / smallest[kind].messagesPerSec;
      targets.push({ name: `ingest (${kind}) at ${size(largest.users)} >= half of ${size(smallest.users)}`, value: `${ratio(kept)} (${int(largest[kind].messagesPerSec)} vs ${int(smallest[kind].messagesPerSec)} msg/s)`, pass: kept >= 0.5 });
    }
  }
  const share = delivery.bridge.eventsPerSec / delivery.alone.eventsPerSec;
  targets.push({ name: 'delivery >= 80% of analytics-node alone', value: `${ratio(share)} (${int(delivery.bridge.eventsPerSec)} vs ${int(delivery.alone.eventsPerSec)} events/s)`, pass: share >= 0.8 });
  const strict = delivery.bridge.eventsPerSec / delivery.aloneSameClient.eventsPerSec;
  targets.push({ name: "(stricter) delivery >= 80% of analytics-node alone on the bridge's HTTP client", value: `${ratio(strict)} (${int(delivery.bridge.eventsPerSec)} vs ${int(delivery.aloneSameClient.eventsPerSec)} events/s)`, pass: strict >= 0.8 });
  return targets;
}

function ingestRow(options: { label: string; run: Measured; baseline: Measured }): string {
  const { label, run, baseline } = options;
  const failures = run.non2xx + run.errors;
  return `| ${label} | ${int(run.rps)} | ${int(run.messagesPerSec)} | ${ratio(run.messagesPerSec / baseline.messagesPerSec)} | ${ms(run.p50Ms)} | ${ms(run.p99Ms)} | ${int(run.serverCpuUsPerMessage)} | ${int(run.loadCpuUsPerRequest)} | ${failures} |`;
}

export function renderReport(results: BenchResults): string {
  const { machine, plan, baseline, sizes, delivery } = results;
  const lines: string[] = [];
  lines.push(`Machine: ${machine.cpuModel}, ${machine.cores} cores, ${machine.memoryGiB} GiB, Node ${machine.node}, ${machine.platform}`);
  lines.push(`Run: \`${results.command}\`${plan.quick ? ' (BENCH_QUICK)' : ''}, started ${results.startedAt}, took ${Math.round(results.durationSec)} s; load average ${machine.loadAverage} at start, ${results.loadAverageEnd} at end`);
  lines.push('');
  lines.push(`Ingest (POST /v1/segment; ${plan.connections} connections for single messages, ${Math.max(2, Math.floor(plan.connections / 4))} for batches of ${plan.batchSize}; ${plan.durationSec} s each; 200 only after fdatasync):`);
  lines.push('');
  lines.push('| Scenario | req/s | msg/s | vs baseline | p50 ms | p99 ms | server CPU µs/msg | load generator CPU µs/req | non-2xx+errors |');
  lines.push('|---|---:|---:|---:|---:|---:|---:|---:|---:|');
  lines.push(ingestRow({ label: 'baseline Koa, single', run: baseline.single, baseline: baseline.single }));
  lines.push(ingestRow({ label: `baseline Koa, batch ${plan.batchSize}`, run: baseline.batch, baseline: baseline.batch }));
  lines.push(ingestRow({ label: 'floor (verify + validate + durable append, no store), single', run: results.floor.single, baseline: baseline.single }));
  lines.push(ingestRow({ label: `floor (verify + validate + durable append, no store), batch ${plan.batchSize}`, run: results.floor.batch, baseline: baseline.batch }));
  for (const entry of sizes) {
    lines.push(ingestRow({ label: `bridge ${size(entry.users)} profiles, single`, run: entry.single, baseline: baseline.single }));
    lines.push(ingestRow({ label: `bridge ${size(entry.users)} profiles, batch ${plan.batchSize}`, run: entry.batch, baseline: baseline.batch }));
  }
  lines.push(ingestRow({ label: `baseline Koa, fixed ${int(plan.fixedRate)} req/s (${plan.fixedRateDurationSec} s)`, run: baseline.fixedRate, baseline: baseline.single }));
  for (const entry of sizes) {
    const fixed = entry.fixedRate;
    if (!fixed) continue;
    const shards = (run: { shardsRewritten: number }): string => (run.shardsRewritten > 0 ? `, compaction rewrote ${run.shardsRewritten} shards meanwhile` : ', no compaction');
    lines.push(ingestRow({ label: `bridge ${size(entry.users)}, fixed ${int(plan.fixedRate)} req/s right after saturation (${fixed.afterLoad.plannedSec} s${shards(fixed.afterLoad)})`, run: fixed.afterLoad, baseline: baseline.single }));
    lines.push(ingestRow({ label: `bridge ${size(entry.users)}, fixed ${int(plan.fixedRate)} req/s steady (${fixed.steady.plannedSec} s, after ${sec(fixed.steady.settleMs)} s idle wait${shards(fixed.steady)})`, run: fixed.steady, baseline: baseline.single }));
  }
  lines.push('');
  const baselineRuns = baseline.runs.map((run) => `${int(run.single.rps)} single req/s, ${int(run.batch.messagesPerSec)} batched msg/s`).join('; ');
  lines.push(`Baseline measured at the start and at the end of the run (${baselineRuns}); ratios use the faster of each.`);
  lines.push('');
  lines.push('Store and memory (instance in its own process; RSS from /proc):');
  lines.push('');
  lines.push('| Profiles | seed s | store on disk MiB | start s (to `listening on`) | RSS after start MiB | peak RSS MiB | stop s (final compaction) | acked msgs / seen |');
  lines.push('|---:|---:|---:|---:|---:|---:|---:|---:|');
  for (const entry of sizes) {
    lines.push(`| ${int(entry.users)} | ${sec(entry.seedMs)} | ${mib(entry.storeBytes)} | ${sec(entry.startMs)} | ${mib(entry.rssAfterStartBytes)} | ${mib(entry.peakRssBytes)} | ${sec(entry.stopMs)} | ${int(entry.acknowledged)} / ${int(entry.seen)} |`);
  }
  lines.push(`| baseline Koa | | | | | ${mib(baseline.peakRssBytes)} | | |`);
  lines.push('');
  lines.push(`Delivery (${int(delivery.bridge.events)} flow events, POSTed in batches of ${plan.deliveryBatch}; analytics-node flushAt ${BENCH_FLUSH_AT} on both sides; best of ${delivery.rounds} alternating rounds):`);
  lines.push('');
  lines.push('| Side | events/s | seconds | received | CPU µs/event (all threads) | cores busy | vs analytics-node alone |');
  lines.push('|---|---:|---:|---:|---:|---:|---:|');
  const { alone, aloneSameClient: same, bridge } = delivery;
  lines.push(`| analytics-node alone (its default HTTP client, fetch) | ${int(alone.eventsPerSec)} | ${sec(alone.durationMs)} | ${int(alone.received)} | ${int(alone.cpuUsPerEvent)} | ${alone.cores.toFixed(2)} | 1.00 |`);
  lines.push(`| analytics-node alone on the bridge's keep-alive HTTP client | ${int(same.eventsPerSec)} | ${sec(same.durationMs)} | ${int(same.received)} | ${int(same.cpuUsPerEvent)} | ${same.cores.toFixed(2)} | ${ratio(same.eventsPerSec / alone.eventsPerSec)} |`);
  lines.push(`| bridge (POST -> outbox -> Segment) | ${int(bridge.eventsPerSec)} | ${sec(bridge.durationMs)} | ${int(bridge.received)} | ${int(bridge.cpuUsPerEvent)} | ${bridge.cores.toFixed(2)} | ${ratio(bridge.eventsPerSec / alone.eventsPerSec)} |`);
  lines.push(`(bridge: all ${int(bridge.events)} events were durably queued (202) after ${sec(bridge.acceptedMs)} s; outbox pending afterwards: ${bridge.outboxPending})`);
  lines.push('');
  lines.push('Targets:');
  lines.push('');
  lines.push('| Target | Measured | Pass |');
  lines.push('|---|---|---|');
  for (const target of evaluateTargets(results)) lines.push(`| ${target.name} | ${target.value} | ${target.pass ? 'yes' : 'NO'} |`);
  const reference = referenceOf(results);
  if (reference) {
    const floorShare = results.floor.single.rps / baseline.single.rps;
    lines.push('');
    lines.push(
      `Context: the floor server (no store) reaches ${ratio(floorShare)} of the baseline for single messages; the bridge at ${size(reference.users)} profiles reaches ${ratio(reference.single.rps / results.floor.single.rps)} of the floor.`,
    );
  }
  return `${lines.join('\n')}\n`;
}
