/**
 * Trigger evaluation (SPEC §5): an accepted track call (from Segment) or custom event (from
 * the product) is checked against the environment's triggers; each match records a run and,
 * when the trigger has a webhook, a pending delivery for the webhook worker.
 *
 * - Allowlist: only triggers naming the event (exact, case-sensitive) with a matching
 *   `source` are considered; an event no trigger names reads and writes nothing.
 * - Triggers are per shared user ID: an event without `userId` (anonymous only) fires nothing.
 *   An aliased (previous) userId is resolved to the canonical one first.
 * - Trait filters see the traits stored in `users` at this moment, so an identify processed
 *   earlier (even in the same batch) counts.
 * - Idempotent: the run id is derived from (trigger, source, messageId), so a duplicate
 *   delivery of the same message never creates a second run.
 * - Nothing is committed here: the caller commits together with the inbound message.
 */
import { createHash, randomUUID } from 'node:crypto';
import type { EnvConfig, TriggerConfig } from '../config/types.ts';
import type { BridgeStore } from '../domain/bridge-schema.ts';
import type { JsonObject } from '../domain/json.ts';
import type { TriggerRun, UserRunIndex, WebhookDelivery } from '../domain/trigger-run.ts';
import { matchesWhere } from '../domain/trigger-match.ts';
import { allowedByFrequency } from '../domain/trigger-frequency.ts';
import { buildInviteUrl } from '../domain/invite-url.ts';
import { resolveUserId } from './identity.ts';

export interface TriggerEvent {
  name: string;
  source: 'segment' | 'custom';
  messageId: string;
  /** The shared userId; undefined for anonymous-only events, which fire nothing. */
  userId?: string | undefined;
  properties: JsonObject;
  /** The event's own time (ISO); runs are stamped with processing time instead. */
  timestamp: string;
}

/** The triggers that may fire for an event name and source (the allowlist). */
export function candidateTriggers(triggers: readonly TriggerConfig[], event: { name: string; source: 'segment' | 'custom' }): TriggerConfig[] {
  return triggers.filter((trigger) => trigger.event === event.name && ((trigger.source ?? 'any') === 'any' || trigger.source === event.source));
}

/** Deterministic run id: `run_` + 32 hex chars of sha256(triggerId, source, messageId). */
export function runIdFor(options: { triggerId: string; source: string; messageId: string }): string {
  const digest = createHash('sha256').update(`${options.triggerId}\u0000${options.source}\u0000${options.messageId}`).digest('hex');
  return `run_${digest.slice(0, 32)}`;
}

/**
 * Evaluates `event` and writes (without committing) a run per matching trigger, the user's
 * run index, and a pending delivery per webhook. Returns the runs created (empty for a
 * duplicate). `newId` makes delivery ids (default `msg_` + a random UUID); they become the
 * `webhook-id` header, stable across retries.
 */
export function evaluateTriggers(options: {
  store: BridgeStore;
  config: EnvConfig;
  event: TriggerEvent;
  nowMs: number;
  newId?: () => string;
}): TriggerRun[] {
  const { store, config, event, nowMs } = options;
  const candidates = candidateTriggers(config.triggers, event);
  if (candidates.length === 0 || !event.userId) return [];
  const newId = options.newId ?? (() => `msg_${randomUUID().replaceAll('-', '')}`);
  const userId = resolveUserId(store, event.userId);
  const traits = store.get('users', userId)?.traits ?? {};
  const createdAt = new Date(nowMs).toISOString();
  const created: TriggerRun[] = [];

  for (const trigger of candidates) {
    const runId = runIdFor({ triggerId: trigger.id, source: event.source, messageId: event.messageId });
    if (store.get('runs', runId)) continue;
    if (!matchesWhere(trigger.where ?? {}, { properties: event.properties, traits })) continue;
    const index = liveIndex(store, userId);
    const previousRunsAtMs = index.runs.filter((entry) => entry.triggerId === trigger.id).map((entry) => entry.atMs);
    if (!allowedByFrequency({ frequency: trigger.frequency?.perUser, previousRunsAtMs, nowMs })) continue;

    const run: TriggerRun = {
      id: runId,
      triggerId: trigger.id,
      userId,
      sourceMessageId: event.messageId,
      source: event.source,
      event: event.name,
      flowId: trigger.flow.id,
      inviteUrl: buildInviteUrl(trigger.flow.url, { userId, runId, flowId: trigger.flow.id, triggerId: trigger.id, environment: config.name }),
      createdAt,
    };
    if (trigger.webhook) {
      const delivery = newDelivery({ run, webhook: trigger.webhook, environment: config.name, id: newId(), nowMs });
      store.put('deliveries', delivery.id, delivery);
      run.deliveryId = delivery.id;
    }
    store.put('runs', run.id, run);
    store.put('runIndex', userId, { userId, runs: [...index.runs, { id: run.id, triggerId: trigger.id, atMs: nowMs }] });
    created.push(run);
  }
  return created;
}

/** The user's run index without entries whose run was erased. */
function liveIndex(store: BridgeStore, userId: string): UserRunIndex {
  const stored = store.get('runIndex', userId);
  return { userId, runs: (stored?.runs ?? []).filter((entry) => store.get('runs', entry.id) !== undefined) };
}

/** The exact JSON body that is signed and sent for a run (Standard Webhooks payload, `type` first). */
export function webhookBody(options: { run: TriggerRun; environment: string }): string {
  const { run, environment } = options;
  return JSON.stringify({
    type: 'trigger.fired',
    id: run.id,
    environment,
    triggerId: run.triggerId,
    userId: run.userId,
    flow: { id: run.flowId, inviteUrl: run.inviteUrl },
    event: { name: run.event, messageId: run.sourceMessageId, source: run.source },
    createdAt: run.createdAt,
  });
}

function newDelivery(options: {
  run: TriggerRun;
  webhook: { url: string; secretEnv: string };
  environment: string;
  id: string;
  nowMs: number;
}): WebhookDelivery {
  const { run, webhook, environment, id, nowMs } = options;
  return {
    id,
    runId: run.id,
    triggerId: run.triggerId,
    userId: run.userId,
    url: webhook.url,
    secretEnv: webhook.secretEnv,
    body: webhookBody({ run, environment }),
    status: 'pending',
    attempts: 0,
    nextAttemptAtMs: nowMs,
    createdAt: run.createdAt,
  };
}

/**
 * Runs, newest first, at most `limit` (default 100). With `userId` (resolved through
 * aliases) it reads the user's run index; without, it scans `runs` once (admin use).
 */
export function listRuns(options: { store: BridgeStore; userId?: string; limit?: number }): TriggerRun[] {
  const { store } = options;
  const limit = Math.max(0, options.limit ?? 100);
  if (options.userId !== undefined) {
    const userId = resolveUserId(store, options.userId);
    const entries = store.get('runIndex', userId)?.runs ?? [];
    const runs: TriggerRun[] = [];
    for (let i = entries.length - 1; i >= 0 && runs.length < limit; i -= 1) {
      const run = store.get('runs', entries[i]?.id ?? '');
      if (run) runs.push(run);
    }
    return runs;
  }
  let newest: TriggerRun[] = [];
  const byNewest = (a: TriggerRun, b: TriggerRun): number => (a.createdAt < b.createdAt ? 1 : a.createdAt > b.createdAt ? -1 : 0);
  for (const run of store.values('runs')) {
    newest.push(run);
    // Keep memory bounded on large stores: trim to the newest `limit` now and then.
    if (newest.length > 2 * limit + 100) newest = newest.sort(byNewest).slice(0, limit);
  }
  return newest.sort(byNewest).slice(0, limit);
}
