/**
 * One outbox delivery round: send the claimed entries through the sink, settle each result
 * (delivered -> removed, retryable -> rescheduled, permanent -> dead letter) and commit.
 * The worker (outbox-worker.ts) decides when rounds run and which entries each one claims.
 */
import type { EnvConfig } from '../config/types.ts';
import type { BridgeStore } from '../domain/bridge-schema.ts';
import type { OutboxEntry } from '../domain/outbox-entry.ts';
import type { RetryPolicy } from '../domain/retry-policy.ts';
import type { EventSink, SendResult } from '../ports/event-sink.ts';
import type { BridgeEmitter } from '../events.ts';
import { toError } from '../errors.ts';
import { settleOutboxEntry, toOutboundTrack } from './outbox.ts';

export interface CycleSummary {
  attempted: number;
  delivered: number;
  retried: number;
  dead: number;
}

export interface RoundResult {
  summary: CycleSummary;
  /** The commit failed: the store rolled the round back, its entries are still pending. */
  storeFailed: boolean;
  /** Why the last entry that was not delivered was not (or why the commit failed). */
  lastError?: string;
}

export async function deliverRound(options: {
  store: BridgeStore;
  sink: EventSink;
  config: EnvConfig;
  policy: RetryPolicy;
  nowMs: () => number;
  due: OutboxEntry[];
  emitter?: BridgeEmitter | undefined;
}): Promise<RoundResult> {
  const { store, sink, due } = options;
  const summary: CycleSummary = { attempted: due.length, delivered: 0, retried: 0, dead: 0 };
  if (due.length === 0) return { summary, storeFailed: false };
  let results: SendResult[];
  try {
    results = await sink.send(due.map((entry) => toOutboundTrack(entry, options.config.name)));
  } catch (error) {
    // A sink must not throw for delivery failures; if it does, nothing is known to be delivered.
    const reason = `sink error: ${toError(error).message}`;
    results = due.map((entry) => ({ messageId: entry.messageId, ok: false, networkError: true, reason }));
  }
  let lastError: string | undefined;
  try {
    lastError = settleAll({ ...options, results, summary });
    await store.commit();
  } catch (error) {
    const message = toError(error).message;
    options.emitter?.emit('store_error', { message });
    return { summary, storeFailed: true, lastError: `store: ${message}` };
  }
  return { summary, storeFailed: false, ...(lastError === undefined ? {} : { lastError }) };
}

/** Settles every claimed entry with its result (a missing result counts as a network failure). */
function settleAll(options: { store: BridgeStore; policy: RetryPolicy; nowMs: () => number; due: OutboxEntry[]; results: SendResult[]; summary: CycleSummary; emitter?: BridgeEmitter | undefined }): string | undefined {
  const { summary } = options;
  const byId = new Map(options.results.map((result) => [result.messageId, result]));
  const nowMs = options.nowMs();
  let lastError: string | undefined;
  for (const { messageId } of options.due) {
    const result = byId.get(messageId) ?? { messageId, ok: false, networkError: true, reason: 'no result from the sink' };
    const outcome = settleOutboxEntry({ store: options.store, messageId, result, nowMs, policy: options.policy });
    if (outcome === undefined) continue;
    options.emitter?.emit('outbox_delivery', { messageId, ...outcome });
    if (outcome.result === 'delivered') {
      summary.delivered += 1;
    } else {
      summary[outcome.result === 'retry' ? 'retried' : 'dead'] += 1;
      lastError = outcome.reason;
    }
  }
  return lastError;
}
