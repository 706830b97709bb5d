/**
 * One webhook body in: apply every message, let triggers see the accepted track calls, then
 * commit it all as one durable batch. Only after `commit()` resolves may Segment be told 200.
 */
import type { BridgeStore } from '../domain/bridge-schema.ts';
import type { EnvConfig } from '../config/types.ts';
import type { BridgeEmitter } from '../events.ts';
import type { Clock } from '../ports/clock.ts';
import { applyInbound, type InboundResult } from './inbound.ts';

/** Called for each accepted track call before the commit; its writes join the same batch. */
export type TrackHook = (track: InboundResult['tracks'][number]) => void;

export async function ingestSegmentMessages(options: {
  store: BridgeStore;
  config: EnvConfig;
  items: unknown[];
  clock: Clock;
  emitter: BridgeEmitter;
  onTrack?: TrackHook;
}): Promise<InboundResult> {
  const { store, config, items, clock, emitter, onTrack } = options;
  const startedMs = clock.nowMs();
  const result = applyInbound({ store, config, items, nowMs: startedMs });
  if (onTrack) for (const track of result.tracks) onTrack(track);
  await store.commit();
  for (const rejection of result.rejected) emitter.emit('inbound_rejected', rejection);
  emitter.emit('inbound_processed', {
    accepted: result.accepted,
    duplicates: result.duplicates,
    ignored: result.ignored,
    rejected: result.rejected.length,
    durationMs: clock.nowMs() - startedMs,
    byType: result.byType,
  });
  return result;
}
