import { mkdir, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { Low } from 'lowdb';
import { JSONFile } from 'lowdb/node';
import { isJsonObject } from '../../domain/json.ts';
import { fsyncDir, fsyncFile } from './durable-fs.ts';

export const STORE_FORMAT = 'segment-bridge-record-store';
export const STORE_FORMAT_VERSION = 1;

/** `store.json`: what a data directory is, fixed when it is created. */
export interface StoreManifest {
  format: typeof STORE_FORMAT;
  version: typeof STORE_FORMAT_VERSION;
  /** Number of shard files; records are placed by `hash`, so it never changes. */
  shards: number;
  hash: 'fnv1a32';
  createdAt: string;
}

/**
 * Reads `dir/store.json`, or creates it for an empty directory. Refuses a directory that holds
 * another format or version, or store files without a manifest.
 */
export async function loadOrCreateManifest(options: { dir: string; shards: number; fsync: boolean }): Promise<StoreManifest> {
  const { dir, shards, fsync } = options;
  const path = join(dir, 'store.json');
  const db = new Low<unknown>(new JSONFile<unknown>(path), null);
  try {
    await db.read();
  } catch (error) {
    throw new Error(`${path} cannot be read: ${(error as Error).message}`, { cause: error });
  }
  if (db.data !== null) return checkManifest(path, db.data);
  for (const sub of ['shards', 'journal']) {
    const names = await readdir(join(dir, sub)).catch(() => []);
    if (names.length > 0) throw new Error(`${dir} has ${sub}/ files but no store.json; refusing to open it as a new store`);
  }
  const manifest: StoreManifest = { format: STORE_FORMAT, version: STORE_FORMAT_VERSION, shards, hash: 'fnv1a32', createdAt: new Date().toISOString() };
  await mkdir(dir, { recursive: true });
  db.data = manifest;
  await db.write();
  if (fsync) {
    await fsyncFile(path);
    await fsyncDir(dir);
  }
  return manifest;
}

function checkManifest(path: string, data: unknown): StoreManifest {
  const found = isJsonObject(data) ? data : {};
  const { format, version, shards, hash } = found;
  if (format !== STORE_FORMAT) {
    throw new Error(`${path}: format ${JSON.stringify(format)} is not ${JSON.stringify(STORE_FORMAT)}; refusing to open`);
  }
  if (version !== STORE_FORMAT_VERSION) {
    throw new Error(`${path}: format version ${JSON.stringify(version)} is not supported (this build reads version ${STORE_FORMAT_VERSION})`);
  }
  if (typeof shards !== 'number' || !Number.isInteger(shards) || shards < 1 || hash !== 'fnv1a32') {
    throw new Error(`${path}: shards must be a positive integer and hash "fnv1a32"`);
  }
  return data as StoreManifest;
}
