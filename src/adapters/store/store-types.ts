import type { JournalIo } from './journal-writer.ts';
import type { RecoveryReport } from './recover.ts';

export interface LowdbRecordStoreOptions {
  /** Data directory (created if missing): `store.json`, `shards/`, `journal/`. */
  dir: string;
  /** Shard files of a NEW store. Default 64. An existing store keeps the count in its store.json. */
  shards?: number;
  /**
   * Compact once the active journal segment passes this many bytes. Default: the size of
   * the shard files, at least 64 MiB (compaction cost stays proportional to what is written).
   */
  compactAtBytes?: number;
  /**
   * fdatasync journal appends and shard files. Default true. Turn it off only for benchmarks
   * and tests: a power loss can then lose commits that were acknowledged.
   */
  fsync?: boolean;
  /** Test hook: the journal's append/sync primitives. Default: node:fs. */
  journalIo?: JournalIo;
}

/** Counters for tests, metrics and `readyz`. */
export interface LowdbRecordStoreStats {
  shards: number;
  /** `commit()` calls. */
  commits: number;
  /** Journal lines written: one per group commit. */
  batches: number;
  /** Journal fdatasync calls (shard-file fsyncs during compaction are not counted). */
  fsyncs: number;
  /** Group commits whose journal write failed and were rolled back. */
  failedBatches: number;
  /** Bytes appended to the journal since open. */
  journalBytes: number;
  /** Highest journal seq that is durable. */
  durableSeq: number;
  compactions: number;
  shardWrites: number;
  lastCompactionMs: number | undefined;
  lastCompactionError: string | undefined;
  recovered: RecoveryReport;
}
