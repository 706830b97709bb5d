/**
 * The persistence port: keyed JSON records in named collections, held in memory and
 * made durable in batches (group commit).
 *
 * Writes (`put`, `remove`) are visible to reads at once; `commit()` resolves when every
 * write made before the call is durable on disk. If a commit fails, the store rolls the
 * in-memory state back to the last durable state (the failed batch and every write made
 * after it are undone) and rejects with `StoreUnavailableError`, so nothing is half-applied.
 *
 * Values must be plain JSON (no undefined, functions, Dates, class instances).
 * Callers never mutate a value after `put`: they build a new object and put it again.
 */
export interface RecordStore<S extends StoreSchema> {
  get<C extends keyof S & string>(collection: C, key: string): S[C] | undefined;
  put<C extends keyof S & string>(collection: C, key: string, value: S[C]): void;
  remove<C extends keyof S & string>(collection: C, key: string): void;
  /** Iterates the current values of a collection (insertion order, no copy: do not write while iterating). */
  values<C extends keyof S & string>(collection: C): IterableIterator<S[C]>;
  entries<C extends keyof S & string>(collection: C): IterableIterator<[string, S[C]]>;
  count<C extends keyof S & string>(collection: C): number;
  /**
   * Runs `fn` synchronously; if it throws, every write it made is undone before the error
   * propagates (a savepoint), so an unexpected error half-way through a batch leaves nothing
   * for a later commit to persist.
   */
  atomically<T>(fn: () => T): T;
  /** Resolves once everything written before the call is durable; rejects with StoreUnavailableError. */
  commit(): Promise<void>;
  /** Writes a test file next to the data to prove the store is writable right now. */
  probeWritable(): Promise<boolean>;
  /** Commits, compacts, and releases files. Further writes throw. */
  close(): Promise<void>;
}

export type StoreSchema = Record<string, unknown>;
