/**
 * A lowdb `Adapter` for shard files: lowdb's `Low` stays the API of every snapshot file, while
 * this adapter does the I/O that large stores need and lowdb's `JSONFile` (steno) does not:
 * compact JSON streamed in chunks (shard-json.ts) instead of one indented string, and an fsync
 * of the temp file before it is renamed over the old one (durable-fs.ts).
 */
import { readFile } from 'node:fs/promises';
import type { Adapter } from 'lowdb';
import { writeFileAtomically } from './durable-fs.ts';
import type { ShardData } from './shard-files.ts';
import { shardJsonChunks } from './shard-json.ts';

export class DurableShardAdapter implements Adapter<ShardData> {
  readonly #path: string;
  readonly #fsync: boolean;
  /** Length of the file's text as last read or written (what a compaction costs). */
  chars = 0;

  constructor(options: { path: string; fsync: boolean }) {
    this.#path = options.path;
    this.#fsync = options.fsync;
  }

  /** The parsed file, or null when it does not exist yet (lowdb then keeps its default data). */
  async read(): Promise<ShardData | null> {
    const text = await readText(this.#path);
    this.chars = text?.length ?? 0;
    return text === null ? null : (JSON.parse(text) as ShardData);
  }

  async write(data: ShardData): Promise<void> {
    this.chars = await writeFileAtomically({ path: this.#path, chunks: shardJsonChunks(data), fsync: this.#fsync });
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
