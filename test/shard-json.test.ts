import { readFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { dictionary, ShardFiles, type ShardData } from '../src/adapters/store/shard-files.ts';
import { shardJsonChunks } from '../src/adapters/store/shard-json.ts';
import { makeStoreDir } from './support/store-temp-dir.ts';

function shard(records: Record<string, Record<string, unknown>>, seq = 7): ShardData {
  const out = dictionary<Record<string, unknown>>();
  for (const [collection, values] of Object.entries(records)) {
    const keys = dictionary<unknown>();
    for (const [key, value] of Object.entries(values)) keys[key] = value;
    out[collection] = keys;
  }
  return { seq, records: out };
}

function bigShard(users: number): ShardData {
  const values: Record<string, unknown> = {};
  for (let i = 0; i < users; i += 1) values[`user-${i}`] = { id: i, padding: 'x'.repeat(200) };
  return shard({ users: values });
}

const text = (data: ShardData, chunkChars?: number): string => [...shardJsonChunks(data, chunkChars)].join('');

// ---
const format = suite('shardJsonChunks: the same JSON value as JSON.stringify');

format('collections, nested values, unicode and empty collections round-trip', () => {
  const data = shard({
    users: { u1: { name: 'Zoë 🚀', tags: ['a', 'b'], nested: { deep: [1, { x: null }] } }, '12': { n: 12 } },
    anons: {},
    seen: { 'm-1': { atMs: 1, outcome: 'accepted' } },
  });
  assert.equal(JSON.parse(text(data)), JSON.parse(JSON.stringify(data)));
});

format('hostile keys stay plain data', () => {
  const data = shard({ users: {} });
  const users = data.records['users'] ?? dictionary<unknown>();
  users['__proto__'] = { polluted: 'yes' };
  users['constructor'] = { prototype: 1 };
  const parsed = JSON.parse(text(data)) as { records: { users: Record<string, unknown> } };
  assert.equal(Object.keys(parsed.records.users).sort(), ['__proto__', 'constructor']);
  assert.equal(({} as Record<string, unknown>)['polluted'], undefined);
});

format('the seq is kept and an empty shard is valid JSON', () => {
  assert.equal(JSON.parse(text({ seq: 42, records: dictionary() })), { seq: 42, records: {} });
});

format.run();

// ---
const chunking = suite('shardJsonChunks: a big shard comes in bounded chunks');

chunking('no chunk is much bigger than the chunk size, and together they are the shard', () => {
  const data = bigShard(2_000);
  const chunks = [...shardJsonChunks(data, 10_000)];
  assert.ok(chunks.length > 10, `only ${chunks.length} chunks`);
  for (const chunk of chunks) assert.ok(chunk.length < 10_000 + 400, `chunk of ${chunk.length} chars`);
  assert.equal(JSON.parse(chunks.join('')), JSON.parse(JSON.stringify(data)));
});

chunking.run();

// ---
const writing = suite('ShardFiles.write: atomic and readable');

writing('a written shard reads back the same and leaves no temp file', async () => {
  const { dir, remove } = await makeStoreDir();
  const files = new ShardFiles({ dir, count: 2, fsync: true });
  const data = bigShard(3_000);
  await files.write(1, data);
  assert.equal(await files.read(1), JSON.parse(JSON.stringify(data)));
  const missing = await files.read(0);
  assert.is(missing.seq, 0);
  assert.equal(Object.keys(missing.records), []);
  assert.equal(await readdir(dir), ['shard-001.json']);
  assert.equal(JSON.parse(await readFile(join(dir, 'shard-001.json'), 'utf8')), JSON.parse(JSON.stringify(data)));
  assert.ok(files.totalChars > 600_000);
  await remove();
});

writing.run();
