/**
 * The ingest floor (bench/floor-server.ts): the same load as the baseline against a server
 * that does only the per-request work SPEC §2 requires of any implementation before a 200
 * (HMAC check, JSON parse, Segment-spec validation, a durable append), and no store.
 */
import { rm } from 'node:fs/promises';
import { benchTempDir, type BenchPlan } from './bench-config.ts';
import { spawnServer } from './child.ts';
import { measureIngest, type IngestRun } from './ingest.ts';
import { factoryFor } from './measured.ts';

export async function measureFloor(plan: BenchPlan): Promise<IngestRun> {
  const dir = await benchTempDir('floor');
  const server = await spawnServer({ args: ['bench/floor-server.ts', dir] });
  try {
    const run = await measureIngest({ server, plan, factory: factoryFor(plan.referenceSize) });
    return { single: run.single, batch: run.batch };
  } finally {
    await server.stop();
    await rm(dir, { recursive: true, force: true });
  }
}
