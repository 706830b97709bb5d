/**
 * Redaction of secret values from text (log lines, error output). Logs and errors should
 * not contain secrets in the first place; this is the safety net.
 */

/** Values shorter than this are not redacted: they would mangle ordinary text. */
export const MIN_REDACTED_LENGTH = 6;

export const REDACTED = '[redacted]';

/**
 * Returns a function that replaces every occurrence of any of `secretValues` (and of the
 * forms a secret travels in: URL-encoded, and `base64(secret + ':')`, the Basic auth form
 * analytics-node sends the write key in) with `[redacted]`. Values shorter than 6
 * characters are ignored.
 */
export function createRedactor(secretValues: string[]): (text: string) => string {
  const needles = new Set<string>();
  for (const value of secretValues) {
    if (value.length < MIN_REDACTED_LENGTH) continue;
    needles.add(value);
    needles.add(encodeURIComponent(value));
    needles.add(Buffer.from(`${value}:`).toString('base64'));
  }
  // Longest first, so a secret that contains another is replaced whole.
  const ordered = [...needles].sort((a, b) => b.length - a.length);
  if (ordered.length === 0) return (text) => text;
  const pattern = new RegExp(ordered.map(escapeRegExp).join('|'), 'g');
  return (text) => text.replace(pattern, REDACTED);
}

function escapeRegExp(value: string): string {
  return value.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
}
