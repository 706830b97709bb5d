/**
 * The shape GET /v1/users/:userId returns (SPEC §2). Internal bookkeeping (`traitTimes`,
 * `kind`) is left out. Groups are an array (most recently seen first) rather than the
 * stored record keyed by groupId: easier to read and to iterate for API clients.
 */
import type { JsonObject } from './json.ts';
import type { FlowHistoryEntry, Profile, RecentEvent } from './records.ts';
import { compareTimes } from './event-time.ts';

export interface PublicGroup {
  groupId: string;
  traits: JsonObject;
  firstSeenAt: string;
  lastSeenAt: string;
}

export interface PublicProfile {
  userId: string;
  traits: JsonObject;
  anonymousIds: string[];
  aliases: string[];
  groups: PublicGroup[];
  firstSeenAt: string;
  lastSeenAt: string;
  counts: Profile['counts'];
  /** Newest first by timestamp. */
  recentEvents: RecentEvent[];
  flowHistory: FlowHistoryEntry[];
}

/** A detached plain copy for the API (changing it never changes the stored profile). */
export function toPublicProfile(profile: Profile): PublicProfile {
  const groups = Object.values(profile.groups)
    .map(({ groupId, traits, firstSeenAt, lastSeenAt }) => ({ groupId, traits, firstSeenAt, lastSeenAt }))
    .sort((a, b) => compareTimes(b.lastSeenAt, a.lastSeenAt) || a.groupId.localeCompare(b.groupId));
  return structuredClone({
    userId: profile.id,
    traits: profile.traits,
    anonymousIds: profile.anonymousIds,
    aliases: profile.aliases,
    groups,
    firstSeenAt: profile.firstSeenAt,
    lastSeenAt: profile.lastSeenAt,
    counts: profile.counts,
    recentEvents: profile.recentEvents,
    flowHistory: profile.flowHistory,
  });
}
