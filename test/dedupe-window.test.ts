import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { MemoryRecordStore } from '../src/adapters/memory-record-store.ts';
import type { BridgeSchema } from '../src/domain/bridge-schema.ts';
import { pruneSeenMessages } from '../src/services/dedupe-window.ts';
import { applyInbound } from '../src/services/inbound.ts';
import { testConfig } from './support/config.ts';
import { buildTrack } from './support/build-message.ts';

const DAY_MS = 86_400_000;

// ---
const prune = suite('pruneSeenMessages');

prune('forgets messageIds older than the window and keeps the rest', () => {
  const store = new MemoryRecordStore<BridgeSchema>();
  const nowMs = 100 * DAY_MS;
  store.put('seen', 'old', { atMs: nowMs - 8 * DAY_MS, outcome: 'accepted' });
  store.put('seen', 'edge', { atMs: nowMs - 7 * DAY_MS, outcome: 'accepted' });
  store.put('seen', 'fresh', { atMs: nowMs - 6 * DAY_MS, outcome: 'ignored' });
  assert.is(pruneSeenMessages({ store, dedupeWindowDays: 7, nowMs }), 2);
  assert.equal([...store.entries('seen')].map(([id]) => id), ['fresh']);
});

prune('a retry within the window is a duplicate; after the window it is applied again', async () => {
  const store = new MemoryRecordStore<BridgeSchema>();
  const config = await testConfig({ dedupeWindowDays: 7 });
  const message = buildTrack({ userId: 'window-user' });
  const day0 = 10 * DAY_MS;
  assert.is(applyInbound({ store, config, items: [message], nowMs: day0 }).accepted, 1);
  assert.is(applyInbound({ store, config, items: [message], nowMs: day0 + 6 * DAY_MS }).duplicates, 1);
  pruneSeenMessages({ store, dedupeWindowDays: 7, nowMs: day0 + 8 * DAY_MS });
  assert.is(applyInbound({ store, config, items: [message], nowMs: day0 + 8 * DAY_MS }).accepted, 1);
});

prune.run();
