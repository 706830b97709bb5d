/**
 * `tsx bench/ingest-only.ts`: only the single-message ingest comparison of `npm run bench`
 * (baseline Koa vs the instance on a seeded store), for quick A/B work.
 * `BENCH_USERS` (default 100000) sets the store size, `BENCH_SECONDS` (default 10) the run.
 */
import { rm } from 'node:fs/promises';
import { BENCH_SECRETS, benchPlan, benchTempDir, writeBenchEnvironment } from './bench-config.ts';
import { spawnServer, type ChildServer } from './child.ts';
import { spawnInstance } from './instance.ts';
import { runLoad } from './load.ts';
import { factoryFor, measured, type Measured } from './measured.ts';
import { signedSingle } from './messages.ts';
import { seedStore } from './seed-store.ts';

const users = Number(process.env['BENCH_USERS'] ?? 100_000);
const durationSec = Number(process.env['BENCH_SECONDS'] ?? 10);
const plan = benchPlan();

async function single(server: ChildServer): Promise<Measured> {
  const factory = factoryFor(users);
  const next = () => signedSingle(factory, BENCH_SECRETS.sharedSecret);
  await runLoad({ url: server.url, path: '/v1/segment', connections: plan.connections, durationSec: 1, next });
  return measured({ server, messagesPerRequest: 1, load: { path: '/v1/segment', connections: Number(process.env["BENCH_CONNECTIONS"] ?? plan.connections), durationSec, next } });
}

const row = (name: string, run: Measured): string =>
  `${name}: ${Math.round(run.rps)} req/s, p50 ${run.p50Ms} ms, p99 ${run.p99Ms} ms, ${Math.round(run.serverCpuUsPerMessage)} µs CPU/msg, non-2xx ${run.non2xx + run.errors}`;

const baselineServer = await spawnServer({ args: ['bench/baseline-server.ts'] });
const baseline = await single(baselineServer);
await baselineServer.stop();
process.stdout.write(`${row('baseline', baseline)}\n`);

const dir = await benchTempDir(`ingest-only-${users}`);
try {
  const configFile = await writeBenchEnvironment(dir);
  const dataDir = `${dir}/data`;
  await seedStore({ dataDir, users });
  const instance = await spawnInstance({ configFile, dataDir });
  try {
    const readStat = async (): Promise<number[]> => {
      const { readFile } = await import('node:fs/promises');
      const stat = await readFile(`/proc/${instance.pid}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      return [Number(fields[11]), Number(fields[12])];
    };
    const before = await readStat();
    const bridge = await single(instance);
    const after = await readStat();
    if (process.env['BENCH_SHOW_STDERR']) process.stderr.write(instance.stderr());
    process.stdout.write(`instance ticks during warm-up + run: user ${(after[0] ?? 0) - (before[0] ?? 0)}, sys ${(after[1] ?? 0) - (before[1] ?? 0)}\n`);
    process.stdout.write(`${row(`bridge ${users}`, bridge)}\nratio ${(bridge.rps / baseline.rps).toFixed(2)}\n`);
  } finally {
    await instance.stop();
  }
} finally {
  await rm(dir, { recursive: true, force: true });
}
