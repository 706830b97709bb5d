import { join } from 'node:path';
import { Low } from 'lowdb';
import { isJsonObject } from '../../domain/json.ts';
import { fsyncDir } from './durable-fs.ts';
import { DurableShardAdapter } from './durable-json-adapter.ts';

/** Records of one shard by collection and key. Built with null prototypes so `__proto__` is a plain key. */
export type ShardRecords = Record<string, Record<string, unknown>>;

/** What one shard file holds: its records as of journal seq `seq` (ops with a higher seq are replayed). */
export interface ShardData {
  seq: number;
  records: ShardRecords;
}

/** A fresh dictionary without a prototype: assigning `__proto__` or `constructor` just stores data. */
export function dictionary<T>(): Record<string, T> {
  return Object.create(null) as Record<string, T>;
}

const empty = (): ShardData => ({ seq: 0, records: dictionary() });

/**
 * The snapshot half of the store: `shards/shard-NNN.json`, one lowdb `Low` per shard holding
 * `{"seq", "records"}`, replaced atomically (temp file + rename), so a crash leaves the old or
 * the new file, never a torn one. The lowdb adapter (durable-json-adapter.ts) streams compact
 * JSON and fsyncs before the rename: lowdb's stock `JSONFile` writes one indented string
 * (~40 % bigger, ~2x slower) and never fsyncs, which stalled compactions of large stores.
 */
export class ShardFiles {
  readonly #dir: string;
  readonly #dbs: Array<Low<ShardData>>;
  readonly #adapters: DurableShardAdapter[];
  readonly #fsync: boolean;

  constructor(options: { dir: string; count: number; fsync: boolean }) {
    this.#dir = options.dir;
    this.#fsync = options.fsync;
    this.#adapters = Array.from({ length: options.count }, (_, index) => new DurableShardAdapter({ path: this.path(index), fsync: options.fsync }));
    this.#dbs = this.#adapters.map((adapter) => new Low<ShardData>(adapter, empty()));
  }

  /** About how many bytes the shard files hold (UTF-16 length of their text). */
  get totalChars(): number {
    return this.#adapters.reduce((sum, adapter) => sum + adapter.chars, 0);
  }

  path(index: number): string {
    return join(this.#dir, `shard-${String(index).padStart(3, '0')}.json`);
  }

  /** Reads one shard (an empty one if its file does not exist yet). */
  async read(index: number): Promise<ShardData> {
    const db = this.#db(index);
    try {
      await db.read();
    } catch (error) {
      throw new Error(`shard file ${this.path(index)} cannot be read: ${(error as Error).message}`, { cause: error });
    }
    const data: unknown = db.data;
    db.data = empty(); // the caller owns the records now; do not keep a second reference to a shard
    if (!isJsonObject(data) || typeof data['seq'] !== 'number' || !isJsonObject(data['records'])) {
      throw new Error(`shard file ${this.path(index)} is not a shard ({"seq", "records"})`);
    }
    for (const [collection, records] of Object.entries(data['records'])) {
      if (!isJsonObject(records)) throw new Error(`shard file ${this.path(index)}: collection ${JSON.stringify(collection)} is not an object`);
    }
    return data as unknown as ShardData;
  }

  /** Writes one shard atomically and, with fsync on, flushes it to disk before it replaces the old one. */
  async write(index: number, data: ShardData): Promise<void> {
    const db = this.#db(index);
    db.data = data;
    try {
      await db.write();
    } finally {
      db.data = empty();
    }
  }

  /** Makes the renames of the shard files written so far durable. */
  async syncDir(): Promise<void> {
    if (this.#fsync) await fsyncDir(this.#dir);
  }

  #db(index: number): Low<ShardData> {
    const db = Number.isInteger(index) ? this.#dbs[index] : undefined;
    if (!db) throw new RangeError(`no shard ${index}`);
    return db;
  }
}
