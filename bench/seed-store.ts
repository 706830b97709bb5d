/**
 * Pre-seeds an environment's store with `users` realistic profiles (and the anonymousId
 * link each one has), by opening LowdbRecordStore on `<dataDir>/store` directly before
 * the instance starts, exactly where startInstance will look.
 *
 * One template profile is built through the real domain code (emptyProfile + applyMessage:
 * an identify and a few track/page calls); each user gets a cheap clone of it with its own
 * ids, sharing the nested parts in memory (they are serialised in full). Seeding commits
 * with fsync off and defers compaction to close(): it prepares the disk state, it is not
 * what is measured. close() compacts everything into the shard files, which are then
 * fsynced, so no writeback of the seed is left for the measured instance to compete with.
 *
 * The bench seeds through `seedInChild`: in a process of its own, so the load generator's
 * heap never held the seeded store (3 GB at a million profiles).
 */
import { execFile } from 'node:child_process';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { LowdbRecordStore } from '../src/adapters/lowdb-record-store.ts';
import { fsyncDir, fsyncFile } from '../src/adapters/store/durable-fs.ts';
import type { BridgeSchema } from '../src/domain/bridge-schema.ts';
import type { Profile } from '../src/domain/records.ts';
import { applyMessage, emptyProfile } from '../src/domain/profile.ts';
import { parseSegmentMessage } from '../src/domain/segment-message.ts';
import { benchUserId } from './messages.ts';

const TEMPLATE_AT = '2025-01-06T10:00:00.000Z';

/** The profile every seeded user starts from: what a few days of ordinary traffic leave behind. */
export function templateProfile(): Profile {
  const wire: unknown[] = [
    {
      type: 'identify',
      userId: 'template',
      anonymousId: 'anon-template',
      messageId: 'seed-identify',
      timestamp: '2025-01-02T09:00:00.000Z',
      traits: { email: 'template@example.com', firstName: 'Dana', lastName: 'Reyes', plan: 'free', createdAt: '2025-01-02T09:00:00.000Z', company: { name: 'Acme Inc', id: 'grp-1' } },
    },
    { type: 'track', userId: 'template', messageId: 'seed-t1', timestamp: '2025-01-03T10:00:00.000Z', event: 'Product Viewed', properties: { product_id: 'sku-12', price: 49 } },
    { type: 'page', userId: 'template', messageId: 'seed-p1', timestamp: '2025-01-04T10:00:00.000Z', name: 'Pricing', properties: { path: '/pricing' } },
    { type: 'track', userId: 'template', messageId: 'seed-t2', timestamp: '2025-01-05T10:00:00.000Z', event: 'Report Exported', properties: { format: 'csv' } },
    { type: 'track', userId: 'template', messageId: 'seed-t3', timestamp: TEMPLATE_AT, event: 'Invite Sent', properties: { invitee_role: 'editor' } },
  ];
  let profile = emptyProfile({ id: 'template', kind: 'user', at: '2025-01-02T09:00:00.000Z' });
  for (const item of wire) {
    const parsed = parseSegmentMessage(item);
    if (!parsed.ok) throw new Error(`seed template message invalid: ${JSON.stringify(parsed.errors)}`);
    if (parsed.message.type === 'delete') continue;
    profile = applyMessage(profile, parsed.message, { historyLimit: 50 });
  }
  return profile;
}

export interface SeedResult {
  users: number;
  durationMs: number;
}

/** Seeds users `0 .. users-1` into `<dataDir>/store`, committing every `chunk` users. */
export async function seedStore(options: { dataDir: string; users: number; chunk?: number }): Promise<SeedResult> {
  const startedMs = performance.now();
  const chunk = options.chunk ?? 20_000;
  const template = templateProfile();
  const store = await LowdbRecordStore.open<BridgeSchema>({
    dir: join(options.dataDir, 'store'),
    // Commits of the seed need no durability; the shard files written at close() are fsynced.
    fsync: false,
    // One compaction, at close, instead of one per 64 MiB of journal.
    compactAtBytes: Number.MAX_SAFE_INTEGER,
  });
  try {
    for (let index = 0; index < options.users; index += 1) {
      const userId = benchUserId(index);
      const anonymousId = `anon-${index.toString(36)}-7c1e`;
      store.put('users', userId, { ...template, id: userId, anonymousIds: [anonymousId], traits: { ...template.traits, email: `${userId}@example.com` } });
      store.put('anonLinks', anonymousId, { userId, kind: 'anonymous', linkedAt: TEMPLATE_AT });
      if ((index + 1) % chunk === 0) await store.commit();
    }
    await store.commit();
  } finally {
    await store.close();
  }
  await fsyncTree(join(options.dataDir, 'store'));
  return { users: options.users, durationMs: Math.round(performance.now() - startedMs) };
}

/** seedStore in a child process (bench/seed-child.ts). */
export async function seedInChild(options: { dataDir: string; users: number }): Promise<SeedResult> {
  const { stdout } = await promisify(execFile)(process.execPath, ['--import', 'tsx', 'bench/seed-child.ts', options.dataDir, String(options.users)], {
    maxBuffer: 1024 * 1024,
  });
  return JSON.parse(stdout) as SeedResult;
}

/** fdatasyncs every file below `dir`, then each directory. */
async function fsyncTree(dir: string): Promise<void> {
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) await fsyncTree(path);
    else if (entry.isFile()) await fsyncFile(path);
  }
  await fsyncDir(dir);
}
