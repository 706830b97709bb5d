/**
 * Merging one profile into another (SPEC §4): an anonymous profile into the user's when a
 * call links the anonymousId to a userId, or a previous user's profile into the new one on
 * alias. The result keeps the target's id and kind; the source is left untouched.
 */
import type { FlowHistoryEntry, GroupMembership, Profile } from './records.ts';
import { earliest, latest, compareTimes } from './event-time.ts';
import { mergeRecentEvents } from './recent-events.ts';
import { copyRecord, getOwn, setOwn } from './safe-keys.ts';
import { mergeTraitStates } from './traits.ts';

export interface MergeOptions {
  /** Most recent events kept on the merged profile. */
  historyLimit: number;
}

/**
 * Merges `source` into `target`: traits per key by traitTimes (same instant: target keeps),
 * counts summed, recent events merged by timestamp, deduped by messageId and bounded,
 * groups merged per group, anonymousIds and aliases unioned (the source's own id is added
 * to anonymousIds or aliases according to its kind), first/last seen widened, flow
 * history merged by messageId (newest first).
 */
export function mergeProfiles(target: Profile, source: Profile, options: MergeOptions): Profile {
  const sourceIds = source.id === target.id ? [] : [source.id];
  return {
    ...target,
    ...mergeTraitStates(target, source),
    anonymousIds: union(target.anonymousIds, source.anonymousIds, source.kind === 'anonymous' ? sourceIds : []),
    aliases: union(target.aliases, source.aliases, source.kind === 'user' ? sourceIds : []).filter((id) => id !== target.id),
    groups: mergeGroups(target.groups, source.groups),
    firstSeenAt: earliest(target.firstSeenAt, source.firstSeenAt),
    lastSeenAt: latest(target.lastSeenAt, source.lastSeenAt),
    counts: {
      total: target.counts.total + source.counts.total,
      byType: sumCounts(target.counts.byType, source.counts.byType),
      byEvent: sumCounts(target.counts.byEvent, source.counts.byEvent),
    },
    recentEvents: mergeRecentEvents({ first: target.recentEvents, second: source.recentEvents, historyLimit: options.historyLimit }),
    flowHistory: mergeFlowHistory(target.flowHistory, source.flowHistory),
  };
}

function union(...lists: ReadonlyArray<readonly string[]>): string[] {
  return [...new Set(lists.flat())];
}

function sumCounts(a: Readonly<Record<string, number>>, b: Readonly<Record<string, number>>): Record<string, number> {
  const out = copyRecord(a);
  for (const key of Object.keys(b)) setOwn(out, key, (getOwn(out, key) ?? 0) + (getOwn(b, key) ?? 0));
  return out;
}

function mergeGroups(
  target: Readonly<Record<string, GroupMembership>>,
  source: Readonly<Record<string, GroupMembership>>,
): Record<string, GroupMembership> {
  const out = copyRecord(target);
  for (const groupId of Object.keys(source)) {
    const incoming = getOwn(source, groupId);
    if (incoming === undefined) continue;
    const existing = getOwn(out, groupId);
    setOwn(
      out,
      groupId,
      existing === undefined
        ? incoming
        : {
            ...existing,
            ...mergeTraitStates(existing, incoming),
            firstSeenAt: earliest(existing.firstSeenAt, incoming.firstSeenAt),
            lastSeenAt: latest(existing.lastSeenAt, incoming.lastSeenAt),
          },
    );
  }
  return out;
}

/**
 * One entry per messageId, newest first. When both sides hold the same message the more
 * advanced status wins (anything beats `queued`), otherwise the target's entry is kept.
 */
function mergeFlowHistory(target: readonly FlowHistoryEntry[], source: readonly FlowHistoryEntry[]): FlowHistoryEntry[] {
  const byId = new Map<string, FlowHistoryEntry>();
  for (const entry of [...target, ...source]) {
    const existing = byId.get(entry.messageId);
    if (existing === undefined || (existing.status === 'queued' && entry.status !== 'queued')) byId.set(entry.messageId, entry);
  }
  return [...byId.values()].sort((a, b) => compareTimes(b.timestamp, a.timestamp));
}
