import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { parseRetryAfterSec } from '../src/domain/retry-after.ts';

// ---
const retryAfter = suite('parseRetryAfterSec');

retryAfter('delta-seconds and HTTP dates (a past date is 0)', () => {
  const nowMs = Date.parse('2025-03-10T12:00:00Z');
  assert.is(parseRetryAfterSec('30', nowMs), 30);
  assert.is(parseRetryAfterSec(' 30 ', nowMs), 30);
  assert.is(parseRetryAfterSec(new Date(1_000_000 + 12_000).toUTCString(), 1_000_000), 12);
  assert.is(parseRetryAfterSec('Mon, 10 Mar 2025 12:05:00 GMT', nowMs), 300);
  assert.is(parseRetryAfterSec('Mon, 10 Mar 2025 11:00:00 GMT', nowMs), 0);
});

retryAfter('absent or unreadable is undefined', () => {
  const nowMs = 1_000_000;
  assert.is(parseRetryAfterSec('soon', nowMs), undefined);
  assert.is(parseRetryAfterSec('', nowMs), undefined);
  assert.is(parseRetryAfterSec(null, nowMs), undefined);
  assert.is(parseRetryAfterSec(undefined, nowMs), undefined);
});

retryAfter.run();
