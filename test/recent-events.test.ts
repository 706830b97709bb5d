import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import type { RecentEvent } from '../src/domain/records.ts';
import { hasRecentEvent, insertRecentEvent } from '../src/domain/recent-events.ts';

const at = (minute: number): string => new Date(Date.UTC(2025, 0, 1, 0, minute)).toISOString();
const entry = (messageId: string, minute: number): RecentEvent => ({ messageId, type: 'track', name: 'Report Exported', timestamp: at(minute) });

/** Newest first, as insertRecentEvent keeps it: minutes 49 .. 0, three entries share minute 20. */
function fullHistory(): RecentEvent[] {
  let list: RecentEvent[] = [];
  for (let minute = 0; minute < 50; minute += 1) list = insertRecentEvent(list, { entry: entry(`m${minute}`, minute), historyLimit: 50 });
  for (const id of ['tie-a', 'tie-b']) list = insertRecentEvent(list, { entry: entry(id, 20), historyLimit: 52 });
  return list;
}

const present = suite('hasRecentEvent: the same messageId at the same instant');

present('finds entries anywhere in a long history, among others of the same instant', () => {
  const list = fullHistory();
  for (const [id, minute] of [['m49', 49], ['m0', 0], ['m20', 20], ['tie-a', 20], ['tie-b', 20], ['m21', 21], ['m19', 19]] as const) {
    assert.ok(hasRecentEvent(list, { messageId: id, timestamp: at(minute) }), `${id} at minute ${minute}`);
  }
  assert.not.ok(hasRecentEvent(list, { messageId: 'new', timestamp: at(20) }), 'a new id at a busy instant');
  assert.not.ok(hasRecentEvent(list, { messageId: 'm5', timestamp: at(6) }), 'a known id at another instant is another message');
  assert.not.ok(hasRecentEvent([], { messageId: 'm0', timestamp: at(0) }), 'empty history');
});

present('equal instants written differently still match', () => {
  const list = [{ ...entry('m1', 1), timestamp: '2025-01-01T00:01:00.000Z' }];
  assert.ok(hasRecentEvent(list, { messageId: 'm1', timestamp: '2025-01-01T01:01:00+01:00' }));
});

present.run();

const insert = suite('insertRecentEvent');

insert('newest first by timestamp; the latest arrival first among equal instants; bounded', () => {
  const list = fullHistory();
  assert.is(list.length, 52);
  const ids = list.map((item) => item.messageId);
  assert.equal(ids.slice(28, 33), ['m21', 'tie-b', 'tie-a', 'm20', 'm19']);
  const bounded = insertRecentEvent(list, { entry: entry('newest', 60), historyLimit: 10 });
  assert.equal(bounded.map((item) => item.messageId), ['newest', 'm49', 'm48', 'm47', 'm46', 'm45', 'm44', 'm43', 'm42', 'm41']);
  assert.is(list.length, 52, 'the input is not changed');
});

insert('an entry older than the whole bounded history is not kept; one already present is not added twice', () => {
  const list = fullHistory().slice(0, 50);
  const old = insertRecentEvent(list, { entry: entry('ancient', -5), historyLimit: 50 });
  assert.equal(old, list);
  assert.is.not(old, list, 'a new array, as for every insert');
  const again = insertRecentEvent(list, { entry: entry('tie-a', 20), historyLimit: 50 });
  assert.equal(again, list);
});

insert('into the middle, before older entries', () => {
  const list = [entry('c', 30), entry('b', 20), entry('a', 10)];
  const out = insertRecentEvent(list, { entry: entry('x', 25), historyLimit: 50 });
  assert.equal(out.map((item) => item.messageId), ['c', 'x', 'b', 'a']);
});

insert.run();
