/**
 * What an operator relies on (SPEC §2 "Read and operate"): one structured JSON log line per
 * request with its request id and never a secret; X-Request-Id echoed; Prometheus metrics
 * for requests, events by outcome, outbox depth, webhook queue and latencies; /readyz that
 * really fails when the store directory cannot be written, and recovers.
 */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { createHmac } from 'node:crypto';
import { rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { startTestInstance, type TestInstance } from './support/instance.ts';
import { TEST_SECRETS, testConfig } from './support/config.ts';
import { buildIdentify, buildTrack } from './support/build-message.ts';
import { startWebhookReceiver, type WebhookReceiver } from './support/webhook-receiver.ts';
import { createLogger } from '../src/adapters/logger.ts';
import { createRedactor } from '../src/config/redact.ts';
import { listSecretValues } from '../src/config/secrets.ts';
import type { EnvConfig } from '../src/config/types.ts';

const WEBHOOK_SECRET = 'operability-webhook-secret-0042';
const SECRET_FORMS = [
  TEST_SECRETS.sharedSecret,
  TEST_SECRETS.apiKey,
  TEST_SECRETS.writeKey,
  WEBHOOK_SECRET,
  ...[TEST_SECRETS.sharedSecret, TEST_SECRETS.apiKey, TEST_SECRETS.writeKey].map((value) => Buffer.from(`${value}:`).toString('base64')),
];

/** The production logger wiring of src/main.ts (`loggerFor`), writing to memory. */
function captureLogger(config: EnvConfig): { log: ReturnType<typeof createLogger>; lines: string[] } {
  const lines: string[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      lines.push(...chunk.toString('utf8').split('\n').filter((line) => line !== ''));
      callback();
    },
  });
  const log = createLogger({ level: 'debug', name: config.name, redact: createRedactor(listSecretValues(config.secrets)), destination });
  return { log, lines };
}

async function send(instance: TestInstance, path: string, init: { method?: string; headers?: Record<string, string>; body?: string } = {}): Promise<{ status: number; text: string; requestId: string | null }> {
  const response = await fetch(`${instance.url}${path}`, { method: init.method ?? (init.body === undefined ? 'GET' : 'POST'), headers: { 'content-type': 'application/json', ...init.headers }, body: init.body });
  return { status: response.status, text: await response.text(), requestId: response.headers.get('x-request-id') };
}

/** Samples of a Prometheus text exposition: name, labels, value. */
function parseMetrics(text: string): Array<{ name: string; labels: Record<string, string>; value: number }> {
  const samples: Array<{ name: string; labels: Record<string, string>; value: number }> = [];
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const match = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    assert.ok(match, `not a Prometheus sample line: ${line}`);
    const labels: Record<string, string> = {};
    for (const [, key, value] of (match[2] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)) labels[key as string] = value as string;
    samples.push({ name: match[1] as string, labels, value: Number(match[3]) });
  }
  return samples;
}

function sample(samples: ReturnType<typeof parseMetrics>, name: string, labels: Record<string, string> = {}): number | undefined {
  return samples.find((entry) => entry.name === name && Object.entries(labels).every(([key, value]) => entry.labels[key] === value))?.value;
}

let instance: TestInstance;
let receiver: WebhookReceiver;
let lines: string[];
let linesAtStart = 0;

// ---
const logs = suite('operability: structured logs and request ids');
logs.before(async () => {
  const config = await testConfig();
  const capture = captureLogger(config);
  lines = capture.lines;
  instance = await startTestInstance(config, { log: capture.log });
  linesAtStart = lines.length;
});
logs.after(async () => { await instance.close(); });

logs('one JSON line per request, with its request id, and no secret in any line even when secrets are thrown at it', async () => {
  const track = JSON.stringify(buildTrack({ userId: 'ops-user' }));
  const sign = (secret: string, body: string) => createHmac('sha1', secret).update(body).digest('hex');
  const basic = (value: string) => `Basic ${Buffer.from(`${value}:`).toString('base64')}`;
  const responses = [
    await send(instance, '/v1/segment', { body: track, headers: { 'x-signature': sign(TEST_SECRETS.sharedSecret, track) } }),
    await send(instance, '/v1/segment', { body: track, headers: { authorization: `Bearer ${TEST_SECRETS.apiKey}` } }),
    await send(instance, '/v1/segment', { body: track, headers: { 'x-signature': sign(TEST_SECRETS.writeKey, track), authorization: basic(TEST_SECRETS.writeKey) } }),
    await send(instance, '/v1/segment', { body: `{"secret":"${TEST_SECRETS.sharedSecret}", oops`, headers: { authorization: `Bearer ${TEST_SECRETS.sharedSecret}` } }),
    await send(instance, '/v1/segment', { body: JSON.stringify(buildTrack({ userId: TEST_SECRETS.apiKey, event: undefined })), headers: { authorization: `Bearer ${TEST_SECRETS.sharedSecret}` } }),
    await send(instance, '/v1/status', { headers: { authorization: `Bearer ${TEST_SECRETS.sharedSecret}` } }),
    await send(instance, '/v1/status', { headers: { authorization: basic(TEST_SECRETS.apiKey) } }),
    await send(instance, `/v1/users/${TEST_SECRETS.apiKey}`, { headers: { authorization: `Bearer ${TEST_SECRETS.writeKey}` } }),
    await send(instance, `/v1/users/${encodeURIComponent(TEST_SECRETS.sharedSecret)}`, { headers: { authorization: `Bearer ${TEST_SECRETS.apiKey}` } }),
    await send(instance, '/v1/flow-events', { body: JSON.stringify({ event: 'Flow Viewed', userId: 'u', properties: { token: WEBHOOK_SECRET } }), headers: { authorization: `Bearer ${TEST_SECRETS.apiKey}` } }),
    await send(instance, `/nowhere/${TEST_SECRETS.writeKey}?key=${TEST_SECRETS.apiKey}`),
  ];
  assert.equal(responses.map((response) => response.status), [200, 401, 401, 400, 400, 401, 401, 401, 404, 400, 404]);
  for (const response of responses) {
    for (const secret of SECRET_FORMS) assert.not.ok(response.text.includes(secret), `a secret in a response body: ${response.text}`);
  }

  const requestLines = lines.slice(linesAtStart);
  assert.ok(requestLines.length >= responses.length);
  const parsed = requestLines.map((line) => JSON.parse(line) as Record<string, unknown>);
  for (const entry of parsed) {
    assert.type(entry['requestId'], 'string', `a line without requestId: ${JSON.stringify(entry)}`);
    assert.type(entry['level'], 'number');
    assert.type(entry['time'], 'string');
    assert.is(entry['env'], 'staging');
  }
  const perRequest = parsed.filter((entry) => entry['msg'] === 'request');
  assert.equal(perRequest.map((entry) => entry['requestId']), responses.map((response) => response.requestId), 'one request line each, same id as X-Request-Id');
  assert.equal(perRequest.map((entry) => entry['status']), responses.map((response) => response.status));
  for (const entry of perRequest) assert.type(entry['durationMs'], 'number');
  const everything = lines.join('\n');
  for (const secret of SECRET_FORMS) assert.not.ok(everything.includes(secret), 'a secret in a log line');
});

logs('X-Request-Id: a sane one is echoed and logged, anything else is replaced by a fresh id', async () => {
  const given = await send(instance, '/healthz', { headers: { 'x-request-id': 'trace-abc.123_DEF' } });
  assert.is(given.requestId, 'trace-abc.123_DEF');
  const uuid = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
  for (const bad of ['x'.repeat(101), 'has spaces', '<script>alert(1)</script>', '{"json":1}']) {
    const replaced = await send(instance, '/healthz', { headers: { 'x-request-id': bad } });
    assert.match(replaced.requestId ?? '', uuid, bad);
  }
  const none = await send(instance, '/healthz');
  assert.match(none.requestId ?? '', uuid);
  const logged = lines.map((line) => JSON.parse(line) as Record<string, unknown>).filter((entry) => entry['msg'] === 'request').map((entry) => entry['requestId']);
  assert.ok(logged.includes('trace-abc.123_DEF'));
  assert.ok(logged.includes(none.requestId));
  assert.not.ok(lines.join('\n').includes('<script>'));
});

logs.run();

// ---
const metrics = suite('operability: Prometheus metrics');
metrics.before(async () => {
  receiver = await startWebhookReceiver({ secret: WEBHOOK_SECRET, defaultAnswer: 'hang' });
  instance = await startTestInstance({
    // No write key: flow events stay queued, so the outbox depth is known.
    secrets: { writeKey: undefined, webhookSecrets: { OPS_WEBHOOK_SECRET: WEBHOOK_SECRET } },
    triggers: [{ id: 'ops-trigger', event: 'Signed Up', source: 'any', where: {}, flow: { id: 'f', url: 'https://app.example.com/f?u={userId}' }, frequency: undefined, webhook: { url: receiver.url, secretEnv: 'OPS_WEBHOOK_SECRET' } }],
  });
});
metrics.after(async () => {
  await receiver.close();
  await instance.close();
});

metrics('counts requests, messages by outcome, outbox depth, webhook queue and latencies', async () => {
  const accepted = [buildIdentify({ userId: 'm-user' }), buildTrack({ userId: 'm-user', event: 'Signed Up' }), buildTrack({ userId: 'm-user', event: 'Viewed Pricing' })];
  assert.is((await instance.postSegment({ batch: [...accepted, buildTrack({ userId: 'm-user', event: 42 })] })).json['accepted'], 3);
  assert.is((await instance.postSegment(accepted[0])).json['duplicates'], 1);
  assert.is((await instance.postSegment(buildTrack(), { sign: 'none' })).status, 401);
  assert.is((await instance.api('/v1/flow-events', { body: [1, 2].map((n) => ({ event: 'Flow Viewed', userId: 'm-user', properties: { flow_id: `f${n}` } })) })).status, 202);
  const response = await fetch(`${instance.url}/metrics`);
  assert.is(response.status, 200);
  assert.match(response.headers.get('content-type') ?? '', /^text\/plain; version=0\.0\.4/);
  const text = await response.text();
  const samples = parseMetrics(text);

  assert.is(sample(samples, 'segment_bridge_http_requests_total', { method: 'POST', route: '/v1/segment', status: '200' }), 2);
  assert.is(sample(samples, 'segment_bridge_http_requests_total', { method: 'POST', route: '/v1/segment', status: '401' }), 1);
  assert.is(sample(samples, 'segment_bridge_http_requests_total', { method: 'POST', route: '/v1/flow-events', status: '202' }), 1);
  assert.is(sample(samples, 'segment_bridge_inbound_messages_total', { outcome: 'accepted', environment: 'staging' }), 3);
  assert.is(sample(samples, 'segment_bridge_inbound_messages_total', { outcome: 'duplicate' }), 1);
  assert.is(sample(samples, 'segment_bridge_inbound_messages_total', { outcome: 'rejected' }), 1);
  assert.is(sample(samples, 'segment_bridge_inbound_accepted_total', { type: 'track' }), 2);
  assert.is(sample(samples, 'segment_bridge_outbox_depth', { status: 'pending' }), 2);
  assert.is(sample(samples, 'segment_bridge_outbox_depth', { status: 'dead' }), 0);
  assert.ok((sample(samples, 'segment_bridge_outbox_oldest_pending_age_seconds') ?? -1) >= 0);
  assert.is(sample(samples, 'segment_bridge_trigger_runs_total', { trigger: 'ops-trigger' }), 1);
  assert.is(sample(samples, 'segment_bridge_webhook_queue_depth', { status: 'pending' }), instance.webhooks.stats().pending);
  assert.is(instance.webhooks.stats().pending, 1, 'the hanging receiver keeps one delivery queued');
  assert.is(sample(samples, 'segment_bridge_webhook_queue_depth', { status: 'failed' }), 0);
  assert.is(sample(samples, 'segment_bridge_http_request_duration_seconds_count', { method: 'POST', route: '/v1/segment' }), 3);
  assert.is(sample(samples, 'segment_bridge_http_request_duration_seconds_bucket', { method: 'POST', route: '/v1/segment', le: '+Inf' }), 3);
  assert.ok((sample(samples, 'segment_bridge_http_request_duration_seconds_sum', { method: 'POST', route: '/v1/segment' }) ?? 0) > 0);
  assert.is(sample(samples, 'segment_bridge_inbound_commit_seconds_count'), 2);
  assert.ok(sample(samples, 'segment_bridge_process_resident_memory_bytes') !== undefined, 'default process metrics');
  // Counts only: no user ids, no secrets.
  assert.not.ok(text.includes('m-user'));
  for (const secret of SECRET_FORMS) assert.not.ok(text.includes(secret));
});

metrics.run();

// ---
const ready = suite('operability: /readyz follows the store');
ready.before(async () => { instance = await startTestInstance(); });
ready.after(async () => { await instance.close(); });

ready('/readyz is 503 while the store directory cannot be written, 200 again once it can; /healthz stays 200', async () => {
  const ok = await send(instance, '/readyz');
  assert.is(ok.status, 200);
  assert.equal(JSON.parse(ok.text), { ready: true, environment: 'staging', checks: { config: true, storeWritable: true } });

  // Root ignores permissions, so break the path itself: the store directory becomes a file.
  const storeDir = join(instance.config.dataDir, 'store');
  const aside = join(instance.config.dataDir, 'store.aside');
  await rename(storeDir, aside);
  await writeFile(storeDir, 'not a directory');
  try {
    const broken = await send(instance, '/readyz');
    assert.is(broken.status, 503);
    assert.equal(JSON.parse(broken.text), { ready: false, environment: 'staging', checks: { config: true, storeWritable: false } });
    assert.is((await send(instance, '/healthz')).status, 200, 'alive, just not ready');
  } finally {
    await rm(storeDir, { force: true });
    await rename(aside, storeDir);
  }
  const back = await send(instance, '/readyz');
  assert.is(back.status, 200);
  assert.is((await instance.postSegment(buildTrack({ userId: 'after-ready' }))).status, 200);
});

ready.run();
