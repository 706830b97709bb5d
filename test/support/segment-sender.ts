/**
 * Sends messages to /v1/segment the way Segment's Webhooks destination does: each message
 * in its own request, signed with `X-Signature` (hex HMAC-SHA1 of the exact body bytes),
 * retried on 5xx, 408, 429, connection errors and timeouts, with a small capped backoff,
 * until a 2xx. Other 4xx are final (Segment drops them). Records which messageIds got a 2xx
 * and what each 2xx said, so a test can prove "acknowledged => applied exactly once".
 *
 * The target is asked for before every attempt, so a test can kill the instance and
 * point the sender at its replacement (the promise may stay pending while it restarts).
 */
import { createHmac } from 'node:crypto';

export interface SegmentSenderOptions {
  /** Base URL of the instance to call now; may wait while the instance restarts. */
  target: () => Promise<string> | string;
  sharedSecret: string;
  /** Requests in flight at once. Default 16. */
  concurrency?: number;
  /** Per-attempt timeout, like Segment's ~4 s. Default 5000 ms. */
  timeoutMs?: number;
  /** Backoff: `min(baseMs * 2^(attempt-1), maxMs)`. Defaults 10 ms and 250 ms. */
  retryBaseMs?: number;
  retryMaxMs?: number;
  /** Attempts per message before the sender gives up (and the test fails). Default 500. */
  maxAttempts?: number;
  /** Told after each acknowledgement, with the number of messages acknowledged so far. */
  onAcknowledged?: (acknowledged: number) => void;
}

export interface SenderStats {
  /** HTTP attempts, including the first of each message. */
  requests: number;
  /** Attempts beyond the first. */
  retries: number;
  /** Attempts that ended without an HTTP answer (refused, reset, timed out). */
  networkErrors: number;
  timeouts: number;
  /** Answers by HTTP status. */
  byStatus: Record<string, number>;
  /** Sums over the 2xx bodies. */
  accepted: number;
  duplicates: number;
  ignored: number;
  rejected: number;
}

interface InboundBody {
  accepted?: number;
  duplicates?: number;
  ignored?: number;
  rejected?: unknown[];
}

const RETRYABLE = (status: number): boolean => status === 408 || status === 429 || status >= 500;

export class SegmentSender {
  /** messageIds that got a 2xx. */
  readonly acknowledged = new Set<string>();
  /** How many 2xx answers said `accepted: 1` for each messageId (must never exceed 1). */
  readonly acceptedReports = new Map<string, number>();
  /** messageIds refused with a final 4xx, and the status. */
  readonly failed = new Map<string, number>();
  readonly stats: SenderStats = { requests: 0, retries: 0, networkErrors: 0, timeouts: 0, byStatus: {}, accepted: 0, duplicates: 0, ignored: 0, rejected: 0 };
  readonly #options: Required<Omit<SegmentSenderOptions, 'onAcknowledged'>> & Pick<SegmentSenderOptions, 'onAcknowledged'>;

  constructor(options: SegmentSenderOptions) {
    this.#options = { concurrency: 16, timeoutMs: 5_000, retryBaseMs: 10, retryMaxMs: 250, maxAttempts: 500, ...options };
  }

  /** Sends every message, `concurrency` at a time, each until it is acknowledged (or refused with a 4xx). */
  async sendAll(messages: ReadonlyArray<Record<string, unknown>>): Promise<void> {
    let next = 0;
    const worker = async (): Promise<void> => {
      while (next < messages.length) {
        const message = messages[next];
        next += 1;
        if (message) await this.send(message);
      }
    };
    await Promise.all(Array.from({ length: Math.min(this.#options.concurrency, messages.length) }, worker));
  }

  /** Sends one message until a 2xx or a final 4xx; returns the final status. */
  async send(message: Record<string, unknown>): Promise<number> {
    const body = JSON.stringify(message);
    const messageId = String(message['messageId']);
    const signature = createHmac('sha1', this.#options.sharedSecret).update(body).digest('hex');
    for (let attempt = 1; attempt <= this.#options.maxAttempts; attempt += 1) {
      if (attempt > 1) {
        this.stats.retries += 1;
        await sleep(Math.min(this.#options.retryBaseMs * 2 ** (attempt - 2), this.#options.retryMaxMs));
      }
      const status = await this.#attempt({ body, signature, messageId });
      if (status === undefined || RETRYABLE(status)) continue;
      if (status >= 200 && status < 300) {
        this.acknowledged.add(messageId);
        this.#options.onAcknowledged?.(this.acknowledged.size);
      } else {
        this.failed.set(messageId, status);
      }
      return status;
    }
    throw new Error(`segment sender: ${messageId} not acknowledged after ${this.#options.maxAttempts} attempts`);
  }

  /** One HTTP attempt: the status, or undefined when there was no answer. */
  async #attempt(options: { body: string; signature: string; messageId: string }): Promise<number | undefined> {
    const base = await this.#options.target();
    this.stats.requests += 1;
    try {
      const response = await fetch(`${base}/v1/segment`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-signature': options.signature, 'user-agent': 'Segment.io/1.0' },
        body: options.body,
        signal: AbortSignal.timeout(this.#options.timeoutMs),
      });
      const text = await response.text();
      const key = String(response.status);
      this.stats.byStatus[key] = (this.stats.byStatus[key] ?? 0) + 1;
      if (response.status >= 200 && response.status < 300) this.#record(options.messageId, text);
      return response.status;
    } catch (error) {
      this.stats.networkErrors += 1;
      if ((error as Error).name === 'TimeoutError') this.stats.timeouts += 1;
      return undefined;
    }
  }

  #record(messageId: string, text: string): void {
    const body = JSON.parse(text) as InboundBody;
    this.stats.accepted += body.accepted ?? 0;
    this.stats.duplicates += body.duplicates ?? 0;
    this.stats.ignored += body.ignored ?? 0;
    this.stats.rejected += body.rejected?.length ?? 0;
    if ((body.accepted ?? 0) > 0) this.acceptedReports.set(messageId, (this.acceptedReports.get(messageId) ?? 0) + 1);
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
