import type { UndoEntry } from './group-commit.ts';
import { shardIndex } from './shard-hash.ts';
import { dictionary } from './shard-files.ts';
import type { ShardRecords } from './shard-files.ts';

/**
 * The in-memory state: one Map per collection (insertion order, what reads see), which
 * keys each shard holds, and which shards differ from their file.
 */
export class RecordMaps {
  readonly shardCount: number;
  readonly #collections = new Map<string, Map<string, unknown>>();
  /** Per shard: collection -> keys present, so a shard is captured without scanning everything. */
  readonly #shardKeys: Array<Map<string, Set<string>>>;
  /**
   * Per shard: the lowest journal seq that may hold a change missing from its file
   * (Infinity = the file is current). Journal segments entirely below the minimum are garbage.
   */
  readonly #firstDirtySeq: number[];

  constructor(shardCount: number) {
    this.shardCount = shardCount;
    this.#shardKeys = Array.from({ length: shardCount }, () => new Map());
    this.#firstDirtySeq = Array.from({ length: shardCount }, () => Infinity);
  }

  shardOf(collection: string, key: string): number {
    return shardIndex({ collection, key, shardCount: this.shardCount });
  }

  collection(name: string): Map<string, unknown> {
    let found = this.#collections.get(name);
    if (!found) {
      found = new Map();
      this.#collections.set(name, found);
    }
    return found;
  }

  /** Sets one record, or deletes it when `value` is undefined; returns its shard. */
  set(options: { collection: string; key: string; value: unknown }): number {
    const { collection, key, value } = options;
    const map = this.collection(collection);
    const shard = this.shardOf(collection, key);
    const byCollection = this.#shardKeys[shard] ?? new Map<string, Set<string>>();
    if (value === undefined) {
      if (map.delete(key)) byCollection.get(collection)?.delete(key);
      return shard;
    }
    if (!map.has(key)) {
      let keys = byCollection.get(collection);
      if (!keys) {
        keys = new Set();
        byCollection.set(collection, keys);
      }
      keys.add(key);
    }
    map.set(key, value);
    return shard;
  }

  /** Notes that `shard` changed; the change will be journaled at `fromSeq` or later. */
  markDirty(shard: number, fromSeq: number): void {
    const current = this.#firstDirtySeq[shard] ?? Infinity;
    if (fromSeq < current) this.#firstDirtySeq[shard] = fromSeq;
  }

  dirtyShards(): number[] {
    return this.#firstDirtySeq.flatMap((seq, shard) => (seq === Infinity ? [] : [shard]));
  }

  firstDirtySeq(shard: number): number {
    return this.#firstDirtySeq[shard] ?? Infinity;
  }

  /** After a shard write failed: it is at least as dirty as before. */
  restoreDirty(shard: number, firstDirtySeq: number): void {
    this.markDirty(shard, firstDirtySeq);
  }

  /** Lowest seq any shard still needs from the journal. */
  minDirtySeq(): number {
    return Math.min(...this.#firstDirtySeq);
  }

  /**
   * The durable state of one shard: current values with the not-yet-durable writes (`pending`,
   * oldest first) undone. Marks the shard clean, or dirty from `seq + 1` if pending writes touch it.
   */
  captureShard(options: { shard: number; seq: number; pending: readonly UndoEntry[] }): ShardRecords {
    const { shard, seq, pending } = options;
    const records = dictionary<Record<string, unknown>>();
    for (const [collection, keys] of this.#shardKeys[shard] ?? []) {
      if (keys.size === 0) continue;
      const values = this.collection(collection);
      const out = dictionary<unknown>();
      for (const key of keys) out[key] = values.get(key);
      records[collection] = out;
    }
    let touched = false;
    const seen = new Map<string, Set<string>>();
    for (const entry of pending) {
      if (entry.shard !== shard) continue;
      touched = true;
      const keys = seen.get(entry.collection) ?? new Set<string>();
      seen.set(entry.collection, keys);
      if (keys.has(entry.key)) continue; // the first pending write holds the durable value
      keys.add(entry.key);
      const out = records[entry.collection] ?? dictionary<unknown>();
      records[entry.collection] = out;
      if (entry.previous === undefined) delete out[entry.key];
      else out[entry.key] = entry.previous;
    }
    this.#firstDirtySeq[shard] = touched ? seq + 1 : Infinity;
    return records;
  }
}
