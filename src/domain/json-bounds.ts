/**
 * Cheap, allocation-free questions about a parsed JSON value, asked on every inbound
 * message before the expensive answer is paid for: "could its JSON be over N bytes?"
 * (before a JSON.stringify just to measure it) and "does it hold a hostile key anywhere?"
 * (before a deep sanitising copy). Each walk stops as soon as the answer is known.
 */
import type { JsonObject } from './json.ts';
import { isHostileKey, sanitizeJsonObject } from './safe-keys.ts';

/**
 * Most UTF-8 bytes JSON.stringify can spend per UTF-16 code unit of a string: a control
 * character becomes `\u00XX` (6 bytes); anything else takes at most 3.
 */
const MAX_BYTES_PER_CHAR = 6;
/** Longest JSON text of a number (`-1.2345678901234567e-308` is 24 characters). */
const MAX_NUMBER_CHARS = 25;

/**
 * An upper bound of `Buffer.byteLength(JSON.stringify(value))`, or `Infinity` as soon as the
 * bound passes `limitBytes`. When the result is at most `limitBytes` the JSON surely fits.
 */
export function jsonBytesUpperBound(value: unknown, limitBytes: number): number {
  const bound = { total: 0, limitBytes };
  return addBound(value, bound) ? bound.total : Number.POSITIVE_INFINITY;
}

/**
 * The exact UTF-8 size of `value`'s JSON when it is over `limitBytes`, else 0. The exact size
 * (a JSON.stringify) is paid for only when the cheap bound cannot rule it out, which for
 * ordinary messages is never.
 */
export function oversizeJsonBytes(value: unknown, limitBytes: number): number {
  if (jsonBytesUpperBound(value, limitBytes) <= limitBytes) return 0;
  const bytes = Buffer.byteLength(JSON.stringify(value) ?? '', 'utf8');
  return bytes > limitBytes ? bytes : 0;
}

/** Adds `node`'s bound to `bound.total`; false once it passes the limit. (Top-level, not a closure: this runs per message.) */
function addBound(node: unknown, bound: { total: number; limitBytes: number }): boolean {
  switch (typeof node) {
    case 'string':
      bound.total += node.length * MAX_BYTES_PER_CHAR + 2;
      break;
    case 'number':
      bound.total += MAX_NUMBER_CHARS;
      break;
    case 'object':
      if (node === null) {
        bound.total += 4;
      } else if (Array.isArray(node)) {
        bound.total += 2 + node.length;
        for (const item of node) if (!addBound(item, bound)) return false;
      } else {
        const record = node as Record<string, unknown>;
        bound.total += 2;
        for (const key in record) {
          if (!Object.hasOwn(record, key)) continue;
          bound.total += key.length * MAX_BYTES_PER_CHAR + 4;
          if (!addBound(record[key], bound)) return false;
        }
      }
      break;
    default:
      bound.total += 5; // true, false; undefined and functions are skipped by JSON.stringify
  }
  return bound.total <= bound.limitBytes;
}

/** Whether a `__proto__`, `constructor` or `prototype` key occurs at any depth. */
export function hasHostileKeys(value: unknown): boolean {
  if (typeof value !== 'object' || value === null) return false;
  if (Array.isArray(value)) return value.some(hasHostileKeys);
  const record = value as Record<string, unknown>;
  for (const key of Object.keys(record)) {
    if (isHostileKey(key) || hasHostileKeys(record[key])) return true;
  }
  return false;
}

/** `object` itself when it holds no hostile key, else a sanitised deep copy (the copy is the rare case). */
export function withoutHostileKeys(object: JsonObject): JsonObject {
  return hasHostileKeys(object) ? sanitizeJsonObject(object) : object;
}

/**
 * Whether objects/arrays nest deeper than `maxDepth` (the value itself is depth 1). The
 * recursion never goes below `maxDepth + 1` frames, so any input depth is safe.
 */
export function nestsDeeperThan(value: unknown, maxDepth: number): boolean {
  return exceedsDepth(value, 1, maxDepth);
}

function exceedsDepth(node: unknown, depth: number, maxDepth: number): boolean {
  if (typeof node !== 'object' || node === null) return false;
  if (depth > maxDepth) return true;
  if (Array.isArray(node)) {
    for (const item of node) if (exceedsDepth(item, depth + 1, maxDepth)) return true;
    return false;
  }
  const record = node as Record<string, unknown>;
  for (const key in record) if (Object.hasOwn(record, key) && exceedsDepth(record[key], depth + 1, maxDepth)) return true;
  return false;
}
