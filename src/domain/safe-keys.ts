/**
 * Guards against prototype pollution through user-supplied keys.
 *
 * JSON.parse turns a `"__proto__"` key into an inert own property, but `obj[key] = v`,
 * `Object.assign` and many merge helpers turn it into a prototype setter. Traits,
 * properties, event names and group ids come from the outside, so every object the
 * profile code builds from them goes through `setOwn`, and every read through `getOwn`
 * (so `traits.toString` never resolves to `Object.prototype.toString`).
 */
import { isJsonObject, type JsonObject, type JsonValue } from './json.ts';

/** Keys dropped from anything we copy out of a message. */
export const HOSTILE_KEYS: ReadonlySet<string> = new Set(['__proto__', 'constructor', 'prototype']);

export function isHostileKey(key: string): boolean {
  return HOSTILE_KEYS.has(key);
}

/** The own value at `key`, never one inherited from the prototype chain. */
export function getOwn<T>(record: Readonly<Record<string, T>>, key: string): T | undefined {
  return Object.hasOwn(record, key) ? record[key] : undefined;
}

/** Sets an own data property; hostile keys are dropped. Returns whether the key was kept. */
export function setOwn<T>(record: Record<string, T>, key: string, value: T): boolean {
  if (isHostileKey(key)) return false;
  record[key] = value;
  return true;
}

/** A deep copy of a JSON value with hostile keys removed at every level. */
export function sanitizeJson(value: JsonValue): JsonValue {
  if (Array.isArray(value)) return value.map(sanitizeJson);
  if (isJsonObject(value)) return sanitizeJsonObject(value);
  return value;
}

/** A deep copy of a JSON object with hostile keys removed at every level. */
export function sanitizeJsonObject(object: JsonObject): JsonObject {
  const out: JsonObject = {};
  for (const key of Object.keys(object)) {
    const value = object[key];
    if (value !== undefined) setOwn(out, key, sanitizeJson(value));
  }
  return out;
}

/** A shallow copy of a record without hostile keys (e.g. one loaded from disk). */
export function copyRecord<T>(record: Readonly<Record<string, T>>): Record<string, T> {
  const out: Record<string, T> = {};
  for (const key of Object.keys(record)) {
    const value = record[key];
    if (value !== undefined) setOwn(out, key, value);
  }
  return out;
}
