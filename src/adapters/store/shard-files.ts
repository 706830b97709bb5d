import { join } from 'node:path';
import { Low } from 'lowdb';
import { JSONFile } from 'lowdb/node';
import { isJsonObject } from '../../domain/json.ts';
import { fsyncDir, fsyncFile } from './durable-fs.ts';

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
 * The snapshot half of the store: `shards/shard-NNN.json`, one lowdb `Low` + `JSONFile` each.
 * steno writes a temp file and renames it, so a crash leaves the old or the new file, never a torn one.
 */
export class ShardFiles {
  readonly #dir: string;
  readonly #fsync: boolean;
  readonly #dbs: Array<Low<ShardData>>;

  constructor(options: { dir: string; count: number; fsync: boolean }) {
    this.#dir = options.dir;
    this.#fsync = options.fsync;
    this.#dbs = Array.from({ length: options.count }, (_, index) => new Low(new JSONFile<ShardData>(this.path(index)), empty()));
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
    db.data = empty(); // the store keeps its own copy: do not hold a second one
    if (!isJsonObject(data) || typeof data['seq'] !== 'number' || !isJsonObject(data['records'])) {
      throw new Error(`shard file ${this.path(index)} is not a shard ({"seq", "records"})`);
    }
    for (const [collection, records] of Object.entries(data['records'])) {
      if (!isJsonObject(records)) throw new Error(`shard file ${this.path(index)}: collection ${JSON.stringify(collection)} is not an object`);
    }
    return data as unknown as ShardData;
  }

  /** Writes one shard atomically and, with fsync on, flushes it to disk. */
  async write(index: number, data: ShardData): Promise<void> {
    const db = this.#db(index);
    db.data = data;
    try {
      await db.write();
    } finally {
      db.data = empty();
    }
    if (this.#fsync) await fsyncFile(this.path(index));
  }

  /** Makes the renames of the shard files written so far durable. */
  async syncDir(): Promise<void> {
    if (this.#fsync) await fsyncDir(this.#dir);
  }

  #db(index: number): Low<ShardData> {
    const db = this.#dbs[index];
    if (!db) throw new RangeError(`no shard ${index}`);
    return db;
  }
}
