/**
 * Custom trigger events from the product (POST /v1/events): evaluated by the triggers exactly
 * like inbound Segment track calls, deduplicated by messageId within the window, and committed
 * before the answer. They are not sent to Segment and do not touch profile history.
 */
import type { BridgeStore } from '../domain/bridge-schema.ts';
import type { EnvConfig } from '../config/types.ts';
import type { CustomEvent } from '../domain/custom-event.ts';
import type { TriggerRun } from '../domain/trigger-run.ts';
import type { BridgeEmitter } from '../events.ts';
import { evaluateTriggers } from './triggers.ts';
import { isWithinDedupeWindow } from './dedupe-window.ts';
import { announceRuns, type RunsCommittedHook } from './ingest-segment.ts';

/** Custom events share the `seen` collection with Segment messages under their own prefix. */
const SEEN_PREFIX = 'custom:';

export async function ingestCustomEvents(options: {
  store: BridgeStore;
  config: EnvConfig;
  events: CustomEvent[];
  nowMs: number;
  emitter: BridgeEmitter;
  onRunsCommitted?: RunsCommittedHook | undefined;
}): Promise<{ accepted: number; duplicates: number; runs: TriggerRun[] }> {
  const { store, config, events, nowMs, emitter } = options;
  const { accepted, duplicates, runs } = store.atomically(() => applyCustomEvents({ store, config, events, nowMs }));
  await store.commit();
  announceRuns({ emitter, runs, onRunsCommitted: options.onRunsCommitted });
  return { accepted, duplicates, runs };
}

function applyCustomEvents(options: { store: BridgeStore; config: EnvConfig; events: CustomEvent[]; nowMs: number }): { accepted: number; duplicates: number; runs: TriggerRun[] } {
  const { store, config, events, nowMs } = options;
  let accepted = 0;
  let duplicates = 0;
  const runs: TriggerRun[] = [];
  for (const event of events) {
    const seenKey = `${SEEN_PREFIX}${event.messageId}`;
    if (isWithinDedupeWindow({ seen: store.get('seen', seenKey), nowMs, dedupeWindowDays: config.dedupeWindowDays })) {
      duplicates += 1;
      continue;
    }
    store.put('seen', seenKey, { atMs: nowMs, outcome: 'accepted' });
    accepted += 1;
    runs.push(...evaluateTriggers({ store, config, nowMs, event: { name: event.event, source: 'custom', messageId: event.messageId, userId: event.userId, properties: event.properties, timestamp: event.timestamp } }));
  }
  return { accepted, duplicates, runs };
}
