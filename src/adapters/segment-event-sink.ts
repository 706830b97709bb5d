/**
 * EventSink over `@segment/analytics-node`: each OutboundTrack becomes one `track` call
 * with our stable messageId, and `send` resolves with one result per event.
 *
 * The library is told to retry as little as possible (`maxRetries: 0`) and never to wait
 * on `Retry-After` itself: its retries live in memory and die with the process, while
 * our outbox keeps every undelivered event on disk and retries across restarts
 * (src/services/outbox-worker.ts). Two retry loops stacked would also multiply the
 * attempts and hide the real status from the outbox's policy.
 *
 * The library reports a failure per event only as an Error (`[401] Unauthorized`), so an
 * injected `httpClient` records, for every messageId of each request body, the HTTP
 * status, `Retry-After` and network errors, and the per-event outcome joins the two.
 * Outcomes come from the library's `track` / `error` events (each carries the event's
 * context, hence our messageId) rather than from the per-call callback: analytics-core
 * delays every callback to at least 300 ms after the call (a legacy `getDelay`), which
 * would put a 300 ms floor under each outbox cycle.
 *
 * Concurrent sends each get their own analytics-node instance from a small pool (`lanes`):
 * one instance ignores a `flush()` while another is running, and its flush waits for every
 * pending event, so two sends sharing one instance would wait on each other. A lane's send
 * ends with its buffer flushed, so an idle lane holds nothing.
 */
import { Analytics, FetchHTTPClient, type Context, type HTTPClient, type HTTPClientRequest, type HTTPFetchFn, type HTTPResponse } from '@segment/analytics-node';
import type { EventSink, OutboundTrack, SendResult } from '../ports/event-sink.ts';
import { oversizeJsonBytes } from '../domain/json-bounds.ts';
import { parseRetryAfterSec } from '../domain/retry-after.ts';
import { KeepAliveHttpClient } from './keep-alive-http-client.ts';

export interface SegmentEventSinkOptions {
  /** The environment's HTTP API source write key. Never logged, never in a reason. */
  writeKey: string;
  /** Tracking API base URL without `/v1`, e.g. `https://api.segment.io` or a local stand-in. */
  host: string;
  /** Events per HTTP request. Default 15 (analytics-node's default). */
  flushAt?: number;
  /** Longest an event waits in the library's buffer. Default 10000 ms; `send` flushes at once anyway. */
  flushIntervalMs?: number;
  /** Per-request timeout. Default 10000 ms. */
  httpRequestTimeoutMs?: number;
  /** fetch-compatible function (tests). Default: node:http with keep-alive (src/adapters/keep-alive-http-client.ts). */
  fetch?: HTTPFetchFn;
  /**
   * Sends in flight at once (analytics-node instances). Default 4: the outbox worker's
   * concurrency (default 2) plus room for a `runCycle()` beside it. More sends than lanes
   * wait for a free lane.
   */
  lanes?: number;
}

/**
 * Segment refuses events over 32 KB with a 400 for the whole batch, which would sink the
 * event's neighbours too; analytics-node's own size check under-counts (it measures an
 * encodeURI split), so we check here, leaving 1 KB for the fields the library adds.
 */
const MAX_TRACK_BYTES = 31 * 1024;

interface WireOutcome {
  status?: number;
  retryAfterSec?: number;
  networkError?: boolean;
  reason?: string;
}

export class SegmentEventSink implements EventSink {
  /** Lanes (analytics-node instances) no send is using. */
  readonly #idle: Analytics[] = [];
  /** Sends waiting for a free lane, first come first served. */
  readonly #laneWaiters: Array<(lane: Analytics) => void> = [];
  /** Sends in progress (holding a lane or waiting for one); close() waits for them. */
  readonly #active = new Set<Promise<unknown>>();
  readonly #recorder: OutcomeRecorder;
  readonly #http: KeepAliveHttpClient | undefined;
  /** Longest a send may wait for the library's outcomes. */
  readonly #watchdogMs: number;
  #closed = false;
  /** Sends waiting for the outcome of an event, by messageId. */
  readonly #waiting = new Map<string, (result: SendResult) => void>();

  constructor(options: SegmentEventSinkOptions) {
    const timeoutMs = options.httpRequestTimeoutMs ?? 10_000;
    this.#watchdogMs = timeoutMs + (options.flushIntervalMs ?? 10_000) + 5_000;
    this.#http = options.fetch ? undefined : new KeepAliveHttpClient();
    this.#recorder = new OutcomeRecorder({ inner: this.#http ?? new FetchHTTPClient(options.fetch), timeoutMs });
    for (let index = 0; index < Math.max(1, options.lanes ?? 4); index += 1) {
      const analytics = new Analytics({
        writeKey: options.writeKey,
        host: options.host,
        flushAt: options.flushAt ?? 15,
        flushInterval: options.flushIntervalMs ?? 10_000,
        httpRequestTimeout: timeoutMs,
        // Durable retries are the outbox's job (see the file comment).
        maxRetries: 0,
        httpClient: this.#recorder,
      });
      analytics.on('track', (ctx) => this.#settle(ctx, undefined));
      analytics.on('error', (failure) => this.#settle(failure.ctx, failure.reason ?? failure.code));
      this.#idle.push(analytics);
    }
  }

  send(events: readonly OutboundTrack[]): Promise<SendResult[]> {
    if (this.#closed) return Promise.resolve(closedResults(events));
    const run = this.#withLane((lane) => this.#sendNow(lane, events));
    this.#active.add(run);
    void run.catch(() => undefined).finally(() => this.#active.delete(run));
    return run;
  }

  async close(timeoutMs: number): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    const deadline = Date.now() + timeoutMs;
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      Promise.allSettled([...this.#active]),
      new Promise<void>((resolve) => (timer = setTimeout(resolve, timeoutMs))),
    ]);
    clearTimeout(timer);
    // A lane with a send still in flight would ignore closeAndFlush as an overlapping flush;
    // that request ends within httpRequestTimeoutMs and its events stay in the outbox.
    const idle = this.#idle.splice(0);
    await Promise.all(idle.map((lane) => lane.closeAndFlush({ timeout: Math.max(1, deadline - Date.now()) })));
    this.#http?.close();
  }

  async #withLane<T>(run: (lane: Analytics) => Promise<T>): Promise<T> {
    const lane = this.#idle.pop() ?? (await new Promise<Analytics>((resolve) => this.#laneWaiters.push(resolve)));
    try {
      return await run(lane);
    } finally {
      const next = this.#laneWaiters.shift();
      if (next) next(lane);
      else this.#idle.push(lane);
    }
  }

  async #sendNow(lane: Analytics, events: readonly OutboundTrack[]): Promise<SendResult[]> {
    // Closed while this send waited for a lane.
    if (this.#closed) return closedResults(events);
    const pending = events.map((track) => this.#track(lane, track));
    // Send now rather than after flushIntervalMs: the outbox already batched these.
    const flushed = lane.flush({ timeout: this.#watchdogMs });
    // A send must never hang, even if the library loses an event without telling us.
    const watchdog = setTimeout(() => {
      for (const { messageId } of events) this.#resolveWaiting(messageId, { messageId, ok: false, networkError: true, reason: `no outcome from analytics-node within ${this.#watchdogMs} ms` });
    }, this.#watchdogMs).unref();
    const results = await Promise.all(pending);
    clearTimeout(watchdog);
    await flushed;
    return results;
  }

  #track(lane: Analytics, track: OutboundTrack): Promise<SendResult> {
    const { messageId } = track;
    const userId = track.userId === '' ? undefined : track.userId;
    const anonymousId = track.anonymousId === '' ? undefined : track.anonymousId;
    const identity = userId !== undefined ? { userId, anonymousId } : anonymousId !== undefined ? { anonymousId } : undefined;
    if (identity === undefined) return Promise.resolve({ messageId, ok: false, reason: 'rejected before sending: userId/anonymousId is missing' });
    const bytes = oversizeJsonBytes(track, MAX_TRACK_BYTES);
    if (bytes > 0) {
      return Promise.resolve({ messageId, ok: false, reason: `rejected before sending: ${bytes} bytes; Segment refuses events over 32 KB` });
    }
    return new Promise((resolve) => {
      this.#waiting.set(messageId, resolve);
      try {
        lane.track({ ...identity, event: track.event, properties: track.properties, context: track.context, timestamp: new Date(track.timestamp), messageId });
      } catch (error) {
        // analytics-node validates synchronously (e.g. a non-string event name): permanent.
        this.#waiting.delete(messageId);
        resolve({ messageId, ok: false, reason: `rejected before sending: ${errorMessage(error)}` });
      }
    });
  }

  /** Resolves the waiting send for the event of `ctx`, once per messageId. */
  #settle(ctx: Context | undefined, error: unknown): void {
    const messageId = ctx?.event.messageId;
    if (typeof messageId === 'string' && this.#waiting.has(messageId)) this.#resolveWaiting(messageId, this.#toResult(messageId, error));
  }

  #resolveWaiting(messageId: string, result: SendResult): void {
    const resolve = this.#waiting.get(messageId);
    this.#waiting.delete(messageId);
    resolve?.(result);
  }

  #toResult(messageId: string, error: unknown): SendResult {
    const outcome = this.#recorder.take(messageId);
    if (error === undefined || error === null) return { messageId, ok: true };
    const reason = outcome?.reason ?? errorMessage(error);
    if (outcome?.status !== undefined) {
      return { messageId, ok: false, status: outcome.status, ...(outcome.retryAfterSec === undefined ? {} : { retryAfterSec: outcome.retryAfterSec }), reason };
    }
    // No HTTP answer recorded: a network error, or the library gave up before sending
    // (closed, flush timeout). Only an event the library can never send is permanent.
    const permanent = /exceeds maximum event size/i.test(reason);
    return permanent ? { messageId, ok: false, reason } : { messageId, ok: false, networkError: true, reason };
  }
}

/** An HTTPClient that remembers, per messageId, how Segment refused the request carrying it (or that it got no answer). */
class OutcomeRecorder implements HTTPClient {
  readonly #inner: HTTPClient;
  readonly #timeoutMs: number;
  readonly #outcomes = new Map<string, WireOutcome>();

  constructor(options: { inner: HTTPClient; timeoutMs: number }) {
    this.#inner = options.inner;
    this.#timeoutMs = options.timeoutMs;
  }

  take(messageId: string): WireOutcome | undefined {
    const outcome = this.#outcomes.get(messageId);
    this.#outcomes.delete(messageId);
    return outcome;
  }

  async makeRequest(request: HTTPClientRequest): Promise<HTTPResponse> {
    let response: HTTPResponse;
    try {
      response = await this.#inner.makeRequest(request);
    } catch (error) {
      this.#record(request.body, { networkError: true, reason: describeNetworkError(error, this.#timeoutMs) });
      throw error;
    }
    // Read the body so the connection can be reused; the library never does.
    await response.text?.().catch(() => '');
    // The library counts 2xx and 3xx as delivered and reports no reason for them: only a
    // refusal needs remembering, which keeps a JSON.parse of every request body off the
    // happy path.
    if (response.status < 200 || response.status >= 400) {
      const retryAfterSec = parseRetryAfterSec(headerValue(response.headers, 'retry-after'), Date.now());
      this.#record(request.body, { status: response.status, reason: `[${response.status}] ${response.statusText}`, ...(retryAfterSec === undefined ? {} : { retryAfterSec }) });
    }
    // Hide Retry-After from the library: with it, analytics-node would hold the batch in
    // memory and retry it itself (up to 20 times, up to 5 min each). The outbox waits instead.
    return { status: response.status, statusText: response.statusText, headers: {} };
  }

  #record(body: string, outcome: WireOutcome): void {
    for (const id of batchMessageIds(body)) this.#outcomes.set(id, outcome);
  }
}

function closedResults(events: readonly OutboundTrack[]): SendResult[] {
  return events.map((track) => ({ messageId: track.messageId, ok: false, networkError: true, reason: 'the Segment sink is closed' }));
}

function batchMessageIds(body: string): string[] {
  try {
    const parsed = JSON.parse(body) as { batch?: Array<{ messageId?: unknown }> };
    return (parsed.batch ?? []).map((event) => event.messageId).filter((id): id is string => typeof id === 'string');
  } catch {
    return [];
  }
}

function headerValue(headers: HTTPResponse['headers'], name: string): string | undefined {
  if (headers === undefined) return undefined;
  if (typeof headers['get'] === 'function') return (headers as { get(key: string): string | null }).get(name) ?? undefined;
  for (const [key, value] of Object.entries(headers)) if (key.toLowerCase() === name) return String(value);
  return undefined;
}

function describeNetworkError(error: unknown, timeoutMs: number): string {
  if (error instanceof Error && (error.name === 'AbortError' || error.name === 'TimeoutError')) return `network: no answer within ${timeoutMs} ms`;
  const cause = error instanceof Error ? (error.cause as { code?: unknown } | undefined) : undefined;
  const code = typeof cause?.code === 'string' ? cause.code : undefined;
  return `network: ${code ?? errorMessage(error)}`;
}

function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
