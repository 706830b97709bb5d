/**
 * For the quick A/B scripts (ingest-only, latency-only): seeds `users` profiles in a temporary
 * directory, starts the instance on them, runs `fn`, then stops the instance and deletes it all.
 */
import { rm } from 'node:fs/promises';
import { benchTempDir, writeBenchEnvironment } from './bench-config.ts';
import type { ChildServer } from './child.ts';
import { spawnInstance } from './instance.ts';
import { seedInChild } from './seed-store.ts';

export async function withSeededInstance<T>(options: { users: number; prefix: string }, fn: (instance: ChildServer, dataDir: string) => Promise<T>): Promise<T> {
  const dir = await benchTempDir(`${options.prefix}-${options.users}`);
  try {
    const configFile = await writeBenchEnvironment(dir);
    const dataDir = `${dir}/data`;
    await seedInChild({ dataDir, users: options.users });
    const instance = await spawnInstance({ configFile, dataDir });
    try {
      return await fn(instance, dataDir);
    } finally {
      await instance.stop();
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
