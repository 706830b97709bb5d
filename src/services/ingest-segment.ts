/**
 * One webhook body in: apply every message, let triggers see the accepted track calls, then
 * commit it all as one durable batch. Only after `commit()` resolves may Segment be told 200;
 * only then are fired runs announced (so a failed commit never leaks a run).
 */
import type { BridgeStore } from '../domain/bridge-schema.ts';
import type { EnvConfig } from '../config/types.ts';
import type { TriggerRun } from '../domain/trigger-run.ts';
import type { BridgeEmitter } from '../events.ts';
import type { Clock } from '../ports/clock.ts';
import { applyInbound, type InboundResult } from './inbound.ts';
import { evaluateTriggers } from './triggers.ts';

/** Told about runs once they are durable (the composition root kicks the webhook worker). */
export type RunsCommittedHook = (runs: TriggerRun[]) => void;

export async function ingestSegmentMessages(options: {
  store: BridgeStore;
  config: EnvConfig;
  items: unknown[];
  clock: Clock;
  emitter: BridgeEmitter;
  onRunsCommitted?: RunsCommittedHook | undefined;
}): Promise<InboundResult & { runs: TriggerRun[] }> {
  const { store, config, items, clock, emitter } = options;
  const startedMs = clock.nowMs();
  // All or nothing in memory too: a bug throwing half-way must not leave writes for a later commit.
  const { result, runs } = store.atomically(() => {
    const applied = applyInbound({ store, config, items, nowMs: startedMs });
    const fired = applied.tracks.flatMap(({ userId, message }) =>
      evaluateTriggers({
        store,
        config,
        nowMs: startedMs,
        event: { name: message.event, source: 'segment', messageId: message.messageId, userId, properties: message.properties, timestamp: message.timestamp },
      }),
    );
    return { result: applied, runs: fired };
  });
  await store.commit();
  announceRuns({ emitter, runs, onRunsCommitted: options.onRunsCommitted });
  for (const rejection of result.rejected) emitter.emit('inbound_rejected', rejection);
  for (const flagged of result.flagged) emitter.emit('tracking_plan_violation', { messageId: flagged.messageId, action: 'flag', source: 'segment' });
  emitter.emit('inbound_processed', {
    accepted: result.accepted,
    duplicates: result.duplicates,
    ignored: result.ignored,
    rejected: result.rejected.length,
    durationMs: clock.nowMs() - startedMs,
    byType: result.byType,
  });
  return { ...result, runs };
}

/** Emits `trigger_fired` for durable runs and hands them to the hook. */
export function announceRuns(options: { emitter: BridgeEmitter; runs: TriggerRun[]; onRunsCommitted?: RunsCommittedHook | undefined }): void {
  const { emitter, runs, onRunsCommitted } = options;
  for (const run of runs) emitter.emit('trigger_fired', { runId: run.id, triggerId: run.triggerId, userId: run.userId, source: run.source });
  if (runs.length > 0) onRunsCommitted?.(runs);
}
