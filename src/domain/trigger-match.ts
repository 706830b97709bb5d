/**
 * A trigger's `where` filter (SPEC §5), evaluated against an event's properties and the
 * user's traits as stored when the event is processed.
 *
 * - Every key must match (AND). A key is a field name or a dotted path into nested objects
 *   (`address.country`; numeric segments index arrays: `items.0.sku`). A field whose literal
 *   name contains the dot (`{"a.b": 1}`) takes precedence over the nested path.
 * - A plain value matches by equality: strict for scalars, deep (key-order insensitive) for
 *   arrays and objects.
 * - An object whose keys all start with `$` is an operator object; its operators are ANDed:
 *   `$in` / `$nin` (the array operand does / does not contain the value), `$ne`,
 *   `$gt` `$gte` `$lt` `$lte` (numbers numerically, strings lexically, so ISO dates compare
 *   correctly; a number never compares with a string), `$exists` (true / false). `null` is a
 *   value: it exists.
 * - A missing field only matches `$exists: false`, `$ne` and `$nin`.
 * - Fail closed: an unknown operator or an operand of the wrong type never matches (config
 *   validation rejects both; this keeps a hand-built config from firing everywhere).
 */
import { isJsonObject, type JsonObject, type JsonValue } from './json.ts';

export type WhereMap = Record<string, JsonValue>;

export interface WhereFilter {
  properties?: WhereMap;
  traits?: WhereMap;
}

export interface MatchSubject {
  properties: JsonObject;
  traits: JsonObject;
}

/** True when `subject` satisfies every condition of `where` (an empty filter matches). */
export function matchesWhere(where: WhereFilter, subject: MatchSubject): boolean {
  return matchesMap(where.properties, subject.properties) && matchesMap(where.traits, subject.traits);
}

function matchesMap(conditions: WhereMap | undefined, source: JsonObject): boolean {
  if (!conditions) return true;
  return Object.entries(conditions).every(([path, condition]) => matchesCondition(condition, lookupPath(source, path)));
}

/** The value at `path` (literal key first, then dotted path), or undefined when missing. */
export function lookupPath(source: JsonObject, path: string): JsonValue | undefined {
  if (Object.hasOwn(source, path)) return source[path];
  let current: JsonValue | undefined = source;
  for (const segment of path.split('.')) {
    if (Array.isArray(current)) {
      current = /^(0|[1-9]\d*)$/.test(segment) ? current[Number(segment)] : undefined;
    } else if (isJsonObject(current) && Object.hasOwn(current, segment)) {
      current = current[segment];
    } else {
      return undefined;
    }
  }
  return current;
}

function isOperatorObject(value: JsonValue): value is JsonObject {
  if (!isJsonObject(value)) return false;
  const keys = Object.keys(value);
  return keys.length > 0 && keys.every((key) => key.startsWith('$'));
}

function matchesCondition(condition: JsonValue, value: JsonValue | undefined): boolean {
  if (!isOperatorObject(condition)) return value !== undefined && deepEqual(value, condition);
  return Object.entries(condition).every(([operator, operand]) => matchesOperator(operator, operand, value));
}

function matchesOperator(operator: string, operand: JsonValue, value: JsonValue | undefined): boolean {
  switch (operator) {
    case '$exists':
      return typeof operand === 'boolean' && operand === (value !== undefined);
    case '$ne':
      return value === undefined || !deepEqual(value, operand);
    case '$in':
      return Array.isArray(operand) && value !== undefined && operand.some((item) => deepEqual(value, item));
    case '$nin':
      return Array.isArray(operand) && (value === undefined || !operand.some((item) => deepEqual(value, item)));
    case '$gt':
      return compare(value, operand, (order) => order > 0);
    case '$gte':
      return compare(value, operand, (order) => order >= 0);
    case '$lt':
      return compare(value, operand, (order) => order < 0);
    case '$lte':
      return compare(value, operand, (order) => order <= 0);
    default:
      return false;
  }
}

/** Orders two numbers or two strings; anything else (missing, mixed types) never matches. */
function compare(value: JsonValue | undefined, operand: JsonValue, accept: (order: number) => boolean): boolean {
  if (typeof value === 'number' && typeof operand === 'number') return accept(value - operand);
  if (typeof value === 'string' && typeof operand === 'string') return accept(value < operand ? -1 : value > operand ? 1 : 0);
  return false;
}

/** Structural equality of JSON values; object key order does not matter. */
export function deepEqual(a: JsonValue, b: JsonValue): boolean {
  if (a === b) return true;
  if (Array.isArray(a)) return Array.isArray(b) && a.length === b.length && a.every((item, index) => deepEqual(item, b[index] as JsonValue));
  if (isJsonObject(a) && isJsonObject(b)) {
    const keys = Object.keys(a);
    if (keys.length !== Object.keys(b).length) return false;
    return keys.every((key) => Object.hasOwn(b, key) && deepEqual(a[key] as JsonValue, b[key] as JsonValue));
  }
  return false;
}
