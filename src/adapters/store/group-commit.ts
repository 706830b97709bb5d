import { StoreUnavailableError } from '../../errors.ts';
import type { SerialLock } from './serial-lock.ts';
import { diffRecord } from './record-patch.ts';

/** One write as it can be undone: the value before it (undefined = absent) and its shard. */
export interface UndoEntry {
  collection: string;
  key: string;
  previous: unknown;
  shard: number;
}

interface Waiter {
  resolve: () => void;
  reject: (error: Error) => void;
}

/** The writes made between two seals: what goes into one journal line. */
export class Batch {
  /** collection -> key -> latest value (undefined = removed): a batch keeps the last value per key. */
  readonly ops = new Map<string, Map<string, unknown>>();
  /** Chronological, so a rollback replays it backwards. */
  readonly undo: UndoEntry[] = [];
  readonly waiters: Waiter[] = [];

  record(entry: UndoEntry & { next: unknown }): void {
    const { collection, key, previous, shard, next } = entry;
    this.undo.push({ collection, key, previous, shard });
    let keys = this.ops.get(collection);
    if (!keys) {
      keys = new Map();
      this.ops.set(collection, keys);
    }
    keys.set(key, next);
  }

  get isEmpty(): boolean {
    return this.undo.length === 0;
  }

  /**
   * `{"seq":N,"ops":[...]}\n` (redo). An op is `[collection, key, value]` with the full value
   * (`null` = removed), or `[collection, key, null, patch]` with what changed since the key's
   * value before this batch (record-patch.ts), when that is the smaller op: a profile update
   * journals its new history entry and counters, not the whole profile.
   */
  toLine(seq: number): string {
    const bases = this.#basesByKey();
    const ops: string[] = [];
    for (const [collection, keys] of this.ops) {
      const name = JSON.stringify(collection);
      const before = bases.get(collection);
      for (const [key, value] of keys) {
        const patch = value === undefined || !before?.has(key) ? undefined : diffRecord(before.get(key), value);
        const op = patch ? `null,${JSON.stringify(patch)}` : value === undefined ? 'null' : (JSON.stringify(value) ?? 'null');
        ops.push(`[${name},${JSON.stringify(key)},${op}]`);
      }
    }
    return `{"seq":${seq},"ops":[${ops.join(',')}]}\n`;
  }

  /** Each written key's value before this batch: the `previous` of its first undo entry. */
  #basesByKey(): Map<string, Map<string, unknown>> {
    const bases = new Map<string, Map<string, unknown>>();
    for (const { collection, key, previous } of this.undo) {
      let keys = bases.get(collection);
      if (!keys) {
        keys = new Map();
        bases.set(collection, keys);
      }
      if (!keys.has(key)) keys.set(key, previous);
    }
    return bases;
  }
}

export interface GroupCommitOptions {
  /** The last seq known durable (from recovery). */
  durableSeq: number;
  /** Makes one sealed batch durable as `seq` (journal append + fsync); throws if it could not. */
  writeBatch: (options: { batch: Batch; seq: number }) => Promise<void>;
  /** Restores previous values; entries come newest first. */
  rollback: (entries: UndoEntry[]) => void;
  lock: SerialLock;
}

/**
 * Group commit: `commit()` callers join the open batch; one writer seals it and makes it
 * durable while newer callers gather in the next batch, so a burst costs a few fsyncs.
 * A failed batch is undone together with every write made after it.
 */
export class GroupCommit {
  readonly #options: GroupCommitOptions;
  #open = new Batch();
  #inFlight: Batch | undefined;
  #draining = false;
  #durableSeq: number;

  constructor(options: GroupCommitOptions) {
    this.#options = options;
    this.#durableSeq = options.durableSeq;
  }

  /** Highest journal seq known durable. Updated in the same tick the in-flight batch clears. */
  get durableSeq(): number {
    return this.#durableSeq;
  }

  record(entry: UndoEntry & { next: unknown }): void {
    this.#open.record(entry);
  }

  /** Undo entries of writes not yet durable (in-flight batch, then open batch), oldest first. */
  pendingUndo(): UndoEntry[] {
    return this.#inFlight ? [...this.#inFlight.undo, ...this.#open.undo] : this.#open.undo;
  }

  /** A mark in the open batch; writes after it can be undone with `rollbackTo`. */
  savepoint(): number {
    return this.#open.undo.length;
  }

  /**
   * Undoes the open batch's writes made after `mark` (synchronous callers only: a batch is
   * never sealed while synchronous code runs). Their journal ops go back to the value at the
   * mark, which is redundant but correct when the key was not written before it.
   */
  rollbackTo(mark: number): void {
    const batch = this.#open;
    const undone = batch.undo.splice(mark).reverse();
    for (const entry of undone) batch.ops.get(entry.collection)?.set(entry.key, entry.previous);
    if (batch.undo.length === 0) batch.ops.clear();
    this.#options.rollback(undone);
  }

  commit(): Promise<void> {
    // Nothing new since the in-flight batch: the caller's writes (if any) are in it.
    const target = this.#open.isEmpty ? this.#inFlight : this.#open;
    if (!target) return Promise.resolve();
    const done = new Promise<void>((resolve, reject) => target.waiters.push({ resolve, reject }));
    if (target === this.#open && !this.#draining) {
      this.#draining = true;
      void this.#drain();
    }
    return done;
  }

  async #drain(): Promise<void> {
    try {
      while (this.#open.waiters.length > 0) await this.#options.lock.run(() => this.#flushOpen());
    } finally {
      this.#draining = false;
    }
  }

  async #flushOpen(): Promise<void> {
    const batch = this.#open;
    if (batch.waiters.length === 0) return;
    this.#open = new Batch();
    this.#inFlight = batch;
    const seq = this.#durableSeq + 1;
    try {
      await this.#options.writeBatch({ batch, seq });
    } catch (error) {
      this.#failWithLaterWrites(batch, error);
      return;
    }
    this.#durableSeq = seq;
    this.#inFlight = undefined;
    for (const waiter of batch.waiters) waiter.resolve();
  }

  #failWithLaterWrites(batch: Batch, cause: unknown): void {
    const later = this.#open;
    this.#open = new Batch();
    this.#inFlight = undefined;
    this.#options.rollback([...batch.undo, ...later.undo].reverse());
    const error = new StoreUnavailableError(undefined, cause);
    for (const waiter of [...batch.waiters, ...later.waiters]) waiter.reject(error);
  }
}
