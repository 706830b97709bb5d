import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { replayJournal } from './journal-reader.ts';
import { loadOrCreateManifest } from './manifest.ts';
import type { StoreManifest } from './manifest.ts';
import { RecordMaps } from './record-maps.ts';
import { ShardFiles } from './shard-files.ts';
import { applyRecordPatch } from './record-patch.ts';

/** What `open()` found on disk (exposed as `stats().recovered`). */
export interface RecoveryReport {
  /** Records loaded from shard files. */
  shardRecords: number;
  journalSegments: number;
  journalLines: number;
  /** Journal ops newer than their shard file, applied. */
  opsApplied: number;
  /** Journal ops already contained in their shard file, skipped. */
  opsSkipped: number;
  tornBytesTruncated: number;
  durationMs: number;
}

export interface RecoveredStore {
  manifest: StoreManifest;
  maps: RecordMaps;
  shardFiles: ShardFiles;
  durableSeq: number;
  report: RecoveryReport;
}

/**
 * Rebuilds the in-memory state: shard files first, then the journal replayed in seq order,
 * each op applied only if its seq is above its own shard's seq. Because ops carry full values,
 * or patches against the key's value after its previous op (which the shard or an earlier op
 * provides), this is exact even when the previous process died halfway through a compaction.
 */
export async function recoverStore(options: { dir: string; shards: number; fsync: boolean }): Promise<RecoveredStore> {
  const startedMs = performance.now();
  await mkdir(options.dir, { recursive: true });
  const manifest = await loadOrCreateManifest(options);
  const maps = new RecordMaps(manifest.shards);
  await mkdir(join(options.dir, 'shards'), { recursive: true });
  const shardFiles = new ShardFiles({ dir: join(options.dir, 'shards'), count: manifest.shards, fsync: options.fsync });
  const shardSeqs: number[] = [];
  let shardRecords = 0;
  for (let shard = 0; shard < manifest.shards; shard += 1) {
    const data = await shardFiles.read(shard);
    shardSeqs.push(data.seq);
    for (const [collection, records] of Object.entries(data.records)) {
      for (const [key, value] of Object.entries(records)) {
        if (value === null) continue;
        if (maps.shardOf(collection, key) !== shard) {
          throw new Error(`${shardFiles.path(shard)}: record ${JSON.stringify(`${collection}/${key}`)} belongs to another shard`);
        }
        maps.set({ collection, key, value });
        shardRecords += 1;
      }
    }
  }
  let opsApplied = 0;
  let opsSkipped = 0;
  const replay = await replayJournal({
    dir: join(options.dir, 'journal'),
    onEntry: ({ seq, ops }) => {
      for (const [collection, key, value, patch] of ops) {
        const shard = maps.shardOf(collection, key);
        const shardSeq = shardSeqs[shard] ?? 0;
        if (seq <= shardSeq) {
          opsSkipped += 1;
          continue;
        }
        const next = patch ? applyRecordPatch(maps.collection(collection).get(key), patch, `journal seq ${seq}, ${collection}/${key}`) : value;
        maps.set({ collection, key, value: next === null ? undefined : next });
        maps.markDirty(shard, shardSeq + 1);
        opsApplied += 1;
      }
    },
  });
  const report: RecoveryReport = {
    shardRecords,
    journalSegments: replay.segments,
    journalLines: replay.lines,
    opsApplied,
    opsSkipped,
    tornBytesTruncated: replay.tornBytesTruncated,
    durationMs: Math.round(performance.now() - startedMs),
  };
  return { manifest, maps, shardFiles, durableSeq: Math.max(replay.lastSeq, ...shardSeqs), report };
}
