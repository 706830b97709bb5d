/**
 * The destination side's core: validate each message of a webhook body, drop duplicates and
 * our own echoes, apply the rest to the user store, fire triggers, and commit everything as
 * one durable batch before the caller acknowledges Segment.
 *
 * Arrival order never decides which data wins: traits merge by message timestamp, history is
 * ordered by timestamp, deletes leave tombstones compared by timestamp.
 */
import type { BridgeStore } from '../domain/bridge-schema.ts';
import type { EnvConfig } from '../config/types.ts';
import type { SegmentMessage } from '../domain/segment-message.ts';
import { parseSegmentMessage } from '../domain/segment-message.ts';
import { applyMessage, emptyProfile } from '../domain/profile.ts';
import type { Profile } from '../domain/records.ts';
import { isBridgeEcho } from '../domain/loop-marker.ts';
import { applyAliasLinks, linkAnonymousId, loadUserProfile, resolveAnonymousId, resolveUserId } from './identity.ts';
import { eraseUser, isErased } from './erase-user.ts';
import { recordRejection } from './rejections.ts';
import { isWithinDedupeWindow } from './dedupe-window.ts';
import { compileTrackingPlan, type PlanVerdict } from '../domain/tracking-plan.ts';

export interface InboundRejection {
  index: number;
  messageId: string | null;
  errors: Array<{ path: string; message: string }>;
}

export interface InboundResult {
  accepted: number;
  duplicates: number;
  ignored: number;
  rejected: InboundRejection[];
  /** Accepted despite tracking-plan violations (`violations: "flag"`). */
  flagged: InboundRejection[];
  /** Accepted messages by call type. */
  byType: Record<string, number>;
  /** Accepted track calls, for trigger evaluation: canonical userId and the message. */
  tracks: Array<{ userId: string; message: SegmentMessage & { type: 'track' } }>;
}

type Outcome = 'accepted' | 'duplicate' | 'ignored';

/**
 * Applies `items` (already extracted from the body) to the store without committing.
 * The caller commits (and answers 503 if that fails: the store then rolls everything back).
 */
export function applyInbound(options: { store: BridgeStore; config: EnvConfig; items: unknown[]; nowMs: number }): InboundResult {
  const { store, config, items, nowMs } = options;
  const result: InboundResult = { accepted: 0, duplicates: 0, ignored: 0, rejected: [], flagged: [], byType: {}, tracks: [] };
  const receivedAt = new Date(nowMs).toISOString();
  items.forEach((item, index) => {
    const parsed = parseSegmentMessage(item);
    if (!parsed.ok) {
      const rejection = { index, messageId: messageIdOf(item), errors: parsed.errors };
      result.rejected.push(rejection);
      recordRejection({ store, rejection, item, receivedAt });
      return;
    }
    const outcome = applyOne({ store, config, message: parsed.message, nowMs, result, index, item, receivedAt });
    if (outcome === 'rejected') return;
    if (outcome === 'duplicate') result.duplicates += 1;
    else if (outcome === 'ignored') result.ignored += 1;
    else {
      result.accepted += 1;
      result.byType[parsed.message.type] = (result.byType[parsed.message.type] ?? 0) + 1;
    }
  });
  return result;
}

function applyOne(options: {
  store: BridgeStore;
  config: EnvConfig;
  message: SegmentMessage;
  nowMs: number;
  result: InboundResult;
  index: number;
  item: unknown;
  receivedAt: string;
}): Outcome | 'rejected' {
  const { store, config, message, nowMs, result, index, item, receivedAt } = options;
  const seen = store.get('seen', message.messageId);
  if (isWithinDedupeWindow({ seen, nowMs, dedupeWindowDays: config.dedupeWindowDays })) return 'duplicate';

  // Our own events echoed back are ignored before anything else looks at them (loop guard).
  const echo = isBridgeEcho(message);
  if (!echo) {
    const verdict = checkTrackingPlan(config, message);
    if (!verdict.ok) {
      const rejection = { index, messageId: message.messageId, errors: verdict.violations };
      const flagged = verdict.action === 'flag';
      recordRejection({ store, rejection, item, receivedAt, flagged });
      if (!flagged) {
        result.rejected.push(rejection);
        return 'rejected';
      }
      result.flagged.push(rejection);
    }
  }
  const outcome = echo ? 'ignored' : decideAndApply({ store, config, message, result });
  store.put('seen', message.messageId, { atMs: nowMs, outcome: outcome === 'accepted' ? 'accepted' : 'ignored' });
  return outcome;
}

function decideAndApply(options: { store: BridgeStore; config: EnvConfig; message: SegmentMessage; result: InboundResult }): Outcome {
  const { store, config, message, result } = options;
  const historyLimit = config.historyLimit;
  const at = message.timestamp;

  switch (message.type) {
    case 'delete':
      eraseUser({ store, userId: message.userId, deletedAt: at });
      return 'accepted';
    case 'alias': {
      const userId = resolveUserId(store, message.userId);
      if (isErased({ store, kind: 'user', id: userId, timestamp: at })) return 'ignored';
      let profile = loadUserProfile(store, userId, at);
      profile = applyAliasLinks({ store, profile, previousId: message.previousId, at, historyLimit });
      store.put('users', profile.id, applyMessage(profile, message, { historyLimit }));
      return 'accepted';
    }
    case 'identify':
    case 'track':
    case 'page':
    case 'screen':
    case 'group': {
      if (message.userId !== undefined) {
        const userId = resolveUserId(store, message.userId);
        if (isErased({ store, kind: 'user', id: userId, timestamp: at })) return 'ignored';
        let profile = loadUserProfile(store, userId, at);
        if (message.anonymousId !== undefined) {
          profile = linkAnonymousId({ store, profile, anonymousId: message.anonymousId, at, historyLimit });
        }
        store.put('users', userId, applyMessage(profile, message, { historyLimit }));
        if (message.type === 'track') result.tracks.push({ userId, message });
        return 'accepted';
      }
      const anonymousId = message.anonymousId;
      if (isErased({ store, kind: 'anon', id: anonymousId, timestamp: at })) return 'ignored';
      const linkedUserId = resolveAnonymousId(store, anonymousId);
      if (linkedUserId !== undefined) {
        const profile = loadUserProfile(store, linkedUserId, at);
        store.put('users', linkedUserId, applyMessage(profile, message, { historyLimit }));
        if (message.type === 'track') result.tracks.push({ userId: linkedUserId, message });
        return 'accepted';
      }
      const anonymous = store.get('anons', anonymousId) ?? emptyAnonymous(anonymousId, at);
      store.put('anons', anonymousId, applyMessage(anonymous, message, { historyLimit }));
      return 'accepted';
    }
    default:
      return assertNever(message);
  }
}

function emptyAnonymous(anonymousId: string, at: string): Profile {
  return emptyProfile({ id: anonymousId, kind: 'anonymous', at });
}

/** Track properties and identify traits against the environment's tracking plan, if any. */
function checkTrackingPlan(config: EnvConfig, message: SegmentMessage): PlanVerdict {
  if (!config.trackingPlan) return { ok: true };
  const plan = compileTrackingPlan(config.trackingPlan);
  if (message.type === 'track') return plan.checkTrack(message.event, message.properties);
  if (message.type === 'identify') return plan.checkIdentify(message.traits);
  return { ok: true };
}

function messageIdOf(item: unknown): string | null {
  if (typeof item !== 'object' || item === null) return null;
  const id = (item as Record<string, unknown>)['messageId'];
  return typeof id === 'string' ? id.slice(0, 100) : null;
}

function assertNever(value: never): never {
  throw new Error(`unhandled message type: ${JSON.stringify(value)}`);
}
