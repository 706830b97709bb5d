/**
 * Profiles as pure values (SPEC §4): applying a Segment message or merging two profiles
 * returns a new Profile and never mutates its inputs. No I/O here; the inbound service
 * loads, calls these, and writes.
 *
 * Order independence: Segment delivers out of order and with duplicates, so everything
 * that depends on time uses the message's (resolved) `timestamp`, never arrival order:
 * traits per key (see traits.ts), history order (recent-events.ts), first/last seen.
 *
 * `context.traits` on track/page/screen calls is NOT merged: it is analytics.js's
 * client-side cache of the last identify, often stale or partial, and its timestamp is the
 * event's, not when those traits were true. Merging it would let an old cached value beat
 * a newer identify. Only identify `traits` (and group traits, per group) are authoritative.
 */
import type { GroupMembership, Profile, RecentEvent } from './records.ts';
import type { DeleteMessage, GroupMessage, SegmentMessage } from './segment-message.ts';
import { earliest, latest } from './event-time.ts';
import { hasRecentEvent, insertRecentEvent, recentEvent } from './recent-events.ts';
import { copyRecord, getOwn, setOwn } from './safe-keys.ts';
import { applyTraits } from './traits.ts';

export { mergeProfiles, type MergeOptions } from './profile-merge.ts';
export { toPublicProfile, type PublicProfile, type PublicGroup } from './public-profile.ts';

/** The calls that change a profile (`delete` erases it instead; see the inbound service). */
export type ProfileMessage = Exclude<SegmentMessage, DeleteMessage>;

export interface ApplyOptions {
  /** Most recent events kept on the profile; counts are kept for all events. */
  historyLimit: number;
}

/**
 * A profile with no data. `at` should be the timestamp of the first message about to be
 * applied (not the wall clock): firstSeenAt/lastSeenAt start there and only widen.
 * Pass `''` when unknown; an empty time loses to any real one.
 */
export function emptyProfile(options: { id: string; kind: Profile['kind']; at: string }): Profile {
  return {
    id: options.id,
    kind: options.kind,
    traits: {},
    traitTimes: {},
    anonymousIds: [],
    aliases: [],
    groups: {},
    firstSeenAt: options.at,
    lastSeenAt: options.at,
    counts: { total: 0, byType: {}, byEvent: {} },
    recentEvents: [],
    flowHistory: [],
  };
}

/**
 * Applies one message. A message already in the recent history (the same messageId at the
 * same timestamp, as a redelivery carries) is ignored and the same profile is returned: a
 * best-effort guard; the dedupe window in the store is the real one.
 */
export function applyMessage(profile: Profile, message: ProfileMessage, options: ApplyOptions): Profile {
  if (hasRecentEvent(profile.recentEvents, message)) return profile;
  const at = message.timestamp;
  const next: Profile = {
    ...profile,
    anonymousIds: addUnique(profile.anonymousIds, message.anonymousId),
    firstSeenAt: earliest(profile.firstSeenAt, at),
    lastSeenAt: latest(profile.lastSeenAt, at),
    counts: countMessage(profile.counts, message),
    recentEvents: insertRecentEvent(profile.recentEvents, { entry: toRecentEvent(message), historyLimit: options.historyLimit }),
  };
  switch (message.type) {
    case 'identify':
      return { ...next, ...applyTraits(profile, { incoming: message.traits, at }) };
    case 'group':
      return { ...next, groups: applyGroup(profile.groups, message) };
    case 'alias': {
      const previousId = message.previousId;
      const isKnown = previousId === profile.id || profile.anonymousIds.includes(previousId);
      return isKnown ? next : { ...next, aliases: addUnique(profile.aliases, previousId) };
    }
    case 'track':
    case 'page':
    case 'screen':
      return next;
    default: {
      const unreachable: never = message;
      throw new Error(`unhandled call type ${JSON.stringify(unreachable)}`);
    }
  }
}

function toRecentEvent(message: ProfileMessage): RecentEvent {
  const base = { messageId: message.messageId, type: message.type, timestamp: message.timestamp };
  switch (message.type) {
    case 'track':
      return recentEvent({ ...base, name: message.event, properties: message.properties });
    case 'page':
    case 'screen':
      return recentEvent({ ...base, ...(message.name === undefined ? {} : { name: message.name }), properties: message.properties });
    case 'identify':
      // The history shows what an identify set: its traits go in `properties`.
      return recentEvent({ ...base, properties: message.traits });
    case 'group':
      return recentEvent({ ...base, name: message.groupId, properties: message.traits });
    case 'alias':
      return recentEvent({ ...base, properties: { previousId: message.previousId } });
    default: {
      const unreachable: never = message;
      throw new Error(`unhandled call type ${JSON.stringify(unreachable)}`);
    }
  }
}

function countMessage(counts: Profile['counts'], message: ProfileMessage): Profile['counts'] {
  const byType = increment(counts.byType, message.type);
  // Unchanged parts are shared, not copied: profiles are immutable values.
  const byEvent = message.type === 'track' ? increment(counts.byEvent, message.event) : counts.byEvent;
  return { total: counts.total + 1, byType, byEvent };
}

function increment(record: Readonly<Record<string, number>>, key: string): Record<string, number> {
  const out = copyRecord(record);
  setOwn(out, key, (getOwn(out, key) ?? 0) + 1);
  return out;
}

/** Group traits merge per key by timestamp, exactly like user traits. */
function applyGroup(groups: Readonly<Record<string, GroupMembership>>, message: GroupMessage): Record<string, GroupMembership> {
  const at = message.timestamp;
  const out = copyRecord(groups);
  const existing = getOwn(out, message.groupId);
  const base: GroupMembership = existing ?? { groupId: message.groupId, traits: {}, traitTimes: {}, firstSeenAt: at, lastSeenAt: at };
  setOwn(out, message.groupId, {
    ...base,
    ...applyTraits(base, { incoming: message.traits, at }),
    firstSeenAt: earliest(base.firstSeenAt, at),
    lastSeenAt: latest(base.lastSeenAt, at),
  });
  return out;
}

function addUnique(list: readonly string[], value: string | undefined): string[] {
  return value === undefined || list.includes(value) ? (list as string[]) : [...list, value];
}
