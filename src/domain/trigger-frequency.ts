/**
 * A trigger's per-user frequency cap (SPEC §5 `frequency.perUser`), counted over the runs
 * that trigger already created for that user. Times are processing times (when the bridge
 * fired the run), not event timestamps, so a late retry of an old event cannot slip in
 * under a window that has since moved on.
 */

/** One day in milliseconds: `windowDays` are fixed 24-hour periods (no calendar or DST logic). */
export const DAY_MS = 86_400_000;

/** `once`: at most one run per user, ever. `{max, windowDays}`: at most `max` runs in any trailing window. */
export type FrequencyRule = 'once' | { max: number; windowDays: number };

/**
 * Whether a new run may fire at `nowMs`.
 * - no rule: always;
 * - `once`: only if there is no previous run;
 * - `{max, windowDays}`: only if fewer than `max` previous runs lie within the last
 *   `windowDays` (a run exactly `windowDays` old has left the window).
 */
export function allowedByFrequency(options: { frequency: FrequencyRule | undefined; previousRunsAtMs: readonly number[]; nowMs: number }): boolean {
  const { frequency, previousRunsAtMs, nowMs } = options;
  if (frequency === undefined) return true;
  if (frequency === 'once') return previousRunsAtMs.length === 0;
  const windowStartMs = nowMs - frequency.windowDays * DAY_MS;
  // Runs stamped after `nowMs` (a clock step back) still count: they certainly are recent.
  const inWindow = previousRunsAtMs.filter((atMs) => atMs > windowStartMs).length;
  return inWindow < frequency.max;
}
