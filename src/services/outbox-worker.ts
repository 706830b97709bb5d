/**
 * Delivers the outbox to Segment (SPEC §3): picks the due pending entries, oldest first,
 * sends them through the EventSink, and applies src/domain/retry-policy.ts to each result.
 *
 * Up to `concurrency` rounds of `batchSize` entries are out at once: while one round waits
 * for Segment's answers or for its commit, the next is already sending. Each round claims
 * its entries (in memory) when it picks them and releases them once its results are
 * committed, so no entry is ever in two sends at the same time.
 *
 * Guarantees:
 * - an entry leaves the outbox only after an ok result (at-least-once; Segment dedupes on
 *   our stable messageId, so a resend after a crash is harmless);
 * - every round ends with a commit, so a restart resumes from what is on disk (claims are
 *   memory only: after a crash every entry still in the outbox is simply due again);
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
import type { EventSink } from '../ports/event-sink.ts';
import { systemClock, type Clock } from '../ports/clock.ts';
import type { Logger } from '../adapters/logger.ts';
import type { BridgeEmitter } from '../events.ts';
import { toError } from '../errors.ts';
import { timerScheduler, type Scheduler } from '../ports/scheduler.ts';
import { dueOutboxEntries, requeueDeadEntries, summarizeOutbox } from './outbox.ts';
import { deliverRound, type CycleSummary } from './outbox-round.ts';
import type { OutboxStats, OutboxWorkerOptions } from './outbox-worker-types.ts';

export type { CycleSummary } from './outbox-round.ts';
export type { OutboxStats, OutboxWorkerOptions } from './outbox-worker-types.ts';

export class OutboxWorker {
  readonly #store: BridgeStore;
  readonly #sink: EventSink | undefined;
  readonly #config: EnvConfig;
  readonly #clock: Clock;
  readonly #policy: RetryPolicy;
  readonly #batchSize: number;
  readonly #concurrency: number;
  readonly #maxIdleMs: number;
  readonly #storeRetryDelayMs: number;
  readonly #scheduler: Scheduler;
  readonly #log: Logger | undefined;
  readonly #emitter: BridgeEmitter | undefined;
  #timer: { cancel: () => void; atMs: number } | undefined;
  /** Rounds in flight (the worker's own and runCycle()'s). */
  readonly #cycles = new Set<Promise<CycleSummary>>();
  /** messageIds of the entries those rounds are sending. */
  readonly #claimed = new Set<string>();
  /** A commit failed: no new round until the store-retry timer (or a kick) fires. */
  #storePaused = false;
  /** Summaries of rounds whose commit failed. */
  readonly #storeFailures = new WeakSet<CycleSummary>();
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
    this.#concurrency = Math.max(1, options.concurrency ?? 2);
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
   * One delivery round: claims up to `batchSize` due entries no other round is sending,
   * sends them and commits. Exposed for tests and the CLI; it may overlap the worker's own
   * rounds, never on the same entry.
   */
  runCycle(): Promise<CycleSummary> {
    let due: OutboxEntry[];
    try {
      due = this.#claim();
    } catch (error) {
      return Promise.reject(toError(error));
    }
    return this.#track(this.#deliver(due));
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

  /** Picks and claims the next round's entries (synchronously, so overlapping rounds never share one). */
  #claim(): OutboxEntry[] {
    if (!this.#sink || this.#closed) return [];
    const due = dueOutboxEntries({ store: this.#store, nowMs: this.#clock.nowMs(), limit: this.#batchSize, exclude: this.#claimed });
    for (const entry of due) this.#claimed.add(entry.messageId);
    return due;
  }

  #track(cycle: Promise<CycleSummary>): Promise<CycleSummary> {
    this.#cycles.add(cycle);
    const untrack = (): void => void this.#cycles.delete(cycle);
    cycle.then(untrack, untrack);
    return cycle;
  }

  /** Sends the claimed entries, settles each, commits, and only then releases the claims. */
  async #deliver(due: OutboxEntry[]): Promise<CycleSummary> {
    const sink = this.#sink;
    if (!sink || due.length === 0) return { attempted: due.length, delivered: 0, retried: 0, dead: 0 };
    let round;
    try {
      round = await deliverRound({ store: this.#store, sink, config: this.#config, policy: this.#policy, nowMs: () => this.#clock.nowMs(), due, emitter: this.#emitter });
    } finally {
      for (const entry of due) this.#claimed.delete(entry.messageId);
    }
    const { summary } = round;
    if (round.storeFailed) this.#storeFailures.add(summary);
    if (round.lastError !== undefined) this.#noteError(round.lastError);
    if (!round.storeFailed && summary.delivered > 0) {
      this.#delivered += summary.delivered;
      this.#lastDeliveryAt = new Date(this.#clock.nowMs()).toISOString();
    }
    if (summary.retried + summary.dead > 0) this.#log?.warn({ ...summary, lastError: this.#lastError?.message }, 'outbox: some flow events were not delivered');
    return summary;
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
      this.#wake();
    }, delayMs);
    this.#timer = { cancel, atMs };
  }

  #wake(): void {
    this.#storePaused = false;
    this.#pump();
  }

  /**
   * Starts rounds while there are free slots and due entries nobody is sending. With
   * nothing left to start and nothing out, sleeps until the next entry is due.
   */
  #pump(): void {
    while (this.#running && !this.#storePaused && this.#cycles.size < this.#concurrency) {
      let due: OutboxEntry[];
      try {
        due = this.#claim();
      } catch (error) {
        // Never an unhandled rejection from a timer; back off as for a store failure.
        this.#noteError(`outbox worker: ${toError(error).message}`);
        this.#storePaused = true;
        return this.#schedule(this.#storeRetryDelayMs);
      }
      if (due.length === 0) break;
      void this.#track(this.#deliver(due)).then(
        (summary) => this.#afterRound(this.#storeFailures.has(summary)),
        (error: unknown) => {
          this.#noteError(`outbox worker: ${toError(error).message}`);
          this.#afterRound(true);
        },
      );
    }
    if (this.#running && !this.#storePaused && this.#cycles.size === 0) this.#scheduleNext();
  }

  /** A round of the worker ended: back off after a failed commit, else refill the free slot. */
  #afterRound(storeFailed: boolean): void {
    if (!this.#running) return;
    if (storeFailed) {
      this.#storePaused = true;
      return this.#schedule(this.#storeRetryDelayMs);
    }
    this.#pump();
  }

  #scheduleNext(): void {
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
      await Promise.allSettled([...this.#cycles]);
      // Deliver what is due, as many rounds at once as while running; stop as soon as a
      // wave delivers nothing (Segment is down).
      while (wasRunning && remainingMs() > 0) {
        const wave = await Promise.all(Array.from({ length: this.#concurrency }, () => this.runCycle()));
        const attempted = wave.reduce((sum, summary) => sum + summary.attempted, 0);
        const delivered = wave.reduce((sum, summary) => sum + summary.delivered, 0);
        if (attempted === 0 || delivered === 0) break;
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
