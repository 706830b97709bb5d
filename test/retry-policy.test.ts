import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { backoffDelayMs, classifySegmentResult, DEFAULT_RETRY_POLICY, type RetryDecision, type SegmentDeliveryResult } from '../src/domain/retry-policy.ts';

/** random = 1 - ε gives the top of the jitter range, so the ceiling is visible. */
const TOP = { ...DEFAULT_RETRY_POLICY, random: () => 0.999999 };
const ZERO = { ...DEFAULT_RETRY_POLICY, random: () => 0 };

function kind(result: Partial<SegmentDeliveryResult>): RetryDecision['kind'] {
  return classifySegmentResult({ attempt: 1, ...result }, ZERO).kind;
}

// ---
const table = suite('classifySegmentResult: status table');

const cases: Array<[string, Partial<SegmentDeliveryResult>, RetryDecision['kind']]> = [
  ['200', { status: 200 }, 'ok'],
  ['204', { status: 204 }, 'ok'],
  ['408 timeout', { status: 408 }, 'retry'],
  ['429 rate limited', { status: 429 }, 'retry'],
  ['500', { status: 500 }, 'retry'],
  ['502', { status: 502 }, 'retry'],
  ['503', { status: 503 }, 'retry'],
  ['504', { status: 504 }, 'retry'],
  ['501 not implemented', { status: 501 }, 'dead'],
  ['505 HTTP version', { status: 505 }, 'dead'],
  ['400 malformed / too large', { status: 400 }, 'dead'],
  ['401 wrong write key', { status: 401 }, 'dead'],
  ['403', { status: 403 }, 'dead'],
  ['404 wrong host', { status: 404 }, 'dead'],
  ['410', { status: 410 }, 'dead'],
  ['413', { status: 413 }, 'dead'],
  ['422', { status: 422 }, 'dead'],
  ['network error', { networkError: true }, 'retry'],
  ['no status, not network (never sendable)', {}, 'dead'],
  ['302 reported as a failure: retried, never dropped', { status: 302 }, 'retry'],
];

for (const [name, input, expected] of cases) {
  table(`${name} -> ${expected}`, () => {
    assert.is(kind(input), expected);
  });
}

table('dead reasons say what to fix, without secrets', () => {
  const decision = classifySegmentResult({ status: 401, attempt: 1 });
  assert.equal(decision.kind, 'dead');
  assert.match(decision.kind === 'dead' ? decision.reason : '', 'write key');
  const notFound = classifySegmentResult({ status: 404, attempt: 1 });
  assert.match(notFound.kind === 'dead' ? notFound.reason : '', 'segment.host');
});

table.run();

// ---
const backoff = suite('classifySegmentResult: backoff and Retry-After');

backoff('exponential: base 1 s, factor 2, at the top of the jitter range', () => {
  const delays = [1, 2, 3, 4, 5].map((attempt) => backoffDelayMs({ attempt, policy: TOP }));
  assert.equal(delays, [999, 1999, 3999, 7999, 15999]);
});

backoff('capped at 10 minutes', () => {
  assert.is(backoffDelayMs({ attempt: 40, policy: TOP }), 599_999);
  assert.is(backoffDelayMs({ attempt: 10_000, policy: TOP }), 599_999);
});

backoff('full jitter: the delay scales with random', () => {
  const half = { ...DEFAULT_RETRY_POLICY, random: () => 0.5 };
  assert.is(backoffDelayMs({ attempt: 3, policy: half }), 2000);
  assert.is(backoffDelayMs({ attempt: 3, policy: ZERO }), 0);
});

backoff('a retry decision carries the backoff delay', () => {
  assert.equal(classifySegmentResult({ status: 503, attempt: 2 }, TOP), { kind: 'retry', delayMs: 1999 });
});

backoff('small base delay for tests', () => {
  assert.equal(classifySegmentResult({ networkError: true, attempt: 3 }, { ...TOP, baseDelayMs: 10 }), { kind: 'retry', delayMs: 39 });
});

backoff('Retry-After is honoured instead of the backoff', () => {
  assert.equal(classifySegmentResult({ status: 429, retryAfterSec: 7, attempt: 1 }, ZERO), { kind: 'retry', delayMs: 7000 });
  assert.equal(classifySegmentResult({ status: 503, retryAfterSec: 2, attempt: 9 }, TOP), { kind: 'retry', delayMs: 2000 });
});

backoff('Retry-After is capped at 10 minutes', () => {
  assert.equal(classifySegmentResult({ status: 429, retryAfterSec: 86_400, attempt: 1 }, ZERO), { kind: 'retry', delayMs: 600_000 });
});

backoff('Retry-After does not turn a permanent failure into a retry', () => {
  assert.is(classifySegmentResult({ status: 401, retryAfterSec: 5, attempt: 1 }).kind, 'dead');
});

backoff.run();
