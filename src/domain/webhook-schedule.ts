/**
 * Retry policy of trigger webhooks (SPEC §5), as pure functions of (status, attempts, now).
 *
 * Schedule: the first try goes out at once; after a retryable failure the next try waits
 * 1, 2, 4, 8, 16, 32 and 64 minutes, then a last try 6 hours later. The SPEC's "(8 attempts)"
 * counts those 8 retries (7 backoff steps + the last try): a delivery is tried at most
 * 9 times (first try + 8 retries) over about 8 hours, then marked failed.
 *
 * Classification (a status, or a network error in the sender):
 * - 2xx: delivered;
 * - 408, 429, 5xx, network errors and timeouts: retry;
 * - everything else (other 4xx, and 1xx/3xx: redirects are not followed, a webhook URL must
 *   answer itself): failed at once, no retry.
 *
 * `Retry-After` (sent with 429/503) can only lengthen the wait, never shorten it or add
 * attempts: the next try waits max(schedule step, Retry-After), with Retry-After capped at
 * 6 hours so a receiver cannot park a delivery forever.
 * No jitter: deliveries are spread by their creation times already, and a deterministic
 * schedule is what operators can reason about in `deliveries list`.
 */

const MINUTE_MS = 60_000;
const HOUR_MS = 60 * MINUTE_MS;

/** Waits before retry 1..8 (index = attempts so far - 1). */
export const WEBHOOK_RETRY_DELAYS_MS: readonly number[] = Object.freeze([
  ...[1, 2, 4, 8, 16, 32, 64].map((minutes) => minutes * MINUTE_MS),
  6 * HOUR_MS,
]);

/** First try + one per retry delay = 9. */
export const WEBHOOK_MAX_ATTEMPTS = WEBHOOK_RETRY_DELAYS_MS.length + 1;

/** Longest wait a `Retry-After` header can impose. */
export const MAX_RETRY_AFTER_MS = 6 * HOUR_MS;

/** The wait before the next try after `attemptsSoFar` tries (0 before the first), or null when the schedule is exhausted. */
export function nextDelayMs(attemptsSoFar: number): number | null {
  if (!Number.isInteger(attemptsSoFar) || attemptsSoFar < 1) return 0;
  return WEBHOOK_RETRY_DELAYS_MS[attemptsSoFar - 1] ?? null;
}

export type StatusClass = 'delivered' | 'retry' | 'fail';

/** What an HTTP status means for a webhook delivery. */
export function classifyStatus(status: number): StatusClass {
  if (status >= 200 && status < 300) return 'delivered';
  if (status === 408 || status === 429 || (status >= 500 && status < 600)) return 'retry';
  return 'fail';
}

/** The outcome of one try, as the sender reports it (see src/ports/webhook-sender.ts). */
export type AttemptResult = { ok: true } | { ok: false; retryable: boolean; retryAfterSec?: number };

export type NextStep =
  | { status: 'delivered' }
  | { status: 'pending'; nextAttemptAtMs: number }
  /** `exhausted`: retryable, but the schedule has no try left; otherwise a permanent failure. */
  | { status: 'failed'; exhausted: boolean };

/** What to do with a delivery after its `attemptsSoFar`-th try ended with `result` at `nowMs`. */
export function planAfterAttempt(options: { attemptsSoFar: number; result: AttemptResult; nowMs: number }): NextStep {
  const { attemptsSoFar, result, nowMs } = options;
  if (result.ok) return { status: 'delivered' };
  if (!result.retryable) return { status: 'failed', exhausted: false };
  const delayMs = nextDelayMs(attemptsSoFar);
  if (delayMs === null) return { status: 'failed', exhausted: true };
  const retryAfterSec = result.retryAfterSec;
  const usable = retryAfterSec !== undefined && Number.isFinite(retryAfterSec) && retryAfterSec > 0;
  const retryAfterMs = usable ? Math.min(retryAfterSec * 1000, MAX_RETRY_AFTER_MS) : 0;
  return { status: 'pending', nextAttemptAtMs: nowMs + Math.max(delayMs, retryAfterMs) };
}
