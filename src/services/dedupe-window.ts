/**
 * The dedupe window (`dedupeWindowDays`, SPEC §2): a messageId seen less than the window ago
 * is a duplicate; older ones are forgotten so the `seen` collection does not grow forever. A
 * retry arriving after the window is treated as new, which is what the window means.
 */
import type { BridgeStore } from '../domain/bridge-schema.ts';
import type { SeenMessage } from '../domain/records.ts';

/** How often the instance prunes (and at start-up). */
export const PRUNE_INTERVAL_MS = 60 * 60 * 1000;

const DAY_MS = 86_400_000;

/** True when `seen` (a `seen` record, if any) still makes its messageId a duplicate at `nowMs`. */
export function isWithinDedupeWindow(options: { seen: SeenMessage | undefined; nowMs: number; dedupeWindowDays: number }): boolean {
  const { seen, nowMs, dedupeWindowDays } = options;
  return seen !== undefined && nowMs - seen.atMs < dedupeWindowDays * DAY_MS;
}

/** Removes expired `seen` entries (without committing) and returns how many. */
export function pruneSeenMessages(options: { store: BridgeStore; dedupeWindowDays: number; nowMs: number }): number {
  const { store, nowMs, dedupeWindowDays } = options;
  const expired: string[] = [];
  for (const [messageId, seen] of store.entries('seen')) {
    if (!isWithinDedupeWindow({ seen, nowMs, dedupeWindowDays })) expired.push(messageId);
  }
  for (const messageId of expired) store.remove('seen', messageId);
  return expired.length;
}
