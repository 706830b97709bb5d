import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { allowedByFrequency, DAY_MS } from '../src/domain/trigger-frequency.ts';

const NOW_MS = Date.parse('2025-03-10T12:00:00.000Z');

// ---
const none = suite('allowedByFrequency: no rule');

none('always allows, whatever ran before', () => {
  assert.ok(allowedByFrequency({ frequency: undefined, previousRunsAtMs: [], nowMs: NOW_MS }));
  assert.ok(allowedByFrequency({ frequency: undefined, previousRunsAtMs: [NOW_MS - 1, NOW_MS - 2, NOW_MS - 3], nowMs: NOW_MS }));
});

none.run();

// ---
const once = suite('allowedByFrequency: once');

once('allows the first run only, forever', () => {
  assert.ok(allowedByFrequency({ frequency: 'once', previousRunsAtMs: [], nowMs: NOW_MS }));
  assert.not.ok(allowedByFrequency({ frequency: 'once', previousRunsAtMs: [NOW_MS - 1000], nowMs: NOW_MS }));
  assert.not.ok(allowedByFrequency({ frequency: 'once', previousRunsAtMs: [NOW_MS - 3650 * DAY_MS], nowMs: NOW_MS }), 'ten years later');
});

once.run();

// ---
const windowed = suite('allowedByFrequency: max per window');

const twoPerWeek = { max: 2, windowDays: 7 };

windowed('allows until max runs lie inside the window', () => {
  assert.ok(allowedByFrequency({ frequency: twoPerWeek, previousRunsAtMs: [], nowMs: NOW_MS }));
  assert.ok(allowedByFrequency({ frequency: twoPerWeek, previousRunsAtMs: [NOW_MS - DAY_MS], nowMs: NOW_MS }));
  assert.not.ok(allowedByFrequency({ frequency: twoPerWeek, previousRunsAtMs: [NOW_MS - DAY_MS, NOW_MS - 2 * DAY_MS], nowMs: NOW_MS }));
});

windowed('runs older than the window do not count', () => {
  const old = [NOW_MS - 8 * DAY_MS, NOW_MS - 30 * DAY_MS, NOW_MS - 7 * DAY_MS];
  assert.ok(allowedByFrequency({ frequency: twoPerWeek, previousRunsAtMs: [...old, NOW_MS - DAY_MS], nowMs: NOW_MS }), 'a run exactly windowDays old has left');
  assert.not.ok(allowedByFrequency({ frequency: twoPerWeek, previousRunsAtMs: [NOW_MS - 7 * DAY_MS + 1, NOW_MS - DAY_MS], nowMs: NOW_MS }), 'one ms inside still counts');
});

windowed('the window slides with now', () => {
  const runs = [NOW_MS, NOW_MS + 1000];
  assert.not.ok(allowedByFrequency({ frequency: twoPerWeek, previousRunsAtMs: runs, nowMs: NOW_MS + 2000 }));
  assert.not.ok(allowedByFrequency({ frequency: twoPerWeek, previousRunsAtMs: runs, nowMs: NOW_MS + 7 * DAY_MS - 1 }));
  assert.ok(allowedByFrequency({ frequency: twoPerWeek, previousRunsAtMs: runs, nowMs: NOW_MS + 7 * DAY_MS }), 'the first run has left');
});

windowed('fractional windows and max 1', () => {
  const hourly = { max: 1, windowDays: 1 / 24 };
  assert.not.ok(allowedByFrequency({ frequency: hourly, previousRunsAtMs: [NOW_MS - 59 * 60_000], nowMs: NOW_MS }));
  assert.ok(allowedByFrequency({ frequency: hourly, previousRunsAtMs: [NOW_MS - 61 * 60_000], nowMs: NOW_MS }));
});

windowed('runs stamped in the future (clock stepped back) still count', () => {
  assert.not.ok(allowedByFrequency({ frequency: { max: 1, windowDays: 1 }, previousRunsAtMs: [NOW_MS + 60_000], nowMs: NOW_MS }));
});

windowed.run();
