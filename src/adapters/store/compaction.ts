import { unlink } from 'node:fs/promises';
import type { GroupCommit } from './group-commit.ts';
import { fsyncDir } from './durable-fs.ts';
import { listSegments } from './journal-writer.ts';
import type { JournalWriter } from './journal-writer.ts';
import type { RecordMaps } from './record-maps.ts';
import type { ShardFiles } from './shard-files.ts';
import type { SerialLock } from './serial-lock.ts';

export interface CompactionStats {
  compactions: number;
  shardWrites: number;
  lastCompactionMs: number | undefined;
  lastCompactionError: string | undefined;
}

/** What a compaction works on: the store's parts, shared by reference. */
export interface CompactionContext {
  maps: RecordMaps;
  shardFiles: ShardFiles;
  journal: JournalWriter;
  journalDir: string;
  commits: GroupCommit;
  /** The journal's single-writer lock: rotation must not interleave with an append. */
  lock: SerialLock;
  fsync: boolean;
  stats: CompactionStats;
}

/**
 * Compaction: start a new journal segment, write each dirty shard (one per await, so the
 * event loop keeps serving), each stamped with the durable seq its content reflects, then
 * delete the segments no shard needs any more. Commits keep flowing meanwhile; a crash at
 * any point leaves shards + journal that recovery replays to the exact state.
 */
export async function compactStore(ctx: CompactionContext): Promise<void> {
  const startedMs = performance.now();
  try {
    await ctx.lock.run(() => ctx.journal.rotate(ctx.commits.durableSeq + 1));
    for (const shard of ctx.maps.dirtyShards()) {
      const before = ctx.maps.firstDirtySeq(shard);
      if (before === Infinity) continue;
      // Captured synchronously: content and stamp describe the same durable moment.
      const seq = ctx.commits.durableSeq;
      const records = ctx.maps.captureShard({ shard, seq, pending: ctx.commits.pendingUndo() });
      try {
        await ctx.shardFiles.write(shard, { seq, records });
      } catch (error) {
        ctx.maps.restoreDirty(shard, before);
        throw error;
      }
      ctx.stats.shardWrites += 1;
    }
    await ctx.shardFiles.syncDir();
    await deleteCoveredSegments(ctx);
    ctx.stats.compactions += 1;
    ctx.stats.lastCompactionError = undefined;
  } catch (error) {
    ctx.stats.lastCompactionError = (error as Error).message;
    throw error;
  } finally {
    ctx.stats.lastCompactionMs = Math.round(performance.now() - startedMs);
  }
}

/** Deletes segments whose every seq is below what any shard still needs (never the active one). */
async function deleteCoveredSegments(ctx: CompactionContext): Promise<void> {
  const segments = await listSegments(ctx.journalDir);
  const neededFrom = Math.min(ctx.maps.minDirtySeq(), ctx.commits.durableSeq + 1);
  let deleted = 0;
  for (const [index, segment] of segments.entries()) {
    const next = segments[index + 1];
    if (!next || segment.firstSeq >= ctx.journal.firstSeq) break;
    // The segment holds seqs firstSeq .. next.firstSeq - 1.
    if (next.firstSeq - 1 >= neededFrom) break;
    await unlink(segment.path);
    deleted += 1;
  }
  if (deleted > 0 && ctx.fsync) await fsyncDir(ctx.journalDir);
}
