/** The options and the stats of the outbox worker (src/services/outbox-worker.ts). */
import type { EnvConfig } from '../config/types.ts';
import type { BridgeStore } from '../domain/bridge-schema.ts';
import type { RetryPolicy } from '../domain/retry-policy.ts';
import type { EventSink } from '../ports/event-sink.ts';
import type { Clock } from '../ports/clock.ts';
import type { Logger } from '../adapters/logger.ts';
import type { BridgeEmitter } from '../events.ts';
import type { Scheduler } from '../ports/scheduler.ts';

export interface OutboxWorkerOptions {
  store: BridgeStore;
  /** `undefined` when the environment has no write key: events stay pending. */
  sink: EventSink | undefined;
  config: EnvConfig;
  /** Decides when entries are due. Default the system clock. */
  clock?: Clock;
  /** Overrides of the retry policy (tests: `{ random: () => 0 }`). */
  retryPolicy?: Partial<RetryPolicy>;
  /** Entries per send. Default 100. */
  batchSize?: number;
  /**
   * Rounds (sends of up to `batchSize`) in flight at once. Default 2: one round at a time
   * left the event loop idle while it waited for Segment's answers and the fsync; a second
   * round fills that wait. More rounds deliver a little faster still, but take event-loop
   * time from the `202` path while the product is posting (bench/RESULTS.md, "What changed in this round").
   */
  concurrency?: number;
  /** Longest sleep between cycles while entries are pending, a safety net. Default 60000 ms. */
  maxIdleMs?: number;
  /** Pause after a cycle whose commit failed, so a full disk is not hammered. Default 1000 ms. */
  storeRetryDelayMs?: number;
  /** Where the worker's wake-ups come from. Default: `timerScheduler` (unref'd setTimeout). */
  scheduler?: Scheduler;
  log?: Logger;
  emitter?: BridgeEmitter;
}

export interface OutboxStats {
  sinkConfigured: boolean;
  running: boolean;
  pending: number;
  dead: number;
  /** enqueuedAt of the oldest pending entry (ISO). */
  oldestPendingAt?: string;
  /** When the next attempt is due (ISO). */
  nextAttemptAt?: string;
  lastError?: { message: string; at: string };
  lastDeliveryAt?: string;
  /** Events delivered since this worker started. */
  delivered: number;
}
