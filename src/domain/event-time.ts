/**
 * Ordering of ISO-8601 timestamps. Strings are compared as instants (Date.parse), not
 * lexically: `...:00Z` and `...:00.500Z` or `+02:00` offsets do not sort as text.
 * An empty or unparsable value counts as "unknown" and loses to any known time.
 */

/** Epoch ms, or -Infinity for an unknown time. */
export function timeMs(iso: string | undefined): number {
  if (iso === undefined || iso === '') return Number.NEGATIVE_INFINITY;
  const ms = Date.parse(iso);
  return Number.isNaN(ms) ? Number.NEGATIVE_INFINITY : ms;
}

/** < 0 when `a` is earlier than `b`, 0 when the same instant, > 0 when later. */
export function compareTimes(a: string | undefined, b: string | undefined): number {
  const diff = timeMs(a) - timeMs(b);
  return Number.isNaN(diff) ? 0 : diff; // -Infinity - -Infinity
}

/** The earlier of two times; an unknown time never wins. */
export function earliest(a: string, b: string): string {
  if (timeMs(a) === Number.NEGATIVE_INFINITY) return b;
  if (timeMs(b) === Number.NEGATIVE_INFINITY) return a;
  return compareTimes(b, a) < 0 ? b : a;
}

/** The later of two times. */
export function latest(a: string, b: string): string {
  return compareTimes(b, a) > 0 ? b : a;
}
