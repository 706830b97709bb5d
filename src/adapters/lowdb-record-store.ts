import { join } from 'node:path';
import type { RecordStore, StoreSchema } from '../ports/record-store.ts';
import { StoreUnavailableError, toError } from '../errors.ts';
import { compactStore } from './store/compaction.ts';
import type { CompactionContext } from './store/compaction.ts';
import { probeDirWritable } from './store/durable-fs.ts';
import { GroupCommit } from './store/group-commit.ts';
import type { Batch, UndoEntry } from './store/group-commit.ts';
import { JournalWriter, nodeJournalIo } from './store/journal-writer.ts';
import { recoverStore } from './store/recover.ts';
import type { RecoveryReport } from './store/recover.ts';
import { SerialLock } from './store/serial-lock.ts';
import type { LowdbRecordStoreOptions, LowdbRecordStoreStats } from './store/store-types.ts';

export type { JournalIo } from './store/journal-writer.ts';
export type { RecoveryReport } from './store/recover.ts';
export type { LowdbRecordStoreOptions, LowdbRecordStoreStats } from './store/store-types.ts';

const DEFAULT_SHARDS = 64;
/** The smallest journal that triggers a compaction when `compactAtBytes` is not set. */
const MIN_COMPACT_AT_BYTES = 64 * 1024 * 1024;

/**
 * The embedded durable RecordStore: records in memory, a group-committed redo journal for
 * durability, and lowdb shard files as snapshots (see docs in src/adapters/store/*).
 * Open it with `LowdbRecordStore.open()`.
 */
export class LowdbRecordStore<S extends StoreSchema> implements RecordStore<S> {
  readonly #dir: string;
  readonly #ctx: CompactionContext;
  readonly #commits: GroupCommit;
  /** Fixed threshold, or undefined for the adaptive default (see #compactionDue). */
  readonly #compactAtBytes: number | undefined;
  readonly #recovered: RecoveryReport;
  readonly #openedSeq: number;
  #commitCalls = 0;
  #failedBatches = 0;
  #compaction: Promise<void> | undefined;
  #closing: Promise<void> | undefined;

  private constructor(options: { dir: string; compactAtBytes: number | undefined; durableSeq: number; recovered: RecoveryReport; ctx: Omit<CompactionContext, 'commits'> }) {
    this.#dir = options.dir;
    this.#compactAtBytes = options.compactAtBytes;
    this.#recovered = options.recovered;
    this.#openedSeq = options.durableSeq;
    this.#commits = new GroupCommit({
      durableSeq: options.durableSeq,
      lock: options.ctx.lock,
      writeBatch: (write) => this.#writeBatch(write),
      rollback: (entries) => this.#rollback(entries),
    });
    this.#ctx = { ...options.ctx, commits: this.#commits };
  }

  /** Opens (or creates) the store in `dir`, recovering shards and journal. */
  static async open<S extends StoreSchema>(options: LowdbRecordStoreOptions): Promise<LowdbRecordStore<S>> {
    const fsync = options.fsync ?? true;
    const shards = options.shards ?? DEFAULT_SHARDS;
    if (!Number.isInteger(shards) || shards < 1 || shards > 4096) throw new RangeError('shards must be an integer from 1 to 4096');
    const compactAtBytes = options.compactAtBytes;
    if (compactAtBytes !== undefined && !(compactAtBytes > 0)) throw new RangeError('compactAtBytes must be positive');
    const recovered = await recoverStore({ dir: options.dir, shards, fsync });
    const journalDir = join(options.dir, 'journal');
    const journal = await JournalWriter.open({ dir: journalDir, firstSeq: recovered.durableSeq + 1, io: options.journalIo ?? nodeJournalIo, fsync });
    const ctx = { maps: recovered.maps, shardFiles: recovered.shardFiles, journal, journalDir, lock: new SerialLock(), fsync, stats: { compactions: 0, shardWrites: 0, lastCompactionMs: undefined, lastCompactionError: undefined } };
    return new LowdbRecordStore<S>({ dir: options.dir, compactAtBytes, durableSeq: recovered.durableSeq, recovered: recovered.report, ctx });
  }

  get<C extends keyof S & string>(collection: C, key: string): S[C] | undefined {
    return this.#ctx.maps.collection(collection).get(key) as S[C] | undefined;
  }

  put<C extends keyof S & string>(collection: C, key: string, value: S[C]): void {
    this.#assertOpen();
    // null is the journal's "removed" marker; records are JSON objects, so null/undefined is a bug.
    if (value === null || value === undefined) throw new TypeError(`put(${collection}): value must be JSON, not ${String(value)}; use remove()`);
    this.#write({ collection, key, next: value });
  }

  remove<C extends keyof S & string>(collection: C, key: string): void {
    this.#assertOpen();
    if (!this.#ctx.maps.collection(collection).has(key)) return;
    this.#write({ collection, key, next: undefined });
  }

  values<C extends keyof S & string>(collection: C): IterableIterator<S[C]> {
    return this.#ctx.maps.collection(collection).values() as IterableIterator<S[C]>;
  }

  entries<C extends keyof S & string>(collection: C): IterableIterator<[string, S[C]]> {
    return this.#ctx.maps.collection(collection).entries() as IterableIterator<[string, S[C]]>;
  }

  count<C extends keyof S & string>(collection: C): number {
    return this.#ctx.maps.collection(collection).size;
  }

  atomically<T>(fn: () => T): T {
    const mark = this.#commits.savepoint();
    try {
      return fn();
    } catch (error) {
      this.#commits.rollbackTo(mark);
      throw error;
    }
  }

  commit(): Promise<void> {
    this.#commitCalls += 1;
    return this.#commits.commit();
  }

  /** Writes every dirty shard and drops the journal segments they cover; runs after any compaction in progress. */
  compact(): Promise<void> {
    const run = (this.#compaction ?? Promise.resolve()).then(() => compactStore(this.#ctx));
    const settled = run.then(
      () => undefined,
      () => undefined,
    );
    this.#compaction = settled;
    void settled.then(() => {
      if (this.#compaction === settled) this.#compaction = undefined;
    });
    return run;
  }

  async probeWritable(): Promise<boolean> {
    return !this.#closing && (await probeDirWritable(this.#dir));
  }

  close(): Promise<void> {
    this.#closing ??= this.#shutdown({ compact: true });
    return this.#closing;
  }

  /** Releases the files without committing or compacting, as a crash would. For tests and benchmarks. */
  abandon(): Promise<void> {
    this.#closing ??= this.#shutdown({ compact: false });
    return this.#closing;
  }

  stats(): LowdbRecordStoreStats {
    const { journal, stats, maps } = this.#ctx;
    return {
      shards: maps.shardCount,
      commits: this.#commitCalls,
      batches: this.#commits.durableSeq - this.#openedSeq,
      fsyncs: journal.fsyncs,
      failedBatches: this.#failedBatches,
      journalBytes: journal.bytesWritten,
      durableSeq: this.#commits.durableSeq,
      ...stats,
      recovered: this.#recovered,
    };
  }

  async #shutdown(options: { compact: boolean }): Promise<void> {
    let failure: Error | undefined;
    if (options.compact) {
      await this.commit().catch((error: unknown) => (failure = toError(error)));
      await this.compact().catch((error: unknown) => (failure ??= new StoreUnavailableError('the store could not compact on close', error)));
    }
    await this.#compaction;
    await this.#ctx.lock.idle();
    await this.#ctx.journal.close();
    if (failure) throw failure;
  }

  #write(options: { collection: string; key: string; next: unknown }): void {
    const { collection, key, next } = options;
    const { maps } = this.#ctx;
    const previous = maps.collection(collection).get(key);
    const shard = maps.set({ collection, key, value: next });
    maps.markDirty(shard, this.#commits.durableSeq + 1);
    this.#commits.record({ collection, key, previous, next, shard });
  }

  async #writeBatch(options: { batch: Batch; seq: number }): Promise<void> {
    const { journal } = this.#ctx;
    try {
      await journal.append(options.batch.toLine(options.seq));
    } catch (error) {
      this.#failedBatches += 1;
      throw error;
    }
    if (this.#compactionDue() && !this.#compaction && !this.#closing) {
      this.compact().catch(() => undefined); // the error is kept in stats().lastCompactionError
    }
  }

  /**
   * A compaction rewrites every dirty shard, and with writes spread over many users that is
   * nearly the whole store. A fixed journal threshold would make its cost per written byte
   * grow with the store (at a million profiles, 1.6 GB of shards rewritten per 64 MiB of
   * journal). By default the threshold is therefore the shards' own size (at least 64 MiB):
   * compaction then costs about one shard byte per journal byte whatever the store size, and
   * recovery after a crash replays at most about one store's worth of journal.
   */
  #compactionDue(): boolean {
    const threshold = this.#compactAtBytes ?? Math.max(MIN_COMPACT_AT_BYTES, this.#ctx.shardFiles.totalChars);
    return this.#ctx.journal.bytesSinceRotation >= threshold;
  }

  #rollback(entries: UndoEntry[]): void {
    const { maps } = this.#ctx;
    for (const { collection, key, previous } of entries) {
      maps.markDirty(maps.set({ collection, key, value: previous }), this.#commits.durableSeq + 1);
    }
  }

  #assertOpen(): void {
    if (this.#closing) throw new StoreUnavailableError('the store is closed');
  }
}

/** Opens the store in `dir` with default options. */
export function openStore<S extends StoreSchema>(dir: string): Promise<LowdbRecordStore<S>> {
  return LowdbRecordStore.open<S>({ dir });
}
