import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { RecordStore, StoreSchema } from '../../src/ports/record-store.ts';

/** A fresh temp dir for one store; `remove()` deletes it. */
export async function makeStoreDir(): Promise<{ dir: string; remove: () => Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), 'record-store-'));
  return { dir, remove: () => rm(dir, { recursive: true, force: true }) };
}

/** Journal segment file names, oldest first. */
export async function journalSegments(dir: string): Promise<string[]> {
  return (await readdir(join(dir, 'journal'))).filter((name) => name.endsWith('.jsonl')).sort();
}

/** A collection as sorted `[key, value]` pairs: compares stores whatever their insertion order. */
export function sortedEntries<S extends StoreSchema>(store: RecordStore<S>, collection: keyof S & string): Array<[string, unknown]> {
  return [...store.entries(collection)].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
}
