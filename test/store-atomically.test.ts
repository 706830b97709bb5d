/**
 * `atomically(fn)`: a savepoint on both store adapters. Writes made by a throwing `fn` are
 * undone in memory AND never reach the journal, while earlier uncommitted writes survive.
 */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { LowdbRecordStore } from '../src/adapters/lowdb-record-store.ts';
import { MemoryRecordStore } from '../src/adapters/memory-record-store.ts';
import type { RecordStore } from '../src/ports/record-store.ts';
import { tempDir } from './support/config.ts';

interface Schema {
  [collection: string]: unknown;
  items: { n: number };
}

function exercise(store: RecordStore<Schema>): void {
  store.put('items', 'kept', { n: 1 });
  store.put('items', 'changed', { n: 1 });
  assert.throws(() =>
    store.atomically(() => {
      store.put('items', 'changed', { n: 2 });
      store.put('items', 'added', { n: 3 });
      store.remove('items', 'kept');
      throw new Error('bug half-way through');
    }),
  /half-way/);
  assert.equal(store.get('items', 'kept'), { n: 1 });
  assert.equal(store.get('items', 'changed'), { n: 1 });
  assert.is(store.get('items', 'added'), undefined);
  assert.is(store.atomically(() => { store.put('items', 'ok', { n: 4 }); return 'done'; }), 'done');
  assert.equal(store.get('items', 'ok'), { n: 4 });
}

// ---
const memory = suite('MemoryRecordStore.atomically');

memory('undoes the writes of a throwing function only', () => {
  exercise(new MemoryRecordStore<Schema>());
});

memory.run();

// ---
const lowdb = suite('LowdbRecordStore.atomically');

lowdb('undone writes are not journaled: a reopened store holds only what survived', async () => {
  const dir = await tempDir();
  const store = await LowdbRecordStore.open<Schema>({ dir });
  exercise(store);
  await store.commit();
  await store.abandon();
  const reopened = await LowdbRecordStore.open<Schema>({ dir });
  assert.equal(Object.fromEntries(reopened.entries('items')), { kept: { n: 1 }, changed: { n: 1 }, ok: { n: 4 } });
  await reopened.close();
});

lowdb('a savepoint rolled back to an empty batch leaves nothing to write', async () => {
  const dir = await tempDir();
  const store = await LowdbRecordStore.open<Schema>({ dir });
  assert.throws(() => store.atomically(() => {
    store.put('items', 'ghost', { n: 9 });
    throw new Error('nope');
  }));
  await store.commit();
  assert.is(store.stats().batches, 0, 'no journal line for an empty batch');
  await store.abandon();
  const reopened = await LowdbRecordStore.open<Schema>({ dir });
  assert.is(reopened.count('items'), 0);
  await reopened.close();
});

lowdb.run();
