import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { MemoryRecordStore } from '../src/adapters/memory-record-store.ts';
import type { BridgeSchema } from '../src/domain/bridge-schema.ts';
import { emptyProfile } from '../src/domain/profile.ts';
import { eraseUser, isErased } from '../src/services/erase-user.ts';

const AT = '2025-03-01T10:00:00.000Z';

/** Records the erasure reads only a few fields of: the rest is irrelevant to it. */
const record = <C extends keyof BridgeSchema & string>(fields: Record<string, unknown>): BridgeSchema[C] => fields as unknown as BridgeSchema[C];

function seededStore(): MemoryRecordStore<BridgeSchema> {
  const store = new MemoryRecordStore<BridgeSchema>();
  store.put('users', 'ada', { ...emptyProfile({ id: 'ada', kind: 'user', at: AT }), anonymousIds: ['anon-1'], aliases: ['ada-old'] });
  store.put('users', 'bob', { ...emptyProfile({ id: 'bob', kind: 'user', at: AT }), anonymousIds: ['anon-bob'] });
  store.put('anons', 'anon-2', emptyProfile({ id: 'anon-2', kind: 'anonymous', at: AT }));
  store.put('anonLinks', 'anon-1', { userId: 'ada', kind: 'anonymous', linkedAt: AT });
  store.put('anonLinks', 'anon-2', { userId: 'ada', kind: 'anonymous', linkedAt: AT }); // linked, not on the profile
  store.put('anonLinks', 'anon-bob', { userId: 'bob', kind: 'anonymous', linkedAt: AT });
  store.put('aliases', 'ada-old', { userId: 'ada', kind: 'alias', linkedAt: AT });
  store.put('aliases', 'ada-older', { userId: 'ada-old', kind: 'alias', linkedAt: AT }); // a chain
  store.put('runs', 'run-ada', record<'runs'>({ id: 'run-ada', userId: 'ada' }));
  store.put('runs', 'run-bob', record<'runs'>({ id: 'run-bob', userId: 'bob' }));
  store.put('deliveries', 'd-ada-pending', record<'deliveries'>({ id: 'd-ada-pending', userId: 'ada', status: 'pending' }));
  store.put('deliveries', 'd-ada-done', record<'deliveries'>({ id: 'd-ada-done', userId: 'ada', status: 'delivered' }));
  store.put('deliveries', 'd-bob', record<'deliveries'>({ id: 'd-bob', userId: 'bob', status: 'pending' }));
  store.put('outbox', 'o-ada', record<'outbox'>({ messageId: 'o-ada', userId: 'ada', status: 'pending' }));
  store.put('outbox', 'o-ada-old', record<'outbox'>({ messageId: 'o-ada-old', userId: 'ada-old', status: 'pending' }));
  store.put('outbox', 'o-bob', record<'outbox'>({ messageId: 'o-bob', userId: 'bob', status: 'pending' }));
  return store;
}

const erase = suite('eraseUser');

erase('removes everything of the user, its aliases (chained) and anonymousIds (linked or on the profile), and nothing of others', () => {
  const store = seededStore();
  eraseUser({ store, userId: 'ada', deletedAt: '2025-03-02T00:00:00.000Z' });
  assert.equal([...store.entries('users')].map(([key]) => key), ['bob']);
  assert.equal([...store.entries('anons')].map(([key]) => key), []);
  assert.equal([...store.entries('anonLinks')].map(([key]) => key), ['anon-bob']);
  assert.equal([...store.entries('aliases')].map(([key]) => key), []);
  assert.equal([...store.entries('runs')].map(([key]) => key), ['run-bob']);
  assert.equal([...store.entries('deliveries')].map(([key]) => key).sort(), ['d-ada-done', 'd-bob'], 'delivered webhooks are history, kept');
  assert.equal([...store.entries('outbox')].map(([key]) => key), ['o-bob']);
});

erase('leaves tombstones that make older messages about any of those ids ignored, and newer ones start afresh', () => {
  const store = seededStore();
  eraseUser({ store, userId: 'ada-old', deletedAt: '2025-03-02T00:00:00.000Z' });
  for (const [kind, id] of [['user', 'ada'], ['user', 'ada-old'], ['user', 'ada-older'], ['anon', 'anon-1'], ['anon', 'anon-2']] as const) {
    assert.ok(isErased({ store, kind, id, timestamp: '2025-03-01T23:59:59.000Z' }), `${kind}:${id} older message`);
    assert.not.ok(isErased({ store, kind, id, timestamp: '2025-03-02T00:00:01.000Z' }), `${kind}:${id} newer message`);
  }
  assert.not.ok(isErased({ store, kind: 'user', id: 'bob', timestamp: AT }));
});

erase.run();
