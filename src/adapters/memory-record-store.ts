import type { RecordStore, StoreSchema } from '../ports/record-store.ts';
import { StoreUnavailableError } from '../errors.ts';

/**
 * A RecordStore that keeps everything in memory: for unit tests and for `--store memory`.
 * `failNextCommit()` lets tests exercise the rollback contract of the port.
 */
export class MemoryRecordStore<S extends StoreSchema> implements RecordStore<S> {
  readonly #collections = new Map<string, Map<string, unknown>>();
  /** Undo entries since the last commit: [collection, key, previous value or undefined]. */
  #undo: Array<[string, string, unknown]> = [];
  #failNext = false;
  #closed = false;
  commits = 0;

  #collection(name: string): Map<string, unknown> {
    let found = this.#collections.get(name);
    if (!found) {
      found = new Map();
      this.#collections.set(name, found);
    }
    return found;
  }

  get<C extends keyof S & string>(collection: C, key: string): S[C] | undefined {
    return this.#collection(collection).get(key) as S[C] | undefined;
  }

  put<C extends keyof S & string>(collection: C, key: string, value: S[C]): void {
    this.#assertOpen();
    const map = this.#collection(collection);
    this.#undo.push([collection, key, map.get(key)]);
    map.set(key, value);
  }

  remove<C extends keyof S & string>(collection: C, key: string): void {
    this.#assertOpen();
    const map = this.#collection(collection);
    if (!map.has(key)) return;
    this.#undo.push([collection, key, map.get(key)]);
    map.delete(key);
  }

  values<C extends keyof S & string>(collection: C): IterableIterator<S[C]> {
    return this.#collection(collection).values() as IterableIterator<S[C]>;
  }

  entries<C extends keyof S & string>(collection: C): IterableIterator<[string, S[C]]> {
    return this.#collection(collection).entries() as IterableIterator<[string, S[C]]>;
  }

  count<C extends keyof S & string>(collection: C): number {
    return this.#collection(collection).size;
  }

  atomically<T>(fn: () => T): T {
    const mark = this.#undo.length;
    try {
      return fn();
    } catch (error) {
      for (const [collection, key, previous] of this.#undo.splice(mark).reverse()) {
        const map = this.#collection(collection);
        if (previous === undefined) map.delete(key);
        else map.set(key, previous);
      }
      throw error;
    }
  }

  /** Makes the next commit fail (and roll back), as a full disk would. */
  failNextCommit(): void {
    this.#failNext = true;
  }

  async commit(): Promise<void> {
    this.commits += 1;
    if (this.#failNext) {
      this.#failNext = false;
      for (const [collection, key, previous] of this.#undo.reverse()) {
        const map = this.#collection(collection);
        if (previous === undefined) map.delete(key);
        else map.set(key, previous);
      }
      this.#undo = [];
      throw new StoreUnavailableError();
    }
    this.#undo = [];
  }

  async probeWritable(): Promise<boolean> {
    return !this.#closed;
  }

  async close(): Promise<void> {
    this.#closed = true;
  }

  #assertOpen(): void {
    if (this.#closed) throw new StoreUnavailableError('the store is closed');
  }
}
