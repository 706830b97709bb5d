/**
 * Journal ops as patches: what changed in a record since the value the journal already
 * holds, instead of the whole record. Records are immutable values whose unchanged parts keep
 * their identity (a profile update shares its traits, and all but one history entry, with
 * the previous profile), so the diff is found by reference: no deep comparison.
 *
 * This relies on the RecordStore contract that a value is never mutated after `put`: a field
 * whose object was changed in place would look unchanged here.
 *
 * A patch is `{ set?: {field: value}, del?: [field], arr?: {field: [item, ...]} }` over a
 * record's top-level fields. An `arr` item is an index into the base's array (that element,
 * unchanged) or `[value]` (a new element). It is applied to exactly the value it was computed
 * against: the journal replays ops in seq order, and a shard file holds a key's value as of a
 * seq, so the base is always the key's value after its previous op.
 */
import { isJsonObject } from '../../domain/json.ts';
import { dictionary } from './shard-files.ts';

export interface RecordPatch {
  set?: Record<string, unknown>;
  del?: string[];
  arr?: Record<string, Array<number | [unknown]>>;
}

type PlainRecord = Record<string, unknown>;

/**
 * The patch turning `base` into `next`, or undefined when a whole value is the better op
 * (no object base, or most fields changed).
 */
export function diffRecord(base: unknown, next: unknown): RecordPatch | undefined {
  if (!isJsonObject(base) || !isJsonObject(next)) return undefined;
  // The same object put again was changed in place (against the RecordStore contract): only
  // the whole value is safe, since a reference diff would see no change at all.
  if (base === next) return undefined;
  const patch: RecordPatch = {};
  let changed = 0;
  let fields = 0;
  for (const field of Object.keys(next)) {
    fields += 1;
    const before = Object.hasOwn(base, field) ? base[field] : undefined;
    const after = next[field];
    if (before === after) continue;
    changed += 1;
    const items = Array.isArray(before) && Array.isArray(after) ? arrayItems(before, after) : undefined;
    // Prototype-less dictionaries: a field named `__proto__` is a plain key there.
    if (items) (patch.arr ??= dictionary())[field] = items;
    else (patch.set ??= dictionary())[field] = after;
  }
  for (const field of Object.keys(base)) {
    if (Object.hasOwn(next, field)) continue;
    changed += 1;
    (patch.del ??= []).push(field);
  }
  return changed * 2 > fields + 1 ? undefined : patch;
}

/**
 * `after` as references into `before` (shared elements) and new elements; undefined when
 * sharing is too low to pay. Records change their arrays by inserting, dropping or replacing
 * a few elements and keep the rest in order (a history gains one entry at the front and loses
 * one at the end), so each element is looked for where the previous match left off, and a
 * few places further on. One that is not there goes into the patch as a new element: always
 * correct, only bigger if an element moved far. (Indexing `before` in a Map for every diff
 * cost more than the rest of the diff together.)
 */
function arrayItems(before: readonly unknown[], after: readonly unknown[]): Array<number | [unknown]> | undefined {
  let shared = 0;
  let next = 0;
  const items = after.map((item): number | [unknown] => {
    const index = typeof item === 'object' && item !== null ? indexNear(before, item, next) : -1;
    if (index === -1) return [item];
    shared += 1;
    next = index + 1;
    return index;
  });
  return shared * 2 >= after.length && shared > 0 ? items : undefined;
}

/** How far past the expected place an element is looked for (elements dropped in between). */
const LOOK_AHEAD = 8;

function indexNear(list: readonly unknown[], item: unknown, from: number): number {
  const end = Math.min(list.length, from + LOOK_AHEAD);
  for (let index = from; index < end; index += 1) if (list[index] === item) return index;
  return -1;
}

/** Applies a patch to the value it was computed against (a fresh object; `base` is not changed). */
export function applyRecordPatch(base: unknown, patch: RecordPatch, where: string): PlainRecord {
  if (!isJsonObject(base)) throw new Error(`${where}: a patch needs the record's previous value, and there is none`);
  const out: PlainRecord = Object.create(Object.getPrototypeOf(base) as object | null) as PlainRecord;
  for (const field of Object.keys(base)) setField(out, field, base[field]);
  for (const field of patch.del ?? []) delete out[field];
  for (const [field, value] of Object.entries(patch.set ?? {})) setField(out, field, value);
  for (const [field, items] of Object.entries(patch.arr ?? {})) {
    const previous = base[field];
    if (!Array.isArray(previous)) throw new Error(`${where}: field ${JSON.stringify(field)} was not an array`);
    setField(
      out,
      field,
      items.map((item) => {
        if (Array.isArray(item)) return item[0];
        if (!Number.isInteger(item) || item < 0 || item >= previous.length) throw new Error(`${where}: field ${JSON.stringify(field)} has no element ${String(item)}`);
        return previous[item];
      }),
    );
  }
  return out;
}

/** A data property, even for a field named `__proto__` (an assignment would set the prototype). */
function setField(record: PlainRecord, field: string, value: unknown): void {
  Object.defineProperty(record, field, { value, writable: true, enumerable: true, configurable: true });
}

/** Whether a parsed journal value is a patch op's payload. */
export function isRecordPatch(value: unknown): value is RecordPatch {
  if (!isJsonObject(value)) return false;
  return Object.keys(value).every((key) => key === 'set' || key === 'del' || key === 'arr');
}
