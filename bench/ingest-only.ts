/**
 * `tsx bench/ingest-only.ts`: only the single-message ingest comparison of `npm run bench`
 * (baseline Koa vs the instance on a seeded store), for quick A/B work.
 * `BENCH_USERS` (default 100000) sets the store size, `BENCH_SECONDS` (default 10) the run,
 * `BENCH_CONNECTIONS` (default 32) the bridge's connections; `BENCH_SHOW_STDERR=1` prints
 * the instance's stderr; `BENCH_FLOOR=1` also measures the floor server (bench/floor-server.ts).
 */
import { readFile } from 'node:fs/promises';
import { BENCH_SECRETS, benchPlan } from './bench-config.ts';
import { spawnServer, type ChildServer } from './child.ts';
import { withFloorServer } from './floor.ts';
import { withSeededInstance } from './seeded-instance.ts';
import { runLoad } from './load.ts';
import { factoryFor, measured, type Measured } from './measured.ts';
import { signedSingle } from './messages.ts';

const users = Number(process.env['BENCH_USERS'] ?? 100_000);
const durationSec = Number(process.env['BENCH_SECONDS'] ?? 10);
const plan = benchPlan();

async function single(server: ChildServer): Promise<Measured> {
  const factory = factoryFor(users);
  const next = () => signedSingle(factory, BENCH_SECRETS.sharedSecret);
  await runLoad({ url: server.url, path: '/v1/segment', connections: plan.connections, durationSec: 1, next });
  return measured({ server, messagesPerRequest: 1, load: { path: '/v1/segment', connections: Number(process.env['BENCH_CONNECTIONS'] ?? plan.connections), durationSec, next } });
}

const row = (name: string, run: Measured): string =>
  `${name}: ${Math.round(run.rps)} req/s, p50 ${run.p50Ms} ms, p99 ${run.p99Ms} ms, ${Math.round(run.serverCpuUsPerMessage)} µs CPU/msg, load generator ${Math.round(run.loadCpuUsPerRequest)} µs CPU/req, non-2xx ${run.non2xx + run.errors}`;

const baselineServer = await spawnServer({ args: ['bench/baseline-server.ts'] });
const baseline = await single(baselineServer);
await baselineServer.stop();
process.stdout.write(`${row('baseline', baseline)}\n`);
if (process.env['BENCH_FLOOR']) {
  const floor = await withFloorServer(single);
  process.stdout.write(`${row('floor', floor)}\nfloor ratio ${(floor.rps / baseline.rps).toFixed(2)}\n`);
}

await withSeededInstance({ users, prefix: 'ingest-only' }, async (instance) => {
  const before = await procTicks(instance.pid);
  const bridge = await single(instance);
  const after = await procTicks(instance.pid);
  if (process.env['BENCH_SHOW_STDERR']) process.stderr.write(instance.stderr());
  process.stdout.write(`instance CPU ticks during warm-up + run: user ${after.user - before.user}, sys ${after.sys - before.sys}\n`);
  process.stdout.write(`${row(`bridge ${users}`, bridge)}\nratio ${(bridge.rps / baseline.rps).toFixed(2)}\n`);
});

/** utime and stime of /proc/<pid>/stat, in clock ticks (Linux). */
async function procTicks(pid: number): Promise<{ user: number; sys: number }> {
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return { user: Number(fields[11]), sys: Number(fields[12]) };
}
