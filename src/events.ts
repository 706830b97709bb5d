/**
 * A typed map of what happened inside an instance. Logs, metrics and tests subscribe;
 * domain services only emit. Model: analytics-node's emitter.
 */
import { EventEmitter } from 'node:events';

export interface BridgeEvents {
  inbound_processed: { accepted: number; duplicates: number; ignored: number; rejected: number; durationMs: number; byType: Record<string, number> };
  inbound_rejected: { index: number; messageId: string | null; errors: Array<{ path: string; message: string }> };
  tracking_plan_violation: { messageId: string | null; action: 'reject' | 'flag'; source: 'segment' | 'product' };
  trigger_fired: { runId: string; triggerId: string; userId: string; source: 'segment' | 'custom' };
  flow_events_queued: { queued: number; disabled: number };
  outbox_delivery: { messageId: string; result: 'delivered' | 'retry' | 'dead'; reason?: string };
  webhook_attempt: { deliveryId: string; result: 'delivered' | 'retry' | 'failed'; status?: number; reason?: string };
  store_error: { message: string };
}

export type BridgeEventName = keyof BridgeEvents;

/** EventEmitter with the event names and payloads of BridgeEvents. */
export class BridgeEmitter {
  readonly #emitter = new EventEmitter();

  emit<K extends BridgeEventName>(name: K, payload: BridgeEvents[K]): void {
    this.#emitter.emit(name, payload);
  }

  on<K extends BridgeEventName>(name: K, listener: (payload: BridgeEvents[K]) => void): () => void {
    this.#emitter.on(name, listener);
    return () => this.#emitter.off(name, listener);
  }
}
