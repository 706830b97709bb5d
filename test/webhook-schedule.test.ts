import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import {
  classifyStatus,
  MAX_RETRY_AFTER_MS,
  nextDelayMs,
  planAfterAttempt,
  WEBHOOK_MAX_ATTEMPTS,
  WEBHOOK_RETRY_DELAYS_MS,
} from '../src/domain/webhook-schedule.ts';

const MIN = 60_000;
const NOW_MS = 1_700_000_000_000;

// ---
const schedule = suite('nextDelayMs');

const delays: Array<[number, number | null]> = [
  [0, 0],
  [1, 1 * MIN],
  [2, 2 * MIN],
  [3, 4 * MIN],
  [4, 8 * MIN],
  [5, 16 * MIN],
  [6, 32 * MIN],
  [7, 64 * MIN],
  [8, 6 * 60 * MIN],
  [9, null],
  [10, null],
];

for (const [attemptsSoFar, expected] of delays) {
  schedule(`after ${attemptsSoFar} tries -> ${expected === null ? 'exhausted' : `${expected / MIN} min`}`, () => {
    assert.is(nextDelayMs(attemptsSoFar), expected);
  });
}

schedule('the first try plus 8 retries: 9 tries over about 8 hours', () => {
  assert.is(WEBHOOK_MAX_ATTEMPTS, 9);
  assert.is(WEBHOOK_RETRY_DELAYS_MS.length, 8);
  const totalMs = WEBHOOK_RETRY_DELAYS_MS.reduce((sum, ms) => sum + ms, 0);
  assert.is(totalMs, (127 + 360) * MIN);
});

schedule.run();

// ---
const classify = suite('classifyStatus');

const statuses: Array<[number, 'delivered' | 'retry' | 'fail']> = [
  [200, 'delivered'],
  [201, 'delivered'],
  [204, 'delivered'],
  [299, 'delivered'],
  [100, 'fail'],
  [301, 'fail'],
  [302, 'fail'],
  [304, 'fail'],
  [400, 'fail'],
  [401, 'fail'],
  [403, 'fail'],
  [404, 'fail'],
  [410, 'fail'],
  [413, 'fail'],
  [422, 'fail'],
  [408, 'retry'],
  [429, 'retry'],
  [500, 'retry'],
  [501, 'retry'],
  [502, 'retry'],
  [503, 'retry'],
  [504, 'retry'],
  [599, 'retry'],
  [600, 'fail'],
];

for (const [status, expected] of statuses) {
  classify(`HTTP ${status} -> ${expected}`, () => {
    assert.is(classifyStatus(status), expected);
  });
}

classify.run();

// ---
const plan = suite('planAfterAttempt');

plan('success is delivered, whatever the attempt', () => {
  assert.equal(planAfterAttempt({ attemptsSoFar: 1, result: { ok: true }, nowMs: NOW_MS }), { status: 'delivered' });
  assert.equal(planAfterAttempt({ attemptsSoFar: 9, result: { ok: true }, nowMs: NOW_MS }), { status: 'delivered' });
});

plan('a permanent failure fails at once', () => {
  assert.equal(planAfterAttempt({ attemptsSoFar: 1, result: { ok: false, retryable: false }, nowMs: NOW_MS }), { status: 'failed', exhausted: false });
});

plan('a retryable failure waits the schedule step', () => {
  assert.equal(planAfterAttempt({ attemptsSoFar: 1, result: { ok: false, retryable: true }, nowMs: NOW_MS }), { status: 'pending', nextAttemptAtMs: NOW_MS + MIN });
  assert.equal(planAfterAttempt({ attemptsSoFar: 8, result: { ok: false, retryable: true }, nowMs: NOW_MS }), { status: 'pending', nextAttemptAtMs: NOW_MS + 6 * 60 * MIN });
});

plan('a retryable failure after the last try is exhausted', () => {
  assert.equal(planAfterAttempt({ attemptsSoFar: 9, result: { ok: false, retryable: true }, nowMs: NOW_MS }), { status: 'failed', exhausted: true });
});

plan('Retry-After only lengthens the wait', () => {
  const longer = planAfterAttempt({ attemptsSoFar: 1, result: { ok: false, retryable: true, retryAfterSec: 300 }, nowMs: NOW_MS });
  assert.equal(longer, { status: 'pending', nextAttemptAtMs: NOW_MS + 300_000 });
  const shorter = planAfterAttempt({ attemptsSoFar: 3, result: { ok: false, retryable: true, retryAfterSec: 5 }, nowMs: NOW_MS });
  assert.equal(shorter, { status: 'pending', nextAttemptAtMs: NOW_MS + 4 * MIN });
});

plan('Retry-After is capped at 6 hours and ignored when unusable', () => {
  const huge = planAfterAttempt({ attemptsSoFar: 1, result: { ok: false, retryable: true, retryAfterSec: 10 * 86_400 }, nowMs: NOW_MS });
  assert.equal(huge, { status: 'pending', nextAttemptAtMs: NOW_MS + MAX_RETRY_AFTER_MS });
  for (const retryAfterSec of [Number.NaN, -5, Number.POSITIVE_INFINITY]) {
    const odd = planAfterAttempt({ attemptsSoFar: 1, result: { ok: false, retryable: true, retryAfterSec }, nowMs: NOW_MS });
    assert.equal(odd, { status: 'pending', nextAttemptAtMs: NOW_MS + MIN }, String(retryAfterSec));
  }
});

plan('Retry-After never adds a try', () => {
  assert.equal(planAfterAttempt({ attemptsSoFar: 9, result: { ok: false, retryable: true, retryAfterSec: 60 }, nowMs: NOW_MS }), { status: 'failed', exhausted: true });
});

plan.run();
