/**
 * Segment `delete` (a user deletion request forwarded by Segment): erase the profile, its
 * history, identity links and pending trigger work, leaving only a tombstone so a late retry
 * of an older message does not recreate the user.
 */
import type { BridgeSchema, BridgeStore } from '../domain/bridge-schema.ts';
import { resolveUserId } from './identity.ts';

export function tombstoneKey(kind: 'user' | 'anon', id: string): string {
  return `${kind}:${id}`;
}

export function eraseUser(options: { store: BridgeStore; userId: string; deletedAt: string }): void {
  const { store, deletedAt } = options;
  const userId = resolveUserId(store, options.userId);
  const profile = store.get('users', userId);
  const anonymousIds = new Set(profile?.anonymousIds ?? []);
  const userIds = new Set([userId, options.userId, ...(profile?.aliases ?? [])]);

  // Scanned lazily (the store is not changed until the scans end): a million links are not
  // copied into an array first.
  for (const [anonymousId, link] of store.entries('anonLinks')) {
    if (userIds.has(link.userId)) anonymousIds.add(anonymousId);
  }
  for (const [previousId, link] of store.entries('aliases')) {
    if (userIds.has(link.userId)) userIds.add(previousId);
  }
  for (const anonymousId of anonymousIds) {
    store.remove('anons', anonymousId);
    store.remove('anonLinks', anonymousId);
    keepLatestTombstone(store, tombstoneKey('anon', anonymousId), { userId, deletedAt, anonymousIds: [] });
  }
  for (const id of userIds) {
    store.remove('users', id);
    store.remove('aliases', id);
    store.remove('runIndex', id);
    keepLatestTombstone(store, tombstoneKey('user', id), { userId, deletedAt, anonymousIds: [...anonymousIds] });
  }
  for (const runId of keysWhere(store, 'runs', (run) => userIds.has(run.userId))) store.remove('runs', runId);
  for (const deliveryId of keysWhere(store, 'deliveries', (delivery) => userIds.has(delivery.userId) && delivery.status !== 'delivered')) {
    store.remove('deliveries', deliveryId);
  }
  for (const messageId of keysWhere(store, 'outbox', (entry) => userIds.has(entry.userId))) store.remove('outbox', messageId);
}

/** Keys of a collection whose records match, collected before the caller changes the collection. */
function keysWhere<C extends keyof BridgeSchema & string>(store: BridgeStore, collection: C, matches: (record: BridgeSchema[C]) => boolean): string[] {
  const keys: string[] = [];
  for (const [key, record] of store.entries(collection)) if (matches(record)) keys.push(key);
  return keys;
}

/** True when a message stamped `timestamp` about `kind:id` predates a deletion of it. */
export function isErased(options: { store: BridgeStore; kind: 'user' | 'anon'; id: string; timestamp: string }): boolean {
  const tombstone = options.store.get('tombstones', tombstoneKey(options.kind, options.id));
  return tombstone !== undefined && Date.parse(options.timestamp) <= Date.parse(tombstone.deletedAt);
}

function keepLatestTombstone(store: BridgeStore, key: string, value: { userId: string; deletedAt: string; anonymousIds: string[] }): void {
  const existing = store.get('tombstones', key);
  if (existing && Date.parse(existing.deletedAt) >= Date.parse(value.deletedAt)) return;
  store.put('tombstones', key, value);
}
