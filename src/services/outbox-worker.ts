/**
 * Delivers the outbox to Segment (SPEC §3): picks the due pending entries, oldest first,
 * sends them through the EventSink, and applies src/domain/retry-policy.ts to each result.
 *
 * Guarantees:
 * - an entry leaves the outbox only after an ok result (at-least-once; Segment dedupes on
 *   our stable messageId, so a resend after a crash is harmless);
 * - every cycle ends with a commit, so a restart resumes from what is on disk;
 * - without a sink (staging without a write key) nothing is sent and everything stays
 *   pending; `stats().sinkConfigured` says so;
 * - `stop()` takes no new work, delivers what is due within a bound, closes the sink and
 *   leaves the rest pending on disk.
 * Timers are unref'd: the worker never keeps a process alive on its own.
 */
import type { EnvConfig } from '../config/types.ts';
import type { BridgeStore } from '../domain/bridge-schema.ts';
import type { OutboxEntry } from '../domain/outbox-entry.ts';
import { DEFAULT_RETRY_POLICY, type RetryPolicy } from '../domain/retry-policy.ts';
import type { EventSink, SendResult } from '../ports/event-sink.ts';
import { systemClock, type Clock } from '../ports/clock.ts';
import type { Logger } from '../adapters/logger.ts';
import type { BridgeEmitter } from '../events.ts';
import { toError } from '../errors.ts';
import { timerScheduler, type Scheduler } from '../ports/scheduler.ts';
import { dueOutboxEntries, requeueDeadEntries, settleOutboxEntry, summarizeOutbox, toOutboundTrack } from './outbox.ts';


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
  /** Longest sleep between cycles while entries are pending, a safety net. Default 60000 ms. */
  maxIdleMs?: number;
  /** Pause after a cycle whose commit failed, so a full disk is not hammered. Default 1000 ms. */
  storeRetryDelayMs?: number;
  /** Where the worker's wake-ups come from. Default: `timerScheduler` (unref'd setTimeout). */
  scheduler?: Scheduler;
  log?: Logger;
  emitter?: BridgeEmitter;
}

export interface CycleSummary {
  attempted: number;
  delivered: number;
  retried: number;
  dead: number;
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

export class OutboxWorker {
  readonly #store: BridgeStore;
  readonly #sink: EventSink | undefined;
  readonly #config: EnvConfig;
  readonly #clock: Clock;
  readonly #policy: RetryPolicy;
  readonly #batchSize: number;
  readonly #maxIdleMs: number;
  readonly #storeRetryDelayMs: number;
  readonly #scheduler: Scheduler;
  readonly #log: Logger | undefined;
  readonly #emitter: BridgeEmitter | undefined;
  #timer: { cancel: () => void; atMs: number } | undefined;
  #current: Promise<CycleSummary> | undefined;
  #storeFailed = false;
  #running = false;
  #stopping: Promise<void> | undefined;
  #closed = false;
  #delivered = 0;
  #lastError: { message: string; at: string } | undefined;
  #lastDeliveryAt: string | undefined;

  constructor(options: OutboxWorkerOptions) {
    this.#store = options.store;
    this.#sink = options.sink;
    this.#config = options.config;
    this.#clock = options.clock ?? systemClock;
    this.#policy = { ...DEFAULT_RETRY_POLICY, ...options.retryPolicy };
    this.#batchSize = Math.max(1, options.batchSize ?? 100);
    this.#maxIdleMs = options.maxIdleMs ?? 60_000;
    this.#storeRetryDelayMs = options.storeRetryDelayMs ?? 1_000;
    this.#scheduler = options.scheduler ?? timerScheduler;
    this.#log = options.log;
    this.#emitter = options.emitter;
  }

  /** Starts delivering; resumes whatever is pending on disk. */
  start(): void {
    if (this.#running || this.#stopping) return;
    this.#running = true;
    this.#schedule(0);
  }

  /** New entries were queued (or dead ones retried): try soon. */
  kick(): void {
    if (this.#running) this.#schedule(0);
  }

  /**
   * One delivery round: sends up to `batchSize` due entries and commits. Exposed for
   * tests and the CLI; concurrent calls share the round in progress.
   */
  runCycle(): Promise<CycleSummary> {
    if (this.#current) return this.#current;
    const cycle = this.#cycle().finally(() => {
      this.#current = undefined;
    });
    this.#current = cycle;
    return cycle;
  }

  /**
   * Graceful shutdown: takes no new work, delivers what is due within `flushTimeoutMs`,
   * closes the sink, and leaves everything undelivered pending on disk.
   */
  stop(options: { flushTimeoutMs?: number } = {}): Promise<void> {
    this.#stopping ??= this.#shutdown(options.flushTimeoutMs ?? 5_000);
    return this.#stopping;
  }

  /**
   * Moves dead letters (all, or `ids`) back to pending with attempts reset, and wakes the
   * worker. Returns how many moved. The move is committed in the background (and by the
   * next cycle); a caller that must answer "durable" awaits `store.commit()` itself.
   */
  retryDead(ids?: readonly string[]): number {
    const moved = requeueDeadEntries({ store: this.#store, nowMs: this.#clock.nowMs(), ...(ids ? { ids } : {}) });
    if (moved > 0) {
      this.#store.commit().catch((error: unknown) => this.#noteError(`store: ${toError(error).message}`));
      this.kick();
    }
    return moved;
  }

  stats(): OutboxStats {
    const { pending, dead, oldestPendingAt, nextAttemptAtMs } = summarizeOutbox(this.#store);
    return {
      sinkConfigured: this.#sink !== undefined,
      running: this.#running,
      pending,
      dead,
      ...(oldestPendingAt === undefined ? {} : { oldestPendingAt }),
      ...(nextAttemptAtMs === undefined ? {} : { nextAttemptAt: new Date(nextAttemptAtMs).toISOString() }),
      ...(this.#lastError ? { lastError: { ...this.#lastError } } : {}),
      ...(this.#lastDeliveryAt === undefined ? {} : { lastDeliveryAt: this.#lastDeliveryAt }),
      delivered: this.#delivered,
    };
  }

  async #cycle(): Promise<CycleSummary> {
    const summary: CycleSummary = { attempted: 0, delivered: 0, retried: 0, dead: 0 };
    const sink = this.#sink;
    if (!sink || this.#closed) return summary;
    const due = dueOutboxEntries({ store: this.#store, nowMs: this.#clock.nowMs(), limit: this.#batchSize });
    if (due.length === 0) return summary;
    summary.attempted = due.length;
    let results: SendResult[];
    try {
      results = await sink.send(due.map((entry) => toOutboundTrack(entry, this.#config.name)));
    } catch (error) {
      // A sink must not throw for delivery failures; if it does, nothing is known to be delivered.
      const reason = `sink error: ${toError(error).message}`;
      results = due.map((entry) => ({ messageId: entry.messageId, ok: false, networkError: true, reason }));
    }
    try {
      this.#applyResults({ due, results, summary });
      await this.#store.commit();
    } catch (error) {
      // The store rolled back: the entries are still pending and will be sent again.
      this.#storeFailed = true;
      this.#noteError(`store: ${toError(error).message}`);
      this.#emitter?.emit('store_error', { message: toError(error).message });
    }
    if (summary.retried + summary.dead > 0) this.#log?.warn({ ...summary, lastError: this.#lastError?.message }, 'outbox: some flow events were not delivered');
    return summary;
  }

  #applyResults(options: { due: OutboxEntry[]; results: SendResult[]; summary: CycleSummary }): void {
    const byId = new Map(options.results.map((result) => [result.messageId, result]));
    const nowMs = this.#clock.nowMs();
    for (const { messageId } of options.due) {
      const result = byId.get(messageId) ?? { messageId, ok: false, networkError: true, reason: 'no result from the sink' };
      const outcome = settleOutboxEntry({ store: this.#store, messageId, result, nowMs, policy: this.#policy });
      if (outcome === undefined) continue;
      this.#emitter?.emit('outbox_delivery', { messageId, ...outcome });
      if (outcome.result === 'delivered') {
        options.summary.delivered += 1;
        this.#delivered += 1;
        this.#lastDeliveryAt = new Date(nowMs).toISOString();
      } else {
        options.summary[outcome.result === 'retry' ? 'retried' : 'dead'] += 1;
        this.#noteError(outcome.reason);
      }
    }
  }

  #noteError(message: string): void {
    this.#lastError = { message, at: new Date(this.#clock.nowMs()).toISOString() };
  }

  /** Arms the single wake-up timer for `delayMs` from now, unless one is due sooner. */
  #schedule(delayMs: number): void {
    if (!this.#running || !this.#sink) return;
    const atMs = this.#clock.nowMs() + delayMs;
    if (this.#timer && this.#timer.atMs <= atMs) return;
    this.#timer?.cancel();
    const cancel = this.#scheduler.schedule(() => {
      this.#timer = undefined;
      void this.#wake();
    }, delayMs);
    this.#timer = { cancel, atMs };
  }

  async #wake(): Promise<void> {
    // A round already out (e.g. started by runCycle()) may have missed what woke us: wait, then run.
    await this.#current?.catch(() => undefined);
    if (!this.#running) return;
    const summary = await this.runCycle().catch((error: unknown): CycleSummary => {
      // Never an unhandled rejection from a timer; back off as for a store failure.
      this.#noteError(`outbox worker: ${toError(error).message}`);
      this.#storeFailed = true;
      return { attempted: 0, delivered: 0, retried: 0, dead: 0 };
    });
    if (this.#storeFailed) {
      this.#storeFailed = false;
      return this.#schedule(this.#storeRetryDelayMs);
    }
    this.#scheduleNext(summary.attempted === this.#batchSize);
  }

  #scheduleNext(immediately: boolean): void {
    if (immediately) return this.#schedule(0);
    const next = summarizeOutbox(this.#store).nextAttemptAtMs;
    if (next === undefined) return;
    const waitMs = Math.max(0, next - this.#clock.nowMs());
    this.#schedule(Math.min(waitMs, this.#maxIdleMs));
  }

  async #shutdown(flushTimeoutMs: number): Promise<void> {
    // A worker that never ran (e.g. built to retry dead letters) sends nothing on the way out.
    const wasRunning = this.#running;
    this.#running = false;
    this.#timer?.cancel();
    this.#timer = undefined;
    const deadline = performance.now() + flushTimeoutMs;
    const remainingMs = (): number => Math.max(0, deadline - performance.now());
    const flush = async (): Promise<void> => {
      await this.#current?.catch(() => undefined);
      // Deliver what is due; stop as soon as a round delivers nothing (Segment is down).
      while (wasRunning && remainingMs() > 0) {
        const summary = await this.runCycle();
        if (summary.attempted === 0 || summary.delivered === 0) break;
      }
    };
    // Wall-clock bound, on real timers whatever `scheduler` the worker was given.
    let cancelBound = (): void => undefined;
    const bound = new Promise<void>((resolve) => (cancelBound = timerScheduler.schedule(resolve, remainingMs())));
    await Promise.race([flush().catch((error: unknown) => this.#noteError(`outbox worker: ${toError(error).message}`)), bound]);
    cancelBound();
    this.#closed = true;
    await this.#sink?.close(Math.max(1, remainingMs())).catch((error: unknown) => this.#noteError(`sink close: ${toError(error).message}`));
  }
}
