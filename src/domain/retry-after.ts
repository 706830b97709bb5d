/**
 * `Retry-After` (RFC 9110 §10.2.3) as seconds from `nowMs`: either delay-seconds or an HTTP
 * date (a date in the past is 0). Anything else is `undefined`. Used for Segment's API and
 * for trigger webhook receivers alike.
 */
export function parseRetryAfterSec(value: string | null | undefined, nowMs: number): number | undefined {
  if (value === null || value === undefined) return undefined;
  const trimmed = value.trim();
  if (trimmed === '') return undefined;
  if (/^\d+$/.test(trimmed)) return Number(trimmed);
  const atMs = Date.parse(trimmed);
  return Number.isNaN(atMs) ? undefined : Math.max(0, Math.ceil((atMs - nowMs) / 1000));
}
