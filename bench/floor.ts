/**
 * The ingest floor (bench/floor-server.ts): the same load as the baseline against a server
 * that does only the per-request work SPEC §2 requires of any implementation before a 200
 * (HMAC check, JSON parse, Segment-spec validation, a durable append), and no store.
 */
import { rm } from 'node:fs/promises';
import { benchTempDir, type BenchPlan } from './bench-config.ts';
import { spawnServer, type ChildServer } from './child.ts';
import { measureIngest, type IngestRun } from './ingest.ts';
import { extraNodeFlags } from './instance.ts';
import { factoryFor } from './measured.ts';

/** Starts the floor server on a temporary directory, runs `fn`, then stops it and deletes the directory. */
export async function withFloorServer<T>(fn: (server: ChildServer) => Promise<T>): Promise<T> {
  const dir = await benchTempDir('floor');
  try {
    const server = await spawnServer({ args: ['bench/floor-server.ts', dir], nodeFlags: extraNodeFlags() });
    try {
      return await fn(server);
    } finally {
      await server.stop();
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

export function measureFloor(plan: BenchPlan): Promise<IngestRun> {
  return withFloorServer(async (server) => {
    const run = await measureIngest({ server, plan, factory: factoryFor(plan.referenceSize) });
    return { single: run.single, batch: run.batch };
  });
}
