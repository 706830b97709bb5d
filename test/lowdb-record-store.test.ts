import { appendFile, readFile, readdir, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { LowdbRecordStore } from '../src/adapters/lowdb-record-store.ts';
import { MemoryRecordStore } from '../src/adapters/memory-record-store.ts';
import { segmentFileName } from '../src/adapters/store/journal-writer.ts';
import { ShardFiles } from '../src/adapters/store/shard-files.ts';
import { shardIndex } from '../src/adapters/store/shard-hash.ts';
import type { JsonObject } from '../src/domain/json.ts';
import { StoreUnavailableError } from '../src/errors.ts';
import { gatedJournalIo } from './support/store-gated-io.ts';
import { journalSegments, makeStoreDir, sortedEntries } from './support/store-temp-dir.ts';

type Schema = Record<string, JsonObject>;
const open = (dir: string, extra: { shards?: number; compactAtBytes?: number } = {}) =>
  LowdbRecordStore.open<Schema>({ dir, shards: 8, ...extra });

// ---
const semantics = suite('same semantics as MemoryRecordStore, and survives reopen');

semantics('put/get/remove/values/entries/count match step by step', async () => {
  const { dir, remove } = await makeStoreDir();
  const lowdb = await open(dir);
  const memory = new MemoryRecordStore<Schema>();
  const steps: Array<(s: LowdbRecordStore<Schema> | MemoryRecordStore<Schema>) => void> = [
    (s) => s.put('users', 'u1', { name: 'Ada' }),
    (s) => s.put('users', 'u2', { name: 'Bob' }),
    (s) => s.put('users', 'u1', { name: 'Ada L.' }),
    (s) => s.put('anons', 'a1', { userId: 'u1' }),
    (s) => s.remove('users', 'u2'),
    (s) => s.remove('users', 'missing'),
    (s) => s.put('users', 'u3', { tags: ['x', 'y'], nested: { deep: true } }),
  ];
  for (const step of steps) {
    step(lowdb);
    step(memory);
    for (const collection of ['users', 'anons', 'never']) {
      assert.equal([...lowdb.entries(collection)], [...memory.entries(collection)]);
      assert.equal([...lowdb.values(collection)], [...memory.values(collection)]);
      assert.is(lowdb.count(collection), memory.count(collection));
    }
    assert.equal(lowdb.get('users', 'u1'), memory.get('users', 'u1'));
    assert.equal(lowdb.get('users', 'u2'), memory.get('users', 'u2'));
  }
  await lowdb.commit();
  await lowdb.close();
  assert.throws(() => lowdb.put('users', 'late', {}), (error: unknown) => error instanceof StoreUnavailableError);
  assert.is(await lowdb.probeWritable(), false);

  const reopened = await open(dir);
  assert.equal(sortedEntries(reopened, 'users'), sortedEntries(memory, 'users'));
  assert.equal(sortedEntries(reopened, 'anons'), sortedEntries(memory, 'anons'));
  assert.is(reopened.count('users'), 2);
  assert.is(await reopened.probeWritable(), true);
  await reopened.close();
  await remove();
});

semantics('put rejects null, which the journal reserves for removal', async () => {
  const { dir, remove } = await makeStoreDir();
  const store = await open(dir);
  assert.throws(() => store.put('users', 'u1', null as unknown as JsonObject), /use remove/);
  assert.is(store.count('users'), 0);
  await store.close();
  await remove();
});

semantics('refuses a directory of another format and keeps the shard count of store.json', async () => {
  const { dir, remove } = await makeStoreDir();
  const created = await open(dir, { shards: 4 });
  await created.close();
  const reopened = await open(dir, { shards: 16 });
  assert.is(reopened.stats().shards, 4);
  await reopened.close();
  await writeFile(join(dir, 'store.json'), JSON.stringify({ format: 'segment-bridge-record-store', version: 99, shards: 4, hash: 'fnv1a32' }));
  try {
    await open(dir);
    assert.unreachable('should refuse version 99');
  } catch (error) {
    assert.match((error as Error).message, /version 99 is not supported/);
  }
  await remove();
});

semantics.run();

// ---
const recovery = suite('recovery');

recovery('journal only (no compaction): a crash after commit loses nothing', async () => {
  const { dir, remove } = await makeStoreDir();
  const store = await open(dir);
  for (let i = 0; i < 20; i += 1) store.put('users', `u${i}`, { i });
  store.remove('users', 'u3');
  await store.commit();
  store.put('users', 'uncommitted', { i: -1 }); // never committed: may be lost, must not corrupt
  await store.abandon();
  assert.is((await readdir(join(dir, 'shards')).catch(() => [])).length, 0, 'no shard written yet');

  const reopened = await open(dir);
  assert.equal(sortedEntries(reopened, 'users'), sortedEntries(store, 'users').filter(([key]) => key !== 'uncommitted'));
  assert.is(reopened.stats().recovered.opsApplied, 20);
  await reopened.close();
  await remove();
});

recovery('after compaction: shards plus a newer journal', async () => {
  const { dir, remove } = await makeStoreDir();
  const store = await open(dir);
  for (let i = 0; i < 10; i += 1) store.put('users', `u${i}`, { v: 1 });
  await store.commit();
  await store.compact();
  store.put('users', 'u0', { v: 2 });
  store.remove('users', 'u1');
  store.put('anons', 'a1', { v: 1 });
  await store.commit();
  await store.abandon();

  const reopened = await open(dir);
  assert.equal(sortedEntries(reopened, 'users'), sortedEntries(store, 'users'));
  assert.equal(sortedEntries(reopened, 'anons'), [['a1', { v: 1 }]]);
  const { recovered } = reopened.stats();
  assert.is(recovered.shardRecords, 10);
  assert.is(recovered.opsApplied, 3);
  await reopened.close();
  await remove();
});

recovery.run();

// ---
const torn = suite('torn journal tail');

torn('a half-written final line is ignored and truncated; later appends stay valid', async () => {
  const { dir, remove } = await makeStoreDir();
  const store = await open(dir);
  store.put('users', 'u1', { v: 1 });
  await store.commit();
  await store.abandon();
  const [segment] = await journalSegments(dir);
  const path = join(dir, 'journal', segment ?? '');
  const goodSize = (await stat(path)).size;
  const garbage = '{"seq":2,"ops":[["users","u2",{"v"';
  await appendFile(path, garbage);

  const reopened = await open(dir);
  assert.equal(reopened.get('users', 'u1'), { v: 1 });
  assert.is(reopened.get('users', 'u2'), undefined);
  assert.is(reopened.stats().recovered.tornBytesTruncated, garbage.length);
  assert.is((await stat(path)).size, goodSize);
  reopened.put('users', 'u3', { v: 3 });
  await reopened.commit();
  await reopened.abandon();

  const third = await open(dir);
  assert.equal(sortedEntries(third, 'users'), [['u1', { v: 1 }], ['u3', { v: 3 }]]);
  await third.close();
  await remove();
});

torn('a corrupt line in the middle stops recovery naming file and line', async () => {
  const { dir, remove } = await makeStoreDir();
  const store = await open(dir);
  store.put('users', 'u1', { v: 1 });
  await store.commit();
  await store.abandon();
  const path = join(dir, 'journal', segmentFileName(1));
  const text = await readFile(path, 'utf8');
  await writeFile(path, `${text}not json\n{"seq":3,"ops":[]}\n`);
  try {
    await open(dir);
    assert.unreachable('should refuse a corrupt journal');
  } catch (error) {
    assert.match((error as Error).message, `journal ${segmentFileName(1)} line 2`);
  }
  await remove();
});

torn.run();

// ---
const midCompaction = suite('crash in the middle of a compaction');

/** First key (k0, k1, ...) that lands in `shard` of a 4-shard store. */
function keyInShard(shard: number, avoid: string[] = []): string {
  for (let i = 0; ; i += 1) {
    const key = `k${i}`;
    if (!avoid.includes(key) && shardIndex({ collection: 'users', key, shardCount: 4 }) === shard) return key;
  }
}

midCompaction('shards at different seqs plus the full journal replay to the exact final state', async () => {
  const { dir, remove } = await makeStoreDir();
  await (await open(dir, { shards: 4 })).close(); // writes store.json
  const counter = keyInShard(0);
  const sibling = keyInShard(0, [counter]);
  const [a, b, d] = [keyInShard(1), keyInShard(1, [keyInShard(1)]), keyInShard(2)];
  const lines = [
    { seq: 1, ops: [['users', counter, { n: 1 }], ['users', sibling, { s: 1 }], ['users', a!, { a: 1 }]] },
    { seq: 2, ops: [['users', counter, { n: 2 }], ['users', b!, { b: 1 }]] },
    { seq: 3, ops: [['users', counter, { n: 3 }], ['users', a!, null], ['users', d!, { d: 1 }]] },
  ];
  await writeFile(join(dir, 'journal', segmentFileName(1)), lines.map((line) => `${JSON.stringify(line)}\n`).join(''));
  // Shard 0 was written at seq 3 (its final state), shard 1 at seq 1, shard 2 never: the crash came in between.
  const shards = new ShardFiles({ dir: join(dir, 'shards'), count: 4, fsync: false });
  await shards.write(0, { seq: 3, records: { users: { [counter]: { n: 3 }, [sibling]: { s: 1 } } } });
  await shards.write(1, { seq: 1, records: { users: { [a!]: { a: 1 } } } });

  const store = await open(dir);
  const expected = [[counter, { n: 3 }], [sibling, { s: 1 }], [b!, { b: 1 }], [d!, { d: 1 }]].sort(([x], [y]) => (String(x) < String(y) ? -1 : 1));
  assert.equal(sortedEntries(store, 'users'), expected);
  assert.is(store.stats().recovered.opsSkipped, 5, 'shard 0 holds seqs 1..3 (4 ops), shard 1 holds seq 1 (1 op)');
  await store.close(); // compacts: every shard now at seq 3, journal dropped
  const again = await open(dir);
  assert.equal(sortedEntries(again, 'users'), expected);
  assert.is(again.stats().recovered.journalLines, 0);
  await again.close();
  await remove();
});

midCompaction.run();

// ---
const groupCommit = suite('group commit');

groupCommit('500 concurrent put+commit pairs share a handful of fsyncs', async () => {
  const { dir, remove } = await makeStoreDir();
  const store = await open(dir);
  await Promise.all(
    Array.from({ length: 500 }, async (_, i) => {
      await Promise.resolve(); // arrive one by one, like requests, not in one synchronous block
      store.put('users', `u${i}`, { i });
      await store.commit();
    }),
  );
  const stats = store.stats();
  assert.is(stats.commits, 500);
  assert.ok(stats.fsyncs >= 1 && stats.fsyncs < 50, `fsyncs: ${stats.fsyncs}`);
  assert.is(stats.batches, stats.fsyncs);
  await store.abandon();
  const reopened = await open(dir);
  assert.is(reopened.count('users'), 500);
  assert.equal(reopened.get('users', 'u499'), { i: 499 });
  await reopened.close();
  await remove();
});

groupCommit.run();

// ---
const rollback = suite('rollback when the journal cannot be written');

rollback('the failed batch and every later write are undone, and the store keeps working', async () => {
  const { dir, remove } = await makeStoreDir();
  const gate = gatedJournalIo();
  const store = await LowdbRecordStore.open<Schema>({ dir, shards: 8, journalIo: gate.io });
  store.put('users', 'a', { v: 1 });
  store.put('users', 'b', { v: 1 });
  await store.commit();

  const { started, release } = gate.fail();
  store.put('users', 'a', { v: 2 });
  store.remove('users', 'b');
  store.put('users', 'n', { v: 1 });
  const inFlight = store.commit();
  await started; // that batch is now being written: these writes go to the next one
  store.put('users', 'c', { v: 1 });
  store.put('users', 'a', { v: 3 });
  const later = store.commit();
  release();
  const results = await Promise.allSettled([inFlight, later]);
  for (const result of results) {
    assert.is(result.status, 'rejected');
    assert.instance(result.status === 'rejected' ? result.reason : undefined, StoreUnavailableError);
  }
  assert.equal(sortedEntries(store, 'users'), [['a', { v: 1 }], ['b', { v: 1 }]]);
  assert.is(store.stats().failedBatches, 1);

  gate.heal();
  store.put('users', 'd', { v: 1 });
  await store.commit();
  await store.abandon();
  const reopened = await open(dir);
  assert.equal(sortedEntries(reopened, 'users'), [['a', { v: 1 }], ['b', { v: 1 }], ['d', { v: 1 }]]);
  assert.is(reopened.stats().recovered.tornBytesTruncated, 0, 'the half-written batch was cut off at once');
  await reopened.close();
  await remove();
});

rollback('a compaction never snapshots writes that are not durable yet', async () => {
  const { dir, remove } = await makeStoreDir();
  const gate = gatedJournalIo();
  const store = await LowdbRecordStore.open<Schema>({ dir, shards: 8, journalIo: gate.io });
  store.put('users', 'y', { v: 1 });
  await store.commit();
  store.put('users', 'y', { v: 2 });
  store.put('users', 'z', { v: 1 });
  await store.compact(); // y=2 and z are in memory only
  const { release } = gate.fail();
  release();
  await store.commit().then(
    () => assert.unreachable('commit should fail'),
    (error: unknown) => assert.instance(error, StoreUnavailableError),
  );
  await store.abandon();
  const reopened = await open(dir);
  assert.equal(sortedEntries(reopened, 'users'), [['y', { v: 1 }]]);
  await reopened.close();
  await remove();
});

rollback.run();

// ---
const prototypeKeys = suite('__proto__ and constructor are plain data');

prototypeKeys('keys, collections and values round-trip through journal and shards', async () => {
  const { dir, remove } = await makeStoreDir();
  const value = JSON.parse('{"__proto__":{"polluted":"yes"},"constructor":{"prototype":{"polluted":"yes"}},"x":1}') as JsonObject;
  const keys = ['__proto__', 'constructor', 'hasOwnProperty', 'toString'];
  const collections = ['users', '__proto__', 'constructor'];
  const check = (store: LowdbRecordStore<Schema>): void => {
    for (const collection of collections) {
      assert.equal(sortedEntries(store, collection).map(([key]) => key), [...keys].sort());
      for (const key of keys) {
        const found = store.get(collection, key);
        assert.is(JSON.stringify(found), JSON.stringify(value));
        assert.ok(Object.hasOwn(found ?? {}, '__proto__'), `${collection}/${key} keeps its own __proto__`);
        assert.is(Object.getPrototypeOf(found), Object.prototype);
      }
    }
    assert.is((Object.prototype as Record<string, unknown>)['polluted'], undefined);
  };
  const store = await open(dir);
  for (const collection of collections) for (const key of keys) store.put(collection, key, value);
  await store.commit();
  await store.abandon();

  const fromJournal = await open(dir);
  assert.is(fromJournal.stats().recovered.opsApplied, 12);
  check(fromJournal);
  await fromJournal.close();

  const fromShards = await open(dir);
  assert.is(fromShards.stats().recovered.shardRecords, 12);
  assert.is(fromShards.stats().recovered.journalLines, 0);
  check(fromShards);
  await fromShards.close();
  await remove();
});

prototypeKeys.run();

// ---
const compaction = suite('compaction');

compaction('drops covered journal segments and the store reopens from shards + the rest', async () => {
  const { dir, remove } = await makeStoreDir();
  const store = await open(dir, { compactAtBytes: 300 });
  for (let i = 0; i < 30; i += 1) {
    store.put('users', `u${i % 7}`, { i });
    await store.commit(); // ~50 bytes a line: passes 300 bytes several times
  }
  await store.compact(); // waits for the threshold-triggered one, then runs again
  const stats = store.stats();
  assert.ok(stats.compactions >= 2, `compactions: ${stats.compactions}`);
  assert.is(stats.lastCompactionError, undefined);
  assert.equal(await journalSegments(dir), [segmentFileName(stats.durableSeq + 1)], 'only the active segment is left');
  assert.ok((await readdir(join(dir, 'shards'))).some((name) => /^shard-00\d\.json$/.test(name)));

  store.put('users', 'late', { i: 99 });
  await store.commit();
  await store.abandon();
  const reopened = await open(dir);
  assert.equal(sortedEntries(reopened, 'users'), sortedEntries(store, 'users'));
  assert.is(reopened.stats().recovered.shardRecords, 7);
  assert.is(reopened.stats().recovered.journalLines, 1);
  await reopened.close();
  await remove();
});

compaction('shard files carry seq and records by collection', async () => {
  const { dir, remove } = await makeStoreDir();
  const store = await open(dir, { shards: 1 });
  store.put('users', 'u1', { v: 1 });
  await store.commit();
  await store.close();
  const shard = JSON.parse(await readFile(join(dir, 'shards', 'shard-000.json'), 'utf8')) as unknown;
  assert.equal(shard, { seq: 1, records: { users: { u1: { v: 1 } } } });
  await remove();
});

compaction.run();
