import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { isJsonObject } from '../../domain/json.ts';
import { fsyncDir, writeFileAtomically } from './durable-fs.ts';
import { shardJsonChunks } from './shard-json.ts';

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
 * The snapshot half of the store: `shards/shard-NNN.json`, lowdb-compatible JSON files
 * (`{"seq", "records"}`) that are replaced atomically (temp file + rename), so a crash leaves
 * the old or the new file, never a torn one.
 *
 * Written with our own writer rather than lowdb's (steno): a shard is streamed in chunks as
 * compact JSON (shard-json.ts) instead of being built as one indented string (lowdb's
 * `JSONFile` indents by 2: ~40 % bigger files, ~2x slower), and it is fsynced before the
 * rename (durable-fs.ts `writeFileAtomically`). Both kept the event loop and the journal's
 * fdatasync stalling for tens of ms per shard during compactions of large stores.
 */
export class ShardFiles {
  readonly #dir: string;
  readonly #fsync: boolean;
  readonly #count: number;
  /** Length of each shard file's text as last read or written (what compaction costs). */
  readonly #chars: number[];

  constructor(options: { dir: string; count: number; fsync: boolean }) {
    this.#dir = options.dir;
    this.#fsync = options.fsync;
    this.#count = options.count;
    this.#chars = Array.from({ length: options.count }, () => 0);
  }

  /** About how many bytes the shard files hold (UTF-16 length of their text). */
  get totalChars(): number {
    return this.#chars.reduce((sum, chars) => sum + chars, 0);
  }

  path(index: number): string {
    return join(this.#dir, `shard-${String(index).padStart(3, '0')}.json`);
  }

  /** Reads one shard (an empty one if its file does not exist yet). */
  async read(index: number): Promise<ShardData> {
    let data: unknown;
    try {
      const text = await readText(this.#checkedPath(index)); // null: no file yet
      this.#chars[index] = text?.length ?? 0;
      data = text === null ? empty() : JSON.parse(text);
    } catch (error) {
      throw new Error(`shard file ${this.path(index)} cannot be read: ${(error as Error).message}`, { cause: error });
    }
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
    this.#chars[index] = await writeFileAtomically({ path: this.#checkedPath(index), chunks: shardJsonChunks(data), fsync: this.#fsync });
  }

  /** Makes the renames of the shard files written so far durable. */
  async syncDir(): Promise<void> {
    if (this.#fsync) await fsyncDir(this.#dir);
  }

  #checkedPath(index: number): string {
    if (!Number.isInteger(index) || index < 0 || index >= this.#count) throw new RangeError(`no shard ${index}`);
    return this.path(index);
  }
}

/**
 * The file as text, or null if it does not exist. Reads bytes and decodes once (asking
 * readFile for 'utf-8', as lowdb's TextFile does, decodes chunk by chunk through a
 * StringDecoder: measurably slower for shards of tens of MB at start-up).
 */
async function readText(path: string): Promise<string | null> {
  try {
    return (await readFile(path)).toString('utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw error;
  }
}
