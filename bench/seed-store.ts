/**
 * Pre-seeds an environment's store with `users` realistic profiles (and the anonymousId
 * link each one has), by opening LowdbRecordStore on `<dataDir>/store` directly before
 * the instance starts, exactly where startInstance will look.
 *
 * One template profile is built through the real domain code (emptyProfile + applyMessage:
 * an identify and a few track/page calls); each user gets a cheap clone of it with its own
 * ids, sharing the nested parts in memory (they are serialised in full). Seeding runs with
 * fsync off and compaction deferred to close(): it prepares the disk state, it is not what
 * is measured. close() compacts everything into the shard files.
 */
import { join } from 'node:path';
import { LowdbRecordStore } from '../src/adapters/lowdb-record-store.ts';
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
    // Seeding only: the measured instance runs with fsync on.
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
  return { users: options.users, durationMs: Math.round(performance.now() - startedMs) };
}
