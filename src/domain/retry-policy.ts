/**
 * What to do after one attempt to deliver a flow event to Segment: a pure function of
 * (status, network error, Retry-After, attempt). The outbox applies the decision; nothing
 * here sleeps or reads a clock.
 *
 * Decisions (SPEC §3, STYLE 17), written down because they differ from analytics-node:
 * - 2xx: delivered.
 * - 408, 429, 5xx except 501/505, network errors and timeouts: retry, with exponential
 *   backoff and full jitter (base 1 s, factor 2, cap 10 min), or after `Retry-After`
 *   when Segment sends one (capped at 10 min too). Retries never give up: an event
 *   leaves the outbox only when Segment acknowledged it (or an operator removes it).
 * - every other 4xx (400 malformed/too large, 401/403 wrong write key, 404 wrong host,
 *   413), 501, 505 and a failure without status that is not a network error: dead letter.
 *   Repeating the same request cannot succeed; an operator fixes the cause and retries
 *   the dead letters from the CLI.
 * - anything else (1xx/3xx reaching us as a failure): retry, since losing is worse.
 */

export interface RetryPolicy {
  /** First retry delay before jitter. Default 1000 ms. */
  baseDelayMs: number;
  /** Growth per attempt. Default 2. */
  factor: number;
  /** Longest delay, also the cap on `Retry-After`. Default 10 min. */
  maxDelayMs: number;
  /** Uniform [0, 1) source for jitter; tests inject a constant. Default Math.random. */
  random: () => number;
}

export const DEFAULT_RETRY_POLICY: Readonly<RetryPolicy> = Object.freeze({
  baseDelayMs: 1_000,
  factor: 2,
  maxDelayMs: 10 * 60_000,
  random: Math.random,
});

/** The outcome of one delivery attempt, as the event sink reports it. */
export interface SegmentDeliveryResult {
  /** HTTP status of Segment's answer, when there was one. */
  status?: number;
  /** No answer: connection refused or reset, DNS failure, timeout. */
  networkError?: boolean;
  /** Segment's `Retry-After` header in seconds. */
  retryAfterSec?: number;
  /** Which attempt this was, starting at 1. */
  attempt: number;
}

export type RetryDecision = { kind: 'ok' } | { kind: 'retry'; delayMs: number } | { kind: 'dead'; reason: string };

const RETRYABLE_4XX: ReadonlySet<number> = new Set([408, 429]);
const PERMANENT_5XX: ReadonlySet<number> = new Set([501, 505]);

export function classifySegmentResult(result: SegmentDeliveryResult, policy: Readonly<RetryPolicy> = DEFAULT_RETRY_POLICY): RetryDecision {
  const { status } = result;
  if (status === undefined) {
    return result.networkError === true ? retry(result, policy) : { kind: 'dead', reason: 'permanent failure: Segment cannot accept this event' };
  }
  if (status >= 200 && status < 300) return { kind: 'ok' };
  if (RETRYABLE_4XX.has(status)) return retry(result, policy);
  if (status >= 400 && status < 500) return { kind: 'dead', reason: describePermanent(status) };
  if (status >= 500 && status < 600 && PERMANENT_5XX.has(status)) return { kind: 'dead', reason: `permanent: Segment answered HTTP ${status}` };
  return retry(result, policy);
}

function retry(result: SegmentDeliveryResult, policy: Readonly<RetryPolicy>): RetryDecision {
  const { retryAfterSec } = result;
  if (retryAfterSec !== undefined && Number.isFinite(retryAfterSec) && retryAfterSec >= 0) {
    return { kind: 'retry', delayMs: Math.min(Math.round(retryAfterSec * 1000), policy.maxDelayMs) };
  }
  return { kind: 'retry', delayMs: backoffDelayMs({ attempt: result.attempt, policy }) };
}

/**
 * Full-jitter exponential backoff: uniform in [0, min(max, base * factor^(attempt-1))].
 * Full jitter spreads the retries of many events that failed together (one outage).
 */
export function backoffDelayMs(options: { attempt: number; policy?: Readonly<RetryPolicy> }): number {
  const policy = options.policy ?? DEFAULT_RETRY_POLICY;
  const exponent = Math.max(0, options.attempt - 1);
  const ceiling = Math.min(policy.maxDelayMs, policy.baseDelayMs * policy.factor ** exponent);
  const jitter = Math.min(Math.max(policy.random(), 0), 1);
  return Math.floor(ceiling * jitter);
}

function describePermanent(status: number): string {
  switch (status) {
    case 400:
      return 'permanent: Segment refused the request as malformed or too large (HTTP 400)';
    case 401:
    case 403:
      return `permanent: Segment refused the write key (HTTP ${status}); check SEGMENT_WRITE_KEY_<ENV>`;
    case 404:
      return 'permanent: Segment endpoint not found (HTTP 404); check segment.host / region';
    case 413:
      return 'permanent: Segment refused the payload as too large (HTTP 413)';
    default:
      return `permanent: Segment answered HTTP ${status}`;
  }
}
