/**
 * The outbox of flow events on their way to Segment (SPEC §3): what `POST /v1/flow-events`
 * writes, and the record keeping the worker (src/services/outbox-worker.ts) shares with it.
 *
 * An event is in the `outbox` collection, committed, before the product gets `202`; it
 * leaves the outbox only when Segment acknowledged it. Its messageId is fixed at enqueue
 * time (the product's, or generated once here), so every retry and every restart sends
 * the same id and Segment's dedupe absorbs the repeats.
 */
import { randomUUID } from 'node:crypto';
import type { EnvConfig } from '../config/types.ts';
import type { BridgeStore } from '../domain/bridge-schema.ts';
import type { OutboxEntry } from '../domain/outbox-entry.ts';
import type { FlowHistoryEntry, Profile } from '../domain/records.ts';
import { resolveOutboundName, type FlowEventInput } from '../domain/flow-events.ts';
import { loopMarker } from '../domain/loop-marker.ts';
import { emptyProfile } from '../domain/profile.ts';
import type { OutboundTrack, SendResult } from '../ports/event-sink.ts';
import { classifySegmentResult, type RetryPolicy } from '../domain/retry-policy.ts';

export interface EnqueueResult {
  /** Events newly written to the outbox. */
  queued: number;
  /** Events whose messageId was already queued or recorded (a product retry): not added again. */
  duplicates: number;
  /** Events accepted but disabled in this environment: recorded in the flow history, not sent. */
  disabled: number;
  /** The outbox entries written by this call. */
  entries: OutboxEntry[];
}

/** `sb-<env>-<uuid>`: generated once per event, then stored with it. */
export function generateMessageId(environment: string): string {
  return `sb-${environment}-${randomUUID()}`;
}

/**
 * Writes validated flow events to the outbox and the users' flow history, then commits.
 * Resolves only when everything is durable; rejects with StoreUnavailableError (and
 * nothing applied) when the store cannot be written.
 */
export async function enqueueFlowEvents(options: {
  store: BridgeStore;
  config: EnvConfig;
  events: readonly FlowEventInput[];
  now: Date;
  /** Test hook. Default `generateMessageId(config.name)`. */
  newMessageId?: () => string;
}): Promise<EnqueueResult> {
  const { store, config, now } = options;
  const newMessageId = options.newMessageId ?? (() => generateMessageId(config.name));
  const result: EnqueueResult = { queued: 0, duplicates: 0, disabled: 0, entries: [] };
  for (const event of options.events) {
    const messageId = event.messageId ?? newMessageId();
    if (store.get('outbox', messageId) !== undefined || hasFlowHistory({ store, userId: event.userId, messageId })) {
      result.duplicates += 1;
      continue;
    }
    const outbound = resolveOutboundName(event.event, config.events);
    const history: FlowHistoryEntry = {
      messageId,
      event: event.event,
      flowId: String(event.properties['flow_id']),
      timestamp: event.timestamp,
      status: outbound.disabled ? 'disabled' : 'queued',
    };
    addFlowHistory({ store, userId: event.userId, entry: history, at: now.toISOString(), limit: config.historyLimit });
    if (outbound.disabled) {
      result.disabled += 1;
      continue;
    }
    const entry: OutboxEntry = {
      messageId,
      event: event.event,
      sentAs: outbound.sentAs,
      userId: event.userId,
      ...(event.anonymousId === undefined ? {} : { anonymousId: event.anonymousId }),
      properties: event.properties,
      timestamp: event.timestamp,
      enqueuedAt: now.toISOString(),
      status: 'pending',
      attempts: 0,
      nextAttemptAtMs: now.getTime(),
    };
    store.put('outbox', messageId, entry);
    result.entries.push(entry);
    result.queued += 1;
  }
  await store.commit();
  return result;
}

/** The Segment track call for an outbox entry: our messageId, original time, environment and loop marker. */
export function toOutboundTrack(entry: OutboxEntry, environment: string): OutboundTrack {
  return {
    messageId: entry.messageId,
    userId: entry.userId,
    ...(entry.anonymousId === undefined ? {} : { anonymousId: entry.anonymousId }),
    event: entry.sentAs,
    properties: { ...entry.properties, environment },
    timestamp: entry.timestamp,
    context: { segmentBridge: loopMarker(environment) },
  };
}

/**
 * Moves dead letters back to pending with their attempts reset, due at `nowMs`. All of
 * them, or only `ids`. Returns how many moved. The caller commits.
 */
export function requeueDeadEntries(options: { store: BridgeStore; nowMs: number; ids?: readonly string[] }): number {
  const { store, nowMs } = options;
  const candidates = options.ids ?? [...store.values('outbox')].filter((entry) => entry.status === 'dead').map((entry) => entry.messageId);
  let moved = 0;
  for (const messageId of candidates) {
    const entry = store.get('outbox', messageId);
    if (!entry || entry.status !== 'dead') continue;
    const { deadAt: _deadAt, ...rest } = entry;
    store.put('outbox', messageId, { ...rest, status: 'pending', attempts: 0, nextAttemptAtMs: nowMs });
    moved += 1;
  }
  return moved;
}

export interface OutboxSummary {
  pending: number;
  dead: number;
  /** enqueuedAt of the oldest pending entry (ISO). */
  oldestPendingAt?: string;
  /** The earliest nextAttemptAtMs of the pending entries. */
  nextAttemptAtMs?: number;
}

/** Counts and ages of the outbox, for status pages and scheduling. One pass over the entries. */
export function summarizeOutbox(store: BridgeStore): OutboxSummary {
  const summary: OutboxSummary = { pending: 0, dead: 0 };
  for (const entry of store.values('outbox')) {
    if (entry.status === 'dead') {
      summary.dead += 1;
      continue;
    }
    summary.pending += 1;
    if (summary.oldestPendingAt === undefined || entry.enqueuedAt < summary.oldestPendingAt) summary.oldestPendingAt = entry.enqueuedAt;
    if (summary.nextAttemptAtMs === undefined || entry.nextAttemptAtMs < summary.nextAttemptAtMs) summary.nextAttemptAtMs = entry.nextAttemptAtMs;
  }
  return summary;
}

/**
 * Pending entries due at `nowMs`, the longest-waiting first, at most `limit`, except `exclude`.
 * Keeps only the `limit` earliest while scanning instead of sorting every due entry: after
 * an outage the backlog can be millions of entries, and each delivery cycle would sort
 * them all. Entries mostly arrive in due order, so the check per entry is O(1).
 */
export function dueOutboxEntries(options: {
  store: BridgeStore;
  nowMs: number;
  limit: number;
  /** messageIds to skip: entries another delivery round is sending right now. */
  exclude?: ReadonlySet<string>;
}): OutboxEntry[] {
  const { nowMs, limit, exclude } = options;
  const due: OutboxEntry[] = [];
  if (limit <= 0) return due;
  for (const entry of options.store.values('outbox')) {
    if (entry.status !== 'pending' || entry.nextAttemptAtMs > nowMs) continue;
    const last = due[due.length - 1];
    const full = due.length === limit;
    if (full && (last === undefined || compareDue(entry, last) >= 0)) continue;
    // Checked only for entries that would make the cut: most of a backlog fails the O(1) test above.
    if (exclude !== undefined && exclude.has(entry.messageId)) continue;
    if (full) due.pop();
    let index = due.length;
    while (index > 0 && compareDue(entry, due[index - 1] as OutboxEntry) < 0) index -= 1;
    due.splice(index, 0, entry);
  }
  return due;
}

/** Earlier attempt first, then earlier enqueue (ISO strings of one format compare by code unit). */
function compareDue(a: OutboxEntry, b: OutboxEntry): number {
  return a.nextAttemptAtMs - b.nextAttemptAtMs || (a.enqueuedAt < b.enqueuedAt ? -1 : a.enqueuedAt > b.enqueuedAt ? 1 : 0);
}

export type SettledOutcome = { result: 'delivered' } | { result: 'retry' | 'dead'; reason: string };

/**
 * Applies one send result to its outbox entry: ok -> removed; retryable -> attempts + 1 and
 * the next attempt scheduled; permanent -> dead letter. (The user's history reads its
 * status from the outbox: src/services/flow-history.ts.) Returns `undefined` when the entry is gone or no longer pending (erased
 * by a user deletion while the request was out). The caller commits.
 */
export function settleOutboxEntry(options: { store: BridgeStore; messageId: string; result: SendResult; nowMs: number; policy?: RetryPolicy }): SettledOutcome | undefined {
  const { store, messageId, result, nowMs } = options;
  const entry = store.get('outbox', messageId);
  if (!entry || entry.status !== 'pending') return undefined;
  const attempts = entry.attempts + 1;
  const decision = result.ok ? { kind: 'ok' as const } : classifySegmentResult({ ...result, attempt: attempts }, options.policy);
  if (decision.kind === 'ok') {
    // The history entry's status is derived from the outbox (src/services/flow-history.ts),
    // so delivery writes only this small removal, not the user's whole profile.
    store.remove('outbox', messageId);
    return { result: 'delivered' };
  }
  const reason = result.ok ? 'unknown' : result.reason;
  if (decision.kind === 'retry') {
    store.put('outbox', messageId, { ...entry, attempts, nextAttemptAtMs: nowMs + decision.delayMs, lastError: reason });
    return { result: 'retry', reason };
  }
  const lastError = `${decision.reason} (${reason})`;
  store.put('outbox', messageId, { ...entry, status: 'dead', attempts, deadAt: new Date(nowMs).toISOString(), lastError });
  return { result: 'dead', reason: lastError };
}

/** Flow history lives on the canonical profile: a previous userId merged by alias resolves to the current one. */
function profileKey(store: BridgeStore, userId: string): string {
  return store.get('aliases', userId)?.userId ?? userId;
}

function hasFlowHistory(options: { store: BridgeStore; userId: string; messageId: string }): boolean {
  const profile = options.store.get('users', profileKey(options.store, options.userId));
  return profile?.flowHistory.some((entry) => entry.messageId === options.messageId) ?? false;
}

/** Newest first, bounded like the rest of a profile's history. */
function addFlowHistory(options: { store: BridgeStore; userId: string; entry: FlowHistoryEntry; at: string; limit: number }): void {
  const { store, entry } = options;
  const key = profileKey(store, options.userId);
  const profile: Profile = store.get('users', key) ?? emptyProfile({ id: key, kind: 'user', at: options.at });
  const flowHistory = [entry, ...profile.flowHistory].slice(0, Math.max(1, options.limit));
  store.put('users', key, { ...profile, flowHistory });
}
