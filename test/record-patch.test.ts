import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { LowdbRecordStore } from '../src/adapters/lowdb-record-store.ts';
import { applyRecordPatch, diffRecord } from '../src/adapters/store/record-patch.ts';
import { applyMessage, emptyProfile } from '../src/domain/profile.ts';
import type { Profile } from '../src/domain/records.ts';
import { parseSegmentMessage, type SegmentMessage } from '../src/domain/segment-message.ts';
import { journalSegments, makeStoreDir, sortedEntries } from './support/store-temp-dir.ts';

function track(index: number): Exclude<SegmentMessage, { type: 'delete' }> {
  const parsed = parseSegmentMessage({ type: 'track', userId: 'u1', messageId: `m${index}`, timestamp: new Date(Date.UTC(2025, 0, 1, 0, index)).toISOString(), event: 'Report Exported', properties: { format: 'csv', index } });
  if (!parsed.ok || parsed.message.type === 'delete') throw new Error('bad fixture');
  return parsed.message;
}

const roundTrip = (base: unknown, next: unknown): unknown => {
  const patch = diffRecord(base, next);
  assert.ok(patch, 'expected a patch');
  // What recovery sees: the patch after a trip through the journal's JSON.
  return applyRecordPatch(JSON.parse(JSON.stringify(base)), JSON.parse(JSON.stringify(patch)), 'test');
};

const diff = suite('diffRecord / applyRecordPatch');

diff('a profile update round-trips through a patch much smaller than the profile', () => {
  let profile: Profile = emptyProfile({ id: 'u1', kind: 'user', at: '' });
  for (let index = 0; index < 60; index += 1) profile = applyMessage(profile, track(index), { historyLimit: 50 });
  const next = applyMessage(profile, track(60), { historyLimit: 50 });
  assert.equal(roundTrip(profile, next), JSON.parse(JSON.stringify(next)));
  const patchBytes = JSON.stringify(diffRecord(profile, next)).length;
  assert.ok(patchBytes * 4 < JSON.stringify(next).length, `patch of ${patchBytes} bytes for a ${JSON.stringify(next).length}-byte profile`);
});

diff('added, changed and removed fields, arrays of shared and new objects, and a __proto__ field', () => {
  const shared = { a: 1 };
  const base = { keep: 'x', change: 1, drop: true, list: [shared, { b: 2 }], other: 1, more: 2, rest: 3 };
  const next = JSON.parse('{"__proto__":{"polluted":true}}') as Record<string, unknown>;
  Object.assign(next, { keep: 'x', change: 2, list: [{ c: 3 }, shared], other: 1, more: 2, rest: 3 });
  const restored = roundTrip(base, next) as Record<string, unknown>;
  assert.equal(restored, JSON.parse(JSON.stringify(next)));
  assert.ok(Object.hasOwn(restored, '__proto__'), '__proto__ stays a plain field');
  assert.is(({} as Record<string, unknown>)['polluted'], undefined);
});

diff('a history that gains an entry at the front and loses one at the end is journaled as indices and one new entry', () => {
  let profile: Profile = emptyProfile({ id: 'u1', kind: 'user', at: '' });
  for (let index = 0; index < 50; index += 1) profile = applyMessage(profile, track(index), { historyLimit: 50 });
  const next = applyMessage(profile, track(50), { historyLimit: 50 });
  const items = diffRecord(profile, next)?.arr?.['recentEvents'];
  assert.equal(items?.slice(1), Array.from({ length: 49 }, (_, index) => index), 'the 49 kept entries by index, in order');
  assert.equal(items?.[0], [next.recentEvents[0]], 'the new entry by value');
  assert.equal(roundTrip(profile, next), JSON.parse(JSON.stringify(next)));
});

diff('an element moved far from its place is journaled by value, and the patch still round-trips', () => {
  const elements = Array.from({ length: 30 }, (_, index) => ({ index }));
  const moved = [...elements.slice(1), elements[0]];
  const base = { list: elements, a: 1, b: 2, c: 3 };
  const next = { ...base, list: moved };
  const items = diffRecord(base, next)?.arr?.['list'];
  assert.equal(items?.at(-1), [{ index: 0 }]);
  assert.equal(roundTrip(base, next), JSON.parse(JSON.stringify(next)));
});

diff('no patch where a whole value is the better op', () => {
  assert.is(diffRecord(undefined, { a: 1 }), undefined, 'no base');
  assert.is(diffRecord({ a: 1, b: 2 }, { a: 2, b: 3 }), undefined, 'every field changed');
  assert.is(diffRecord([1], [2]), undefined, 'not a record');
  const same = { a: 1, b: 2, c: 3 };
  assert.is(diffRecord(same, same), undefined, 'the same object put again (changed in place): whole value');
});

diff('applying a patch to a missing or mismatched base fails loudly', () => {
  assert.throws(() => applyRecordPatch(undefined, { set: { a: 1 } }, 'here'), /here: a patch needs/);
  assert.throws(() => applyRecordPatch({ list: [] }, { arr: { list: [3] } }, 'here'), /has no element 3/);
});

diff.run();

const journal = suite('the store journals patches and recovers them exactly');

journal('updates of one record across many commits are patch ops, replayed exactly after a crash, with and without a compaction between', async () => {
  for (const compactHalfway of [false, true]) {
    const { dir, remove } = await makeStoreDir();
    const store = await LowdbRecordStore.open<Record<string, Profile>>({ dir, shards: 4 });
    let profile: Profile = emptyProfile({ id: 'u1', kind: 'user', at: '' });
    for (let index = 0; index < 80; index += 1) {
      profile = applyMessage(profile, track(index), { historyLimit: 50 });
      store.put('users', 'u1', profile);
      store.put('users', `other-${index % 7}`, { ...emptyProfile({ id: `other-${index % 7}`, kind: 'user', at: '' }), traits: { index } });
      await store.commit();
      if (compactHalfway && index === 40) await store.compact();
    }
    const lines = (await Promise.all((await journalSegments(dir)).map((name) => readFile(join(dir, 'journal', name), 'utf8')))).join('').trim().split('\n');
    const patchOps = lines.flatMap((line) => (JSON.parse(line) as { ops: unknown[][] }).ops).filter((op) => op.length === 4);
    assert.ok(patchOps.length >= 30, `only ${patchOps.length} patch ops`);
    await store.abandon();

    const reopened = await LowdbRecordStore.open<Record<string, Profile>>({ dir, shards: 4 });
    assert.equal(reopened.get('users', 'u1'), JSON.parse(JSON.stringify(profile)));
    assert.equal(sortedEntries(reopened, 'users'), JSON.parse(JSON.stringify(sortedEntries(store, 'users'))));
    await reopened.close();
    await remove();
  }
});

journal.run();
