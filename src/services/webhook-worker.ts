/**
 * Delivers pending trigger webhooks (SPEC §5): signs each with Standard Webhooks headers,
 * sends it, and records the outcome (delivered / retry later / failed) in the store,
 * committing once per cycle. Deliveries live in the store, so a pending one survives a
 * restart: a new worker over the same store picks it up on its first cycle.
 *
 * The worker tracks the ids of pending deliveries in memory so a cycle never scans the
 * whole `deliveries` collection; that set is (re)built by a full scan on the first cycle,
 * on `kick()` without ids, after a failed commit, and every `rescanIntervalMs`. Callers that
 * commit new deliveries call `kick(ids)` so they go out at once.
 *
 * Time comes from the injected clock and timers from the injected scheduler, so tests
 * drive retries by advancing a fake clock and calling `runOnce()`.
 */
import type { EnvConfig } from '../config/types.ts';
import type { BridgeStore } from '../domain/bridge-schema.ts';
import type { WebhookDelivery } from '../domain/trigger-run.ts';
import { planAfterAttempt } from '../domain/webhook-schedule.ts';
import type { BridgeEmitter } from '../events.ts';
import type { Clock } from '../ports/clock.ts';
import type { WebhookSender, WebhookSendResult } from '../ports/webhook-sender.ts';
import { signWebhook } from '../domain/webhook-signature.ts';

import { timerScheduler, type Scheduler } from '../ports/scheduler.ts';

/** The subset of a pino logger the worker uses. Fields never include secrets or bodies. */
export interface WorkerLog {
  info(fields: Record<string, unknown>, message: string): void;
  warn(fields: Record<string, unknown>, message: string): void;
}

export interface WebhookWorkerOptions {
  store: BridgeStore;
  sender: WebhookSender;
  /** `secrets.webhookSecrets` is read at send time. */
  config: EnvConfig;
  clock: Clock;
  /** Default: `timerScheduler`. */
  scheduler?: Scheduler;
  /** Per-request timeout. Default 10 000 ms. */
  timeoutMs?: number;
  /** Most deliveries tried per cycle (one commit per cycle). Default 50. */
  batchSize?: number;
  /** Requests in flight at once. Default 4. */
  concurrency?: number;
  /** Longest sleep between cycles. Default 30 000 ms. */
  idlePollMs?: number;
  /** Full rescan of the store for pending deliveries at least this often. Default 60 000 ms. */
  rescanIntervalMs?: number;
  log?: WorkerLog;
  emitter?: BridgeEmitter;
}

export interface WebhookWorkerStats {
  pending: number;
  failed: number;
  delivered: number;
  /** The latest failed try since this worker started. */
  lastError?: { deliveryId: string; reason: string; at: string };
}

export class WebhookWorker {
  readonly #options: Required<Omit<WebhookWorkerOptions, 'log' | 'emitter'>> & Pick<WebhookWorkerOptions, 'log' | 'emitter'>;
  readonly #pending = new Set<string>();
  #lastScanMs: number | undefined;
  #needsRescan = true;
  #chain: Promise<unknown> = Promise.resolve();
  #cancelTimer: (() => void) | undefined;
  #started = false;
  #lastError: WebhookWorkerStats['lastError'];

  constructor(options: WebhookWorkerOptions) {
    this.#options = {
      scheduler: timerScheduler,
      timeoutMs: 10_000,
      batchSize: 50,
      concurrency: 4,
      idlePollMs: 30_000,
      rescanIntervalMs: 60_000,
      ...options,
    };
  }

  /** Starts the delivery loop (first cycle at once). Idempotent. */
  start(): void {
    if (this.#started) return;
    this.#started = true;
    this.#schedule(0);
  }

  /** Runs a cycle soon: with `deliveryIds`, those new deliveries are tracked; without, the store is rescanned. */
  kick(deliveryIds?: readonly string[]): void {
    if (deliveryIds) for (const id of deliveryIds) this.#pending.add(id);
    else this.#needsRescan = true;
    if (this.#started) this.#schedule(0);
  }

  /** Stops the loop and waits for the cycle in progress (its results are committed). */
  async stop(): Promise<void> {
    this.#started = false;
    this.#cancelTimer?.();
    this.#cancelTimer = undefined;
    await this.#chain;
  }

  /**
   * One cycle: try every due pending delivery (oldest due first, at most `batchSize`), then
   * commit. Resolves with the number tried; rejects if the commit fails (the store rolled
   * back, so those deliveries are tried again). Cycles never overlap.
   */
  runOnce(): Promise<number> {
    const cycle = this.#chain.then(() => this.#cycle());
    this.#chain = cycle.catch(() => undefined);
    return cycle;
  }

  /** Failed deliveries (all, or those of `ids`) back to pending with attempts reset; committed. Returns the ids requeued. */
  async retryFailed(ids?: readonly string[]): Promise<string[]> {
    const requeued = requeueFailedDeliveries({ store: this.#options.store, ids, nowMs: this.#options.clock.nowMs() });
    if (requeued.length > 0) {
      await this.#options.store.commit();
      this.kick(requeued);
    }
    return requeued;
  }

  /** Counts by status (a scan of `deliveries`) and the latest error. */
  stats(): WebhookWorkerStats {
    const counts = { pending: 0, failed: 0, delivered: 0 };
    for (const delivery of this.#options.store.values('deliveries')) counts[delivery.status] += 1;
    return this.#lastError ? { ...counts, lastError: this.#lastError } : counts;
  }

  async #cycle(): Promise<number> {
    const { store, clock, batchSize, concurrency } = this.#options;
    const nowMs = clock.nowMs();
    if (this.#needsRescan || this.#lastScanMs === undefined || nowMs - this.#lastScanMs >= this.#options.rescanIntervalMs) this.#rescan(nowMs);
    const due = this.#pendingDeliveries()
      .filter((delivery) => delivery.nextAttemptAtMs <= nowMs)
      .sort((a, b) => a.nextAttemptAtMs - b.nextAttemptAtMs)
      .slice(0, batchSize);
    if (due.length === 0) return 0;
    let next = 0;
    const lane = async (): Promise<void> => {
      for (let item = due[next++]; item !== undefined; item = due[next++]) await this.#attempt(item);
    };
    await Promise.all(Array.from({ length: Math.min(concurrency, due.length) }, lane));
    try {
      await store.commit();
    } catch (error) {
      this.#needsRescan = true;
      throw error;
    }
    return due.length;
  }

  #rescan(nowMs: number): void {
    this.#pending.clear();
    for (const [id, delivery] of this.#options.store.entries('deliveries')) if (delivery.status === 'pending') this.#pending.add(id);
    this.#lastScanMs = nowMs;
    this.#needsRescan = false;
  }

  /** Current records of the tracked ids; forgets ids that are no longer pending (delivered, failed, erased). */
  #pendingDeliveries(): WebhookDelivery[] {
    const found: WebhookDelivery[] = [];
    for (const id of this.#pending) {
      const delivery = this.#options.store.get('deliveries', id);
      if (delivery?.status === 'pending') found.push(delivery);
      else this.#pending.delete(id);
    }
    return found;
  }

  async #attempt(delivery: WebhookDelivery): Promise<void> {
    const { sent, result } = await this.#send(delivery);
    const nowMs = this.#options.clock.nowMs();
    const current = this.#options.store.get('deliveries', delivery.id);
    if (current?.status !== 'pending') return; // erased (user deleted) or changed while in flight
    // Nothing was sent without a usable secret, so that does not use up an attempt.
    const attempts = current.attempts + (sent ? 1 : 0);
    const step = planAfterAttempt({ attemptsSoFar: attempts, result, nowMs });
    const at = new Date(nowMs).toISOString();
    const { lastError: _previousError, ...rest } = current;
    const base = { ...rest, attempts, ...(result.status === undefined ? {} : { lastStatus: result.status }) };
    const reason = result.ok ? undefined : result.reason;
    let next: WebhookDelivery;
    if (step.status === 'delivered') next = { ...base, status: 'delivered', deliveredAt: at };
    else if (step.status === 'pending') next = { ...base, lastError: reason ?? '', nextAttemptAtMs: step.nextAttemptAtMs };
    else next = { ...base, status: 'failed', failedAt: at, lastError: step.exhausted ? `${reason}; gave up after ${attempts} attempts` : (reason ?? '') };
    this.#options.store.put('deliveries', delivery.id, next);

    if (next.lastError !== undefined) {
      this.#lastError = { deliveryId: delivery.id, reason: next.lastError, at };
      const fields = { deliveryId: delivery.id, triggerId: delivery.triggerId, attempts, status: result.status, outcome: step.status };
      this.#options.log?.warn(fields, `webhook delivery ${step.status === 'pending' ? 'will be retried' : 'failed'}: ${next.lastError}`);
    }
    this.#options.emitter?.emit('webhook_attempt', {
      deliveryId: delivery.id,
      result: step.status === 'pending' ? 'retry' : step.status,
      ...(result.status === undefined ? {} : { status: result.status }),
      ...(reason === undefined ? {} : { reason }),
    });
  }

  /** Signs and sends one delivery; `sent` is false when nothing left the process (no usable secret). */
  async #send(delivery: WebhookDelivery): Promise<{ sent: boolean; result: WebhookSendResult }> {
    const { clock, config, sender, timeoutMs } = this.#options;
    const signed = signWebhook({ delivery, secrets: config.secrets.webhookSecrets, nowMs: clock.nowMs() });
    if (!signed.ok) return { sent: false, result: { ok: false, retryable: false, reason: signed.reason } };
    try {
      return { sent: true, result: await sender.send({ url: delivery.url, headers: signed.headers, body: delivery.body, timeoutMs }) };
    } catch (error) {
      // A throwing sender is a bug; retrying is the safe way to not lose the delivery.
      const message = error instanceof Error ? error.message : 'unknown';
      return { sent: true, result: { ok: false, retryable: true, reason: `sender error: ${message}` } };
    }
  }

  #schedule(delayMs: number): void {
    this.#cancelTimer?.();
    this.#cancelTimer = this.#options.scheduler.schedule(() => {
      this.#cancelTimer = undefined;
      void this.#loop();
    }, delayMs);
  }

  async #loop(): Promise<void> {
    let delayMs: number;
    try {
      const tried = await this.runOnce();
      delayMs = tried >= this.#options.batchSize ? 0 : this.#sleepMs();
    } catch (error) {
      this.#options.log?.warn({ error: error instanceof Error ? error.message : 'unknown' }, 'webhook cycle failed; retrying shortly');
      delayMs = Math.min(1_000, this.#options.idlePollMs);
    }
    if (this.#started) this.#schedule(delayMs);
  }

  /** Until the earliest pending try is due, at most `idlePollMs`. */
  #sleepMs(): number {
    const nowMs = this.#options.clock.nowMs();
    let earliest = nowMs + this.#options.idlePollMs;
    for (const delivery of this.#pendingDeliveries()) earliest = Math.min(earliest, delivery.nextAttemptAtMs);
    return Math.max(0, earliest - nowMs);
  }
}

/**
 * Puts failed deliveries (all, or those of `ids`; other ids are skipped) back to pending:
 * attempts 0, due at `nowMs`, a fresh schedule. The id (the receiver's idempotency key) is
 * kept. Does not commit. Returns the ids requeued.
 */
export function requeueFailedDeliveries(options: { store: BridgeStore; ids?: readonly string[] | undefined; nowMs: number }): string[] {
  const { store, nowMs } = options;
  const candidates = options.ids ? options.ids.map((id) => store.get('deliveries', id)) : [...store.values('deliveries')];
  const requeued: string[] = [];
  for (const delivery of candidates) {
    if (delivery?.status !== 'failed') continue;
    const { failedAt: _failedAt, ...rest } = delivery;
    store.put('deliveries', delivery.id, { ...rest, status: 'pending', attempts: 0, nextAttemptAtMs: nowMs });
    requeued.push(delivery.id);
  }
  return requeued;
}

/** Deliveries, newest first (by creation), optionally of one status; at most `limit` (default 100). */
export function listDeliveries(options: { store: BridgeStore; status?: WebhookDelivery['status']; limit?: number }): WebhookDelivery[] {
  const { store, status } = options;
  const limit = Math.max(0, options.limit ?? 100);
  const matching: WebhookDelivery[] = [];
  for (const delivery of store.values('deliveries')) if (status === undefined || delivery.status === status) matching.push(delivery);
  return matching.sort((a, b) => (a.createdAt < b.createdAt ? 1 : a.createdAt > b.createdAt ? -1 : 0)).slice(0, limit);
}
