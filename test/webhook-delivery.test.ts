import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { MemoryRecordStore } from '../src/adapters/memory-record-store.ts';
import { FetchWebhookSender } from '../src/adapters/fetch-webhook-sender.ts';
import type { TriggerConfig } from '../src/config/types.ts';
import type { BridgeSchema } from '../src/domain/bridge-schema.ts';
import { signWebhook } from '../src/domain/webhook-signature.ts';
import { BridgeEmitter, type BridgeEvents } from '../src/events.ts';
import { evaluateTriggers } from '../src/services/triggers.ts';
import { listDeliveries, WebhookWorker } from '../src/services/webhook-worker.ts';
import type { Scheduler } from '../src/ports/scheduler.ts';
import { testConfig } from './support/config.ts';
import { startWebhookReceiver, verifyStandardWebhook, type WebhookReceiver } from './support/webhook-receiver.ts';

const SECRET = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';
const MIN = 60_000;

function must<T>(value: T | undefined, what: string): T {
  if (value === undefined) throw new Error(`expected ${what}`);
  return value;
}

function fakeClock(startMs = Math.floor(Date.now() / 1000) * 1000) {
  let nowMs = startMs;
  return { nowMs: () => nowMs, advance: (ms: number) => (nowMs += ms) };
}

/** A store holding one pending delivery to `url`, as a fired trigger leaves it. */
async function harness(options: { url: string; secrets?: Record<string, string>; timeoutMs?: number }) {
  const trigger: TriggerConfig = {
    id: 'welcome',
    event: 'Signed Up',
    source: 'any',
    where: {},
    flow: { id: 'flow_welcome', url: 'https://app.example.com/f/{flowId}?u={userId}' },
    frequency: undefined,
    webhook: { url: options.url, secretEnv: 'WELCOME_HOOK_SECRET' },
  };
  const config = await testConfig({ triggers: [trigger], secrets: { webhookSecrets: options.secrets ?? { WELCOME_HOOK_SECRET: SECRET } } });
  const store = new MemoryRecordStore<BridgeSchema>();
  const clock = fakeClock();
  const [run] = evaluateTriggers({
    store,
    config,
    event: { name: 'Signed Up', source: 'custom', messageId: 'm-1', userId: 'user-1', properties: {}, timestamp: new Date(clock.nowMs()).toISOString() },
    nowMs: clock.nowMs(),
    newId: () => 'msg_2KWPBgLlAfxdpx2AI54pPJ85f4W',
  });
  await store.commit();
  const deliveryId = must(run?.deliveryId, 'a delivery');
  const events: Array<BridgeEvents['webhook_attempt']> = [];
  const emitter = new BridgeEmitter();
  emitter.on('webhook_attempt', (payload) => events.push(payload));
  const sender = new FetchWebhookSender();
  const newWorker = (): WebhookWorker => new WebhookWorker({ store, sender, config, clock, timeoutMs: options.timeoutMs ?? 2_000, emitter });
  const delivery = () => must(store.get('deliveries', deliveryId), 'the delivery');
  return { store, clock, config, deliveryId, delivery, worker: newWorker(), newWorker, events };
}

let receiver: WebhookReceiver;

// ---
const signing = suite('signWebhook');

signing('matches the Standard Webhooks reference vector', () => {
  const signed = signWebhook({
    delivery: { id: 'msg_p5jXN8AQM9LWM0D4loKWxJek', body: '{"test": 2432232314}', secretEnv: 'S' },
    secrets: { S: SECRET },
    nowMs: 1614265330_000,
  });
  assert.ok(signed.ok);
  assert.is(signed.headers['webhook-signature'], 'v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=');
  assert.is(signed.headers['webhook-id'], 'msg_p5jXN8AQM9LWM0D4loKWxJek');
  assert.is(signed.headers['webhook-timestamp'], '1614265330');
});

signing('a raw (non-whsec_) secret signs with its UTF-8 bytes', () => {
  const secret = 'correct horse battery staple ✓';
  const body = '{"a":1}';
  const signed = signWebhook({ delivery: { id: 'msg_1', body, secretEnv: 'S' }, secrets: { S: secret }, nowMs: 1_700_000_000_000 });
  assert.ok(signed.ok);
  assert.ok(verifyStandardWebhook({ secret, headers: signed.headers, body }));
  assert.not.ok(verifyStandardWebhook({ secret: 'another secret', headers: signed.headers, body }), 'the verifier is not vacuous');
});

signing('a missing or malformed secret is a reason naming the variable, not the value', () => {
  const delivery = { id: 'msg_1', body: '{}', secretEnv: 'HOOK_SECRET' };
  const missing = signWebhook({ delivery, secrets: {}, nowMs: 0 });
  assert.equal(missing, { ok: false, reason: 'webhook secret HOOK_SECRET is not set' });
  const malformed = signWebhook({ delivery, secrets: { HOOK_SECRET: 'whsec_not base64!!' }, nowMs: 0 });
  assert.not.ok(malformed.ok);
  assert.ok(!malformed.ok && malformed.reason.includes('HOOK_SECRET') && !malformed.reason.includes('not base64!!'));
});

signing.run();

// ---
const delivery = suite('WebhookWorker: delivery to a real receiver');

delivery.before.each(async () => {
  receiver = await startWebhookReceiver({ secret: SECRET });
});
delivery.after.each(async () => {
  await receiver.close();
});

delivery('sends the body signed with Standard Webhooks headers, then records it delivered', async () => {
  const h = await harness({ url: receiver.url });
  const commits = h.store.commits;
  assert.is(await h.worker.runOnce(), 1);
  assert.is(receiver.requests.length, 1);
  const [request] = receiver.requests;
  assert.ok(request?.signatureValid, 'signature verified independently');
  assert.is(request.id, h.deliveryId);
  assert.is(request.timestamp, String(h.clock.nowMs() / 1000));
  assert.is(request.headers['content-type'], 'application/json');
  assert.is(request.body, h.delivery().body);
  assert.equal(JSON.parse(request.body).type, 'trigger.fired');
  assert.equal({ status: h.delivery().status, attempts: h.delivery().attempts, lastStatus: h.delivery().lastStatus }, { status: 'delivered', attempts: 1, lastStatus: 200 });
  assert.is(h.delivery().deliveredAt, new Date(h.clock.nowMs()).toISOString());
  assert.is(h.store.commits, commits + 1, 'committed after the cycle');
  assert.is(await h.worker.runOnce(), 0, 'nothing left to send');
  assert.equal(h.worker.stats(), { pending: 0, failed: 0, delivered: 1 });
  assert.equal(h.events, [{ deliveryId: h.deliveryId, result: 'delivered', status: 200 }]);
});

delivery('retries 500, 429 and a timeout on schedule with the same webhook-id, then delivers', async () => {
  const h = await harness({ url: receiver.url, timeoutMs: 150 });
  receiver.program({ status: 500 }, { status: 429, headers: { 'retry-after': '600' } }, 'hang', { status: 204 });

  assert.is(await h.worker.runOnce(), 1);
  assert.equal({ status: h.delivery().status, attempts: h.delivery().attempts, lastStatus: h.delivery().lastStatus, lastError: h.delivery().lastError }, { status: 'pending', attempts: 1, lastStatus: 500, lastError: 'HTTP 500' });
  assert.is(h.delivery().nextAttemptAtMs, h.clock.nowMs() + MIN);
  h.clock.advance(MIN - 1);
  assert.is(await h.worker.runOnce(), 0, 'not before the first step');
  h.clock.advance(1);
  assert.is(await h.worker.runOnce(), 1, '429');
  assert.is(h.delivery().nextAttemptAtMs, h.clock.nowMs() + 600_000, 'Retry-After (10 min) beats the 2 min step');
  h.clock.advance(2 * MIN);
  assert.is(await h.worker.runOnce(), 0, 'Retry-After is honoured');
  h.clock.advance(8 * MIN);
  assert.is(await h.worker.runOnce(), 1, 'hangs until the timeout');
  assert.equal({ attempts: h.delivery().attempts, lastError: h.delivery().lastError }, { attempts: 3, lastError: 'timed out after 150 ms' });
  assert.is(h.delivery().nextAttemptAtMs, h.clock.nowMs() + 4 * MIN);
  h.clock.advance(4 * MIN);
  assert.is(await h.worker.runOnce(), 1);
  assert.is(h.delivery().status, 'delivered');
  assert.is(h.delivery().attempts, 4);
  assert.is(h.delivery().lastError, undefined);

  assert.is(receiver.requests.length, 4);
  assert.ok(receiver.requests.every((request) => request.id === h.deliveryId && request.signatureValid));
  assert.is(new Set(receiver.requests.map((request) => request.timestamp)).size, 4, 'each try is signed at its own time');
  assert.equal(h.events.map((event) => event.result), ['retry', 'retry', 'retry', 'delivered']);
});

delivery('a 400 fails at once and is never retried', async () => {
  const h = await harness({ url: receiver.url });
  receiver.program({ status: 400 });
  await h.worker.runOnce();
  assert.equal({ status: h.delivery().status, attempts: h.delivery().attempts, lastStatus: h.delivery().lastStatus, lastError: h.delivery().lastError }, { status: 'failed', attempts: 1, lastStatus: 400, lastError: 'HTTP 400' });
  h.clock.advance(24 * 60 * MIN);
  assert.is(await h.worker.runOnce(), 0);
  assert.is(receiver.requests.length, 1);
  assert.equal(h.worker.stats(), { pending: 0, failed: 1, delivered: 0, lastError: { deliveryId: h.deliveryId, reason: 'HTTP 400', at: new Date(h.clock.nowMs() - 24 * 60 * MIN).toISOString() } });
});

delivery('gives up after the first try and 8 retries, then fails; retryFailed starts over with the same id', async () => {
  const h = await harness({ url: receiver.url });
  receiver.program(...Array.from({ length: 9 }, () => ({ status: 503 })));
  const waitsMs = [MIN, 2 * MIN, 4 * MIN, 8 * MIN, 16 * MIN, 32 * MIN, 64 * MIN, 360 * MIN];
  assert.is(await h.worker.runOnce(), 1);
  for (const waitMs of waitsMs) {
    assert.is(h.delivery().status, 'pending');
    h.clock.advance(waitMs - 1);
    assert.is(await h.worker.runOnce(), 0);
    h.clock.advance(1);
    assert.is(await h.worker.runOnce(), 1);
  }
  assert.equal({ status: h.delivery().status, attempts: h.delivery().attempts }, { status: 'failed', attempts: 9 });
  assert.is(h.delivery().lastError, 'HTTP 503; gave up after 9 attempts');
  h.clock.advance(48 * 60 * MIN);
  assert.is(await h.worker.runOnce(), 0);
  assert.is(receiver.requests.length, 9);

  assert.equal(await h.worker.retryFailed(), [h.deliveryId]);
  assert.equal({ status: h.delivery().status, attempts: h.delivery().attempts, failedAt: h.delivery().failedAt }, { status: 'pending', attempts: 0, failedAt: undefined });
  assert.is(await h.worker.runOnce(), 1);
  assert.is(h.delivery().status, 'delivered');
  assert.is(receiver.requests.length, 10);
  assert.ok(receiver.requests.every((request) => request.id === h.deliveryId && request.signatureValid));
});

delivery('a pending delivery survives a restart: a new worker over the same store sends it', async () => {
  const h = await harness({ url: receiver.url });
  receiver.program({ status: 502 });
  await h.worker.runOnce();
  await h.worker.stop();
  const restarted = h.newWorker();
  assert.equal(restarted.stats(), { pending: 1, failed: 0, delivered: 0 });
  h.clock.advance(MIN);
  assert.is(await restarted.runOnce(), 1);
  assert.is(h.delivery().status, 'delivered');
  assert.equal(receiver.requests.map((request) => request.id), [h.deliveryId, h.deliveryId]);
});

delivery('a missing secret fails the delivery without sending, naming the variable', async () => {
  const h = await harness({ url: receiver.url, secrets: {} });
  await h.worker.runOnce();
  assert.is(receiver.requests.length, 0);
  assert.equal({ status: h.delivery().status, attempts: h.delivery().attempts, lastError: h.delivery().lastError }, { status: 'failed', attempts: 0, lastError: 'webhook secret WELCOME_HOOK_SECRET is not set' });
});

delivery('a failed commit rolls the attempt back and the delivery is sent again', async () => {
  const h = await harness({ url: receiver.url });
  h.store.failNextCommit();
  try {
    await h.worker.runOnce();
    assert.unreachable('the commit failed');
  } catch (error) {
    assert.is((error as Error).name, 'StoreUnavailableError');
  }
  assert.equal({ status: h.delivery().status, attempts: h.delivery().attempts }, { status: 'pending', attempts: 0 });
  assert.is(await h.worker.runOnce(), 1);
  assert.is(h.delivery().status, 'delivered');
  assert.equal(receiver.requests.map((request) => request.id), [h.deliveryId, h.deliveryId], 'same id: the receiver can dedupe');
});

delivery('a delivery erased while in flight is not recreated', async () => {
  const h = await harness({ url: receiver.url });
  receiver.program('hang');
  const cycle = h.worker.runOnce();
  while (receiver.requests.length === 0) await new Promise((resolve) => setImmediate(resolve));
  h.store.remove('deliveries', h.deliveryId);
  await receiver.close();
  await cycle;
  assert.is(h.store.get('deliveries', h.deliveryId), undefined);
  receiver = await startWebhookReceiver({ secret: SECRET });
});

delivery.run();

// ---
const loop = suite('WebhookWorker: start / kick / stop');

/** A scheduler the test fires by hand; `next()` resolves when the worker schedules again. */
function manualScheduler() {
  const waiting: Array<(entry: { delayMs: number; fire: () => void }) => void> = [];
  const queued: Array<{ delayMs: number; fire: () => void }> = [];
  const scheduler: Scheduler = {
    schedule(callback, delayMs) {
      let cancelled = false;
      const entry = { delayMs, fire: () => !cancelled && callback() };
      const resolve = waiting.shift();
      if (resolve) resolve(entry);
      else queued.push(entry);
      return () => (cancelled = true);
    },
  };
  const next = (): Promise<{ delayMs: number; fire: () => void }> => {
    const entry = queued.shift();
    return entry ? Promise.resolve(entry) : new Promise((resolve) => waiting.push(resolve));
  };
  return { scheduler, next };
}

loop.before.each(async () => {
  receiver = await startWebhookReceiver({ secret: SECRET });
});
loop.after.each(async () => {
  await receiver.close();
});

loop('the loop sends at once, sleeps until the next retry is due, and wakes on kick', async () => {
  const h = await harness({ url: receiver.url });
  receiver.program({ status: 500 });
  const { scheduler, next } = manualScheduler();
  const worker = new WebhookWorker({ store: h.store, sender: new FetchWebhookSender(), config: h.config, clock: h.clock, scheduler, idlePollMs: 30 * MIN });
  worker.start();
  const first = await next();
  assert.is(first.delayMs, 0);
  first.fire();
  const afterFailure = await next();
  assert.is(receiver.requests.length, 1);
  assert.is(afterFailure.delayMs, MIN, 'sleeps exactly until the retry');
  h.clock.advance(MIN);
  afterFailure.fire();
  const idle = await next();
  assert.is(h.delivery().status, 'delivered');
  assert.is(idle.delayMs, 30 * MIN, 'nothing pending: idle poll');

  // A new delivery committed by the caller goes out on kick(ids).
  const [run] = evaluateTriggers({
    store: h.store,
    config: h.config,
    event: { name: 'Signed Up', source: 'segment', messageId: 'm-2', userId: 'user-2', properties: {}, timestamp: new Date(h.clock.nowMs()).toISOString() },
    nowMs: h.clock.nowMs(),
  });
  await h.store.commit();
  worker.kick(run?.deliveryId ? [run.deliveryId] : []);
  const kicked = await next();
  assert.is(kicked.delayMs, 0);
  kicked.fire();
  await next();
  assert.is(receiver.requests.length, 3);
  assert.is(receiver.requests[2]?.id, run?.deliveryId);
  await worker.stop();
  assert.equal(worker.stats(), { pending: 0, failed: 0, delivered: 2, lastError: must(worker.stats().lastError, 'the 500 recorded') });
});

loop.run();

// ---
const sender = suite('FetchWebhookSender');

sender('a refused connection is a retryable network error', async () => {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  const result = await new FetchWebhookSender().send({ url: `http://127.0.0.1:${port}/`, headers: {}, body: '{}', timeoutMs: 1_000 });
  assert.equal(result, { ok: false, retryable: true, reason: 'network error: ECONNREFUSED' });
});

sender('redirects are not followed and fail permanently; bad URLs fail permanently', async () => {
  const redirecting = await startWebhookReceiver({ secret: SECRET, defaultAnswer: { status: 302, headers: { location: 'http://127.0.0.1:9/elsewhere' } } });
  try {
    const result = await new FetchWebhookSender().send({ url: redirecting.url, headers: {}, body: '{}', timeoutMs: 1_000 });
    assert.equal(result, { ok: false, retryable: false, status: 302, reason: 'HTTP 302 (redirects are not followed)' });
  } finally {
    await redirecting.close();
  }
  assert.equal(await new FetchWebhookSender().send({ url: 'not a url', headers: {}, body: '{}', timeoutMs: 1_000 }), { ok: false, retryable: false, reason: 'invalid webhook URL' });
});

sender('uses the injected fetch and reports Retry-After', async () => {
  const calls: Array<{ url: string; init: RequestInit | undefined }> = [];
  const fetchStub: typeof fetch = async (input, init) => {
    calls.push({ url: String(input), init });
    return new Response('slow down', { status: 429, headers: { 'retry-after': '120' } });
  };
  const result = await new FetchWebhookSender({ fetch: fetchStub }).send({ url: 'https://hooks.example.com/x', headers: { 'webhook-id': 'msg_1' }, body: '{"a":1}', timeoutMs: 5_000 });
  assert.equal(result, { ok: false, retryable: true, status: 429, reason: 'HTTP 429', retryAfterSec: 120 });
  assert.is(calls[0]?.init?.method, 'POST');
  assert.is(calls[0]?.init?.body, '{"a":1}');
  assert.is(calls[0]?.init?.redirect, 'manual');
  assert.ok(calls[0]?.init?.signal instanceof AbortSignal);
});

sender.run();

// ---
const listing = suite('listDeliveries');

listing('filters by status, newest first', async () => {
  const h = await harness({ url: 'http://127.0.0.1:9/unused' });
  assert.equal(listDeliveries({ store: h.store }).map((d) => d.id), [h.deliveryId]);
  assert.equal(listDeliveries({ store: h.store, status: 'failed' }), []);
  assert.equal(listDeliveries({ store: h.store, status: 'pending', limit: 0 }), []);
});

listing.run();
