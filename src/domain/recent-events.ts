/**
 * A profile's bounded history: newest first BY TIMESTAMP (not by arrival), at most
 * `historyLimit` entries, one entry per messageId. Payloads stay small: an entry whose
 * properties serialise to more than 2 KB keeps its name and loses its properties.
 */
import type { JsonObject } from './json.ts';
import type { RecentEvent } from './records.ts';
import { compareTimes } from './event-time.ts';
import { jsonBytesUpperBound, withoutHostileKeys } from './json-bounds.ts';

/** Largest properties object kept on a history entry (UTF-8 bytes of its JSON). */
export const MAX_RECENT_PROPERTIES_BYTES = 2 * 1024;

/** Builds an entry; `properties` is dropped when larger than MAX_RECENT_PROPERTIES_BYTES. */
export function recentEvent(options: Omit<RecentEvent, 'properties'> & { properties?: JsonObject }): RecentEvent {
  const { properties, ...entry } = options;
  if (properties === undefined) return { ...entry };
  const clean = withoutHostileKeys(properties);
  const fits = jsonBytesUpperBound(clean, MAX_RECENT_PROPERTIES_BYTES) <= MAX_RECENT_PROPERTIES_BYTES;
  const bytes = fits ? 0 : Buffer.byteLength(JSON.stringify(clean), 'utf8');
  return bytes > MAX_RECENT_PROPERTIES_BYTES ? { ...entry } : { ...entry, properties: clean };
}

/**
 * Inserts one entry (a message being applied now). Among entries with the same timestamp
 * it goes first, as the latest arrival. An entry whose messageId is present is ignored.
 */
export function insertRecentEvent(list: readonly RecentEvent[], options: { entry: RecentEvent; historyLimit: number }): RecentEvent[] {
  const { entry } = options;
  if (list.some((existing) => existing.messageId === entry.messageId)) return list.slice(0, limitOf(options.historyLimit));
  const index = list.findIndex((existing) => compareTimes(existing.timestamp, entry.timestamp) <= 0);
  const out = index === -1 ? [...list, entry] : [...list.slice(0, index), entry, ...list.slice(index)];
  return out.slice(0, limitOf(options.historyLimit));
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
