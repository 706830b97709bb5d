/**
 * The dedupe window (`dedupeWindowDays`, SPEC §2): messageIds older than the window are
 * forgotten so the `seen` collection does not grow forever. A retry arriving after the
 * window is treated as new, which is what the window means.
 */
import type { BridgeStore } from '../domain/bridge-schema.ts';

/** How often the instance prunes (and at start-up). */
export const PRUNE_INTERVAL_MS = 60 * 60 * 1000;

/** Removes expired `seen` entries (without committing) and returns how many. */
export function pruneSeenMessages(options: { store: BridgeStore; dedupeWindowDays: number; nowMs: number }): number {
  const { store, nowMs } = options;
  const cutoffMs = nowMs - options.dedupeWindowDays * 86_400_000;
  const expired: string[] = [];
  for (const [messageId, seen] of store.entries('seen')) {
    if (seen.atMs <= cutoffMs) expired.push(messageId);
  }
  for (const messageId of expired) store.remove('seen', messageId);
  return expired.length;
}
