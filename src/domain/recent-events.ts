/**
 * A profile's bounded history: newest first BY TIMESTAMP (not by arrival), at most
 * `historyLimit` entries, one entry per messageId. Payloads stay small: an entry whose
 * properties serialise to more than 2 KB keeps its name and loses its properties.
 */
import type { JsonObject } from './json.ts';
import type { RecentEvent } from './records.ts';
import { compareTimes } from './event-time.ts';
import { oversizeJsonBytes, withoutHostileKeys } from './json-bounds.ts';

/** Largest properties object kept on a history entry (UTF-8 bytes of its JSON). */
export const MAX_RECENT_PROPERTIES_BYTES = 2 * 1024;

/** Builds an entry; `properties` is dropped when larger than MAX_RECENT_PROPERTIES_BYTES. */
export function recentEvent(options: Omit<RecentEvent, 'properties'> & { properties?: JsonObject }): RecentEvent {
  const { properties, ...entry } = options;
  if (properties === undefined) return { ...entry };
  const clean = withoutHostileKeys(properties);
  return oversizeJsonBytes(clean, MAX_RECENT_PROPERTIES_BYTES) > 0 ? { ...entry } : { ...entry, properties: clean };
}

/**
 * Whether `list` holds the entry of this message: the same messageId at the same instant.
 * The list is newest first by timestamp, so this looks only at the entries of that instant,
 * found by binary search. A full scan read every entry of a long history on every message,
 * and on a large store each of those reads is a cache miss: it was the largest single cost
 * of applying a message to a profile with a full history.
 */
export function hasRecentEvent(list: readonly RecentEvent[], entry: Pick<RecentEvent, 'messageId' | 'timestamp'>): boolean {
  return heldFrom(list, insertionIndex(list, entry.timestamp), entry);
}

/** Whether the run of entries at `entry`'s instant, which starts at `from`, holds its messageId. */
function heldFrom(list: readonly RecentEvent[], from: number, entry: Pick<RecentEvent, 'messageId' | 'timestamp'>): boolean {
  for (let index = from; index < list.length; index += 1) {
    const existing = list[index];
    if (!existing || compareTimes(existing.timestamp, entry.timestamp) !== 0) return false;
    if (existing.messageId === entry.messageId) return true;
  }
  return false;
}

/**
 * Inserts one entry (a message being applied now). Among entries with the same timestamp
 * it goes first, as the latest arrival. An entry already present (hasRecentEvent) is not
 * inserted again.
 */
export function insertRecentEvent(list: readonly RecentEvent[], options: { entry: RecentEvent; historyLimit: number }): RecentEvent[] {
  const { entry } = options;
  const limit = limitOf(options.historyLimit);
  const index = insertionIndex(list, entry.timestamp);
  if (index >= limit || heldFrom(list, index, entry)) return list.slice(0, limit);
  const out = list.slice(0, index);
  out.push(entry);
  for (let from = index; from < list.length && out.length < limit; from += 1) out.push(list[from] as RecentEvent);
  return out;
}

/** The first index whose entry is not later than `timestamp` (the list is newest first). */
function insertionIndex(list: readonly RecentEvent[], timestamp: string): number {
  let low = 0;
  let high = list.length;
  while (low < high) {
    const middle = (low + high) >>> 1;
    const existing = list[middle] as RecentEvent;
    if (compareTimes(existing.timestamp, timestamp) <= 0) high = middle;
    else low = middle + 1;
  }
  return low;
}

/** Merges two histories: deduped by messageId (`first` wins), newest first, bounded. */
export function mergeRecentEvents(options: { first: readonly RecentEvent[]; second: readonly RecentEvent[]; historyLimit: number }): RecentEvent[] {
  const seen = new Set<string>();
  const all: RecentEvent[] = [];
  for (const entry of [...options.first, ...options.second]) {
    if (seen.has(entry.messageId)) continue;
    seen.add(entry.messageId);
    all.push(entry);
  }
  // Array.prototype.sort is stable: on equal timestamps `first` keeps precedence.
  all.sort((a, b) => compareTimes(b.timestamp, a.timestamp));
  return all.slice(0, limitOf(options.historyLimit));
}

function limitOf(historyLimit: number): number {
  return Number.isNaN(historyLimit) ? 0 : Math.max(0, Math.floor(historyLimit));
}
