/**
 * 503 when the store cannot be written (SPEC §2): nothing is half-applied, and Segment's
 * retry of the same body is then accepted (not mistaken for a duplicate).
 */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createHmac } from 'node:crypto';
import { createApp } from '../src/http/app.ts';
import { MemoryRecordStore } from '../src/adapters/memory-record-store.ts';
import { silentLogger } from '../src/adapters/logger.ts';
import { BridgeEmitter } from '../src/events.ts';
import { systemClock } from '../src/ports/clock.ts';
import type { BridgeSchema } from '../src/domain/bridge-schema.ts';
import { testConfig, TEST_SECRETS } from './support/config.ts';
import { buildIdentify, buildTrack } from './support/build-message.ts';

let server: Server;
let url: string;
let store: MemoryRecordStore<BridgeSchema>;

async function post(body: unknown): Promise<{ status: number; json: Record<string, unknown> }> {
  const raw = JSON.stringify(body);
  const response = await fetch(`${url}/v1/segment`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-signature': createHmac('sha1', TEST_SECRETS.sharedSecret).update(raw).digest('hex') },
    body: raw,
  });
  return { status: response.status, json: (await response.json()) as Record<string, unknown> };
}

// ---
const failure = suite('store write failure');
failure.before(async () => {
  store = new MemoryRecordStore<BridgeSchema>();
  const app = createApp({ config: await testConfig(), store, emitter: new BridgeEmitter(), log: silentLogger(), clock: systemClock });
  server = createServer(app.callback());
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
failure.after(() => new Promise<void>((resolve) => server.close(() => resolve())));

failure('answers 503 and applies nothing; the retry is accepted once', async () => {
  await post(buildIdentify({ userId: 'stable-user', traits: { plan: 'free' } }));
  const before = JSON.stringify(store.get('users', 'stable-user'));
  const batch = [buildIdentify({ userId: 'stable-user', traits: { plan: 'pro' } }), buildTrack({ userId: 'new-user' })];
  store.failNextCommit();
  const failed = await fetch(`${url}/v1/segment`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${TEST_SECRETS.sharedSecret}` },
    body: JSON.stringify(batch),
  });
  assert.is(failed.status, 503);
  const body = (await failed.json()) as Record<string, unknown>;
  assert.is(body['error'], 'store_unavailable');
  assert.is(JSON.stringify(store.get('users', 'stable-user')), before, 'existing profile unchanged');
  assert.is(store.get('users', 'new-user'), undefined, 'no new profile');
  assert.is(store.get('seen', String(batch[1]?.['messageId'])), undefined, 'messageIds not marked as seen');

  const retried = await fetch(`${url}/v1/segment`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${TEST_SECRETS.sharedSecret}` },
    body: JSON.stringify(batch),
  });
  assert.equal(await retried.json(), { accepted: 2, duplicates: 0, ignored: 0, rejected: [] });
  assert.is((store.get('users', 'stable-user')?.traits as Record<string, unknown>)['plan'], 'pro');
});

failure('/readyz reflects the store', async () => {
  const ready = await fetch(`${url}/readyz`);
  assert.is(ready.status, 200);
  await store.close();
  const notReady = await fetch(`${url}/readyz`);
  assert.is(notReady.status, 503);
  assert.is(((await notReady.json()) as { ready: boolean }).ready, false);
});

failure.run();
