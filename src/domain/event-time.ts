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

/**
 * Whether `iso` is in `Date.prototype.toISOString()` form (`2024-05-01T12:00:00.000Z`, years
 * 0000-9999), the form every stored time is normalised to. Two such strings order as text
 * exactly as they order in time, so comparing them needs no Date.parse.
 */
function isCanonical(iso: string): boolean {
  return (
    iso.length === 24 &&
    iso.charCodeAt(23) === 90 /* Z */ &&
    iso.charCodeAt(10) === 84 /* T */ &&
    iso.charCodeAt(4) === 45 /* - */ &&
    iso.charCodeAt(7) === 45 &&
    iso.charCodeAt(13) === 58 /* : */ &&
    iso.charCodeAt(16) === 58 &&
    iso.charCodeAt(19) === 46 /* . */
  );
}

/** < 0 when `a` is earlier than `b`, 0 when the same instant, > 0 when later. */
export function compareTimes(a: string | undefined, b: string | undefined): number {
  if (a !== undefined && b !== undefined && isCanonical(a) && isCanonical(b)) return a < b ? -1 : a > b ? 1 : 0;
  const diff = timeMs(a) - timeMs(b);
  return Number.isNaN(diff) ? 0 : diff; // -Infinity - -Infinity
}

/** The earlier of two times; an unknown time never wins. */
export function earliest(a: string, b: string): string {
  if (isCanonical(a) && isCanonical(b)) return b < a ? b : a;
  if (timeMs(a) === Number.NEGATIVE_INFINITY) return b;
  if (timeMs(b) === Number.NEGATIVE_INFINITY) return a;
  return compareTimes(b, a) < 0 ? b : a;
}

/** The later of two times. */
export function latest(a: string, b: string): string {
  return compareTimes(b, a) > 0 ? b : a;
}
