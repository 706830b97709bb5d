import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { SegmentEventSink } from '../src/adapters/segment-event-sink.ts';
import { toOutboundTrack } from '../src/services/outbox.ts';
import type { OutboxEntry } from '../src/domain/outbox-entry.ts';
import type { OutboundTrack, SendResult } from '../src/ports/event-sink.ts';
import type { HTTPFetchFn } from '@segment/analytics-node';
import { SegmentStandin } from './support/segment-standin.ts';
import { KeepAliveHttpClient } from '../src/adapters/keep-alive-http-client.ts';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

const WRITE_KEY = 'wk_sink_test';

function entry(overrides: Partial<OutboxEntry> = {}): OutboxEntry {
  return {
    messageId: 'sb-staging-11111111-1111-4111-8111-111111111111',
    event: 'Flow Completed',
    sentAs: 'Survey Finished',
    userId: 'user-42',
    properties: { flow_id: 'onboarding', score: 9 },
    timestamp: '2024-04-30T08:15:00.000Z',
    enqueuedAt: '2024-05-01T12:00:00.000Z',
    status: 'pending',
    attempts: 0,
    nextAttemptAtMs: 0,
    ...overrides,
  };
}

function track(overrides: Partial<OutboxEntry> = {}): OutboundTrack {
  return toOutboundTrack(entry(overrides), 'staging');
}

async function withSink<T>(run: (ctx: { segment: SegmentStandin; sink: SegmentEventSink }) => Promise<T>, options: { writeKey?: string; timeoutMs?: number; lanes?: number } = {}): Promise<T> {
  const segment = await SegmentStandin.start({ writeKeys: [WRITE_KEY] });
  const lanes = options.lanes === undefined ? {} : { lanes: options.lanes };
  const sink = new SegmentEventSink({ writeKey: options.writeKey ?? WRITE_KEY, host: segment.url, flushAt: 50, flushIntervalMs: 10_000, httpRequestTimeoutMs: options.timeoutMs ?? 2_000, ...lanes });
  try {
    return await run({ segment, sink });
  } finally {
    await sink.close(1_000);
    await segment.close();
  }
}

function failure(result: SendResult | undefined): Extract<SendResult, { ok: false }> {
  if (!result || result.ok) throw new assert.Assertion({ message: 'expected a failed result', operator: 'ok', expects: false, actual: result });
  return result;
}

// ---
const wire = suite('SegmentEventSink: what Segment receives');

wire('a track with our userId, renamed event, messageId, original timestamp, environment and loop marker', async () => {
  await withSink(async ({ segment, sink }) => {
    const results = await sink.send([track({ anonymousId: 'anon-7' })]);
    assert.equal(results, [{ messageId: 'sb-staging-11111111-1111-4111-8111-111111111111', ok: true }]);
    const [received] = segment.events();
    assert.ok(received);
    assert.is(received['type'], 'track');
    assert.is(received['userId'], 'user-42');
    assert.is(received['anonymousId'], 'anon-7');
    assert.is(received['event'], 'Survey Finished');
    assert.is(received.messageId, 'sb-staging-11111111-1111-4111-8111-111111111111');
    assert.is(received['timestamp'], '2024-04-30T08:15:00.000Z');
    assert.equal(received['properties'], { flow_id: 'onboarding', score: 9, environment: 'staging' });
    const context = received['context'] as Record<string, unknown>;
    assert.equal(context['segmentBridge'], { origin: 'segment-bridge', environment: 'staging' });
  });
});

wire('authenticates with Basic base64(writeKey:) on /v1/batch', async () => {
  await withSink(async ({ segment, sink }) => {
    await sink.send([track()]);
    const [request] = segment.requests();
    assert.is(request?.path, '/v1/batch');
    assert.is(request?.authorization, `Basic ${Buffer.from(`${WRITE_KEY}:`).toString('base64')}`);
    assert.is(request?.writeKey, WRITE_KEY);
  });
});

wire('several events go out at once, one result each, in order', async () => {
  await withSink(async ({ segment, sink }) => {
    const ids = ['m-1', 'm-2', 'm-3'];
    const results = await sink.send(ids.map((messageId) => track({ messageId })));
    assert.equal(results.map((r) => [r.messageId, r.ok]), ids.map((id) => [id, true]));
    assert.equal([...segment.messageIds()], ids);
    assert.is(segment.requests().length, 1, 'one batch request, sent at once rather than after flushInterval');
  });
});

wire.run();

// ---
const lanes = suite('SegmentEventSink: concurrent sends');

/**
 * A sink whose request carrying messageId `first` is held (not sent) until `release()`; the
 * others go straight to the stand-in. `requests()` counts the requests the library made so far.
 */
async function withHeldFirstRequest(options: { lanes: number }, run: (ctx: { sink: SegmentEventSink; release: () => void; requests: () => number }) => Promise<void>): Promise<void> {
  const segment = await SegmentStandin.start({ writeKeys: [WRITE_KEY] });
  let requests = 0;
  let release = (): void => undefined;
  const held = new Promise<void>((resolve) => (release = resolve));
  const fetchFn: HTTPFetchFn = async (url, init) => {
    requests += 1;
    if (init.body.includes('"messageId":"first"')) await held;
    return fetch(url, init);
  };
  const sink = new SegmentEventSink({ writeKey: WRITE_KEY, host: segment.url, flushAt: 50, flushIntervalMs: 10_000, httpRequestTimeoutMs: 5_000, lanes: options.lanes, fetch: fetchFn });
  try {
    await run({ sink, release, requests: () => requests });
  } finally {
    release();
    await sink.close(1_000);
    await segment.close();
  }
}

lanes('a send does not wait for another one still waiting on Segment', async () => {
  await withHeldFirstRequest({ lanes: 2 }, async ({ sink, release }) => {
    const first = sink.send([track({ messageId: 'first' })]);
    const second = await sink.send([track({ messageId: 'second' })]);
    assert.equal(second, [{ messageId: 'second', ok: true }], 'settled while the first request is still held');
    release();
    assert.equal(await first, [{ messageId: 'first', ok: true }]);
  });
});

lanes('with one lane, sends go one after another (more sends than lanes wait for a free one)', async () => {
  await withHeldFirstRequest({ lanes: 1 }, async ({ sink, release, requests }) => {
    let secondDone = false;
    const first = sink.send([track({ messageId: 'first' })]);
    const second = sink.send([track({ messageId: 'second' })]).then((results) => ((secondDone = true), results));
    while (requests() === 0) await new Promise((resolve) => setTimeout(resolve, 5));
    // Give a second lane (if there were one) time to send; with one lane nothing may happen.
    await new Promise((resolve) => setTimeout(resolve, 50));
    assert.equal([requests(), secondDone], [1, false], 'the second send waits for the lane');
    release();
    assert.equal((await Promise.all([first, second])).flat().map((result) => result.ok), [true, true]);
    assert.is(requests(), 2);
  });
});

lanes('concurrent sends of many events: every event one result, each delivered once', async () => {
  await withSink(async ({ segment, sink }) => {
    const sends = [0, 1, 2, 3, 4, 5].map((send) => sink.send(Array.from({ length: 40 }, (_, i) => track({ messageId: `s${send}-${i}` }))));
    const results = (await Promise.all(sends)).flat();
    assert.is(results.length, 240);
    assert.ok(results.every((result) => result.ok));
    assert.is(segment.events().length, 240);
    assert.is(segment.messageIds().size, 240);
  }, { lanes: 4 });
});

lanes.run();

// ---
const client = suite('KeepAliveHttpClient: the sink\'s HTTP client');

/** A server answering 429 + Retry-After and echoing the body length; counts connections; `hang` never answers. */
async function withServer<T>(run: (ctx: { url: string; connections: () => number }) => Promise<T>): Promise<T> {
  let connections = 0;
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      if (req.url === '/hang') return;
      res.writeHead(429, 'Too Many Requests', { 'Retry-After': '7', 'content-type': 'application/json' });
      res.end(JSON.stringify({ method: req.method, bytes: Buffer.concat(chunks).length, auth: req.headers.authorization }));
    });
  });
  server.on('connection', () => (connections += 1));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  try {
    return await run({ url: `http://127.0.0.1:${port}`, connections: () => connections });
  } finally {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  }
}

client('posts the body with the headers; answers status, text, headers and body; reuses one connection', async () => {
  const http = new KeepAliveHttpClient();
  try {
    await withServer(async ({ url, connections }) => {
      for (let i = 0; i < 3; i += 1) {
        const response = await http.makeRequest({ url: `${url}/v1/batch`, method: 'POST', headers: { authorization: 'Basic eA==' }, body: '{"batch":["é"]}', httpRequestTimeout: 2_000 });
        assert.equal([response.status, response.statusText], [429, 'Too Many Requests']);
        assert.is((response.headers as Record<string, string>)['retry-after'], '7');
        assert.equal(JSON.parse((await response.text?.()) ?? ''), { method: 'POST', bytes: 16, auth: 'Basic eA==' });
      }
      assert.is(connections(), 1, 'keep-alive: one connection for sequential requests');
    });
  } finally {
    http.close();
  }
});

client('no answer within the timeout: a TimeoutError; refused: the socket error code as the cause', async () => {
  const http = new KeepAliveHttpClient();
  try {
    await withServer(async ({ url }) => {
      const hung = await http.makeRequest({ url: `${url}/hang`, method: 'POST', headers: {}, body: '{}', httpRequestTimeout: 100 }).catch((error: unknown) => error);
      assert.instance(hung, Error);
      assert.is((hung as Error).name, 'TimeoutError');
    });
    const refused = await http.makeRequest({ url: 'http://127.0.0.1:9/v1/batch', method: 'POST', headers: {}, body: '{}', httpRequestTimeout: 2_000 }).catch((error: unknown) => error);
    assert.instance(refused, Error);
    assert.is(((refused as Error).cause as { code?: string } | undefined)?.code, 'ECONNREFUSED');
  } finally {
    http.close();
  }
});

client.run();

// ---
const failures = suite('SegmentEventSink: failures are per-event values with the real status');

failures('wrong write key: 401 with the library reason, nothing recorded by Segment', async () => {
  await withSink(
    async ({ segment, sink }) => {
      const result = failure((await sink.send([track()]))[0]);
      assert.is(result.status, 401);
      assert.is(result.reason, '[401] Unauthorized');
      assert.not.match(result.reason, 'wrong-key');
      assert.is(segment.events().length, 0);
    },
    { writeKey: 'wrong-key' },
  );
});

failures('500: status reported after one attempt (the outbox retries, not the library)', async () => {
  await withSink(async ({ segment, sink }) => {
    segment.failNext(1, 500);
    const result = failure((await sink.send([track()]))[0]);
    assert.is(result.status, 500);
    assert.is(segment.requests().length, 1);
  });
});

failures('429 with Retry-After: status and seconds reported, no in-library wait', async () => {
  await withSink(async ({ segment, sink }) => {
    segment.failNext(1, 429, { 'Retry-After': '120' });
    const started = Date.now();
    const result = failure((await sink.send([track()]))[0]);
    assert.is(result.status, 429);
    assert.is(result.retryAfterSec, 120);
    assert.ok(Date.now() - started < 5_000, 'analytics-node must not sleep on Retry-After itself');
    assert.is(segment.requests().length, 1);
  });
});

failures('no answer: network error after the request timeout', async () => {
  await withSink(
    async ({ segment, sink }) => {
      segment.hangNext(1);
      const result = failure((await sink.send([track()]))[0]);
      assert.is(result.networkError, true);
      assert.is(result.status, undefined);
      assert.match(result.reason, 'no answer within 150 ms');
    },
    { timeoutMs: 150 },
  );
});

failures('connection dropped: network error', async () => {
  await withSink(async ({ segment, sink }) => {
    segment.setDown(true);
    const result = failure((await sink.send([track()]))[0]);
    assert.is(result.networkError, true);
    assert.match(result.reason, 'network');
  });
});

failures('missing userId: a failed (permanent) result, no throw, neighbours still sent', async () => {
  await withSink(async ({ segment, sink }) => {
    const results = await sink.send([track({ messageId: 'bad', userId: '' }), track({ messageId: 'good' })]);
    const bad = failure(results[0]);
    assert.is(bad.status, undefined);
    assert.is(bad.networkError, undefined);
    assert.match(bad.reason, 'userId');
    assert.equal(results[1], { messageId: 'good', ok: true });
    assert.equal([...segment.messageIds()], ['good']);
  });
});

failures('an event over 32 KB: refused before sending (permanent), its neighbours still sent', async () => {
  await withSink(async ({ segment, sink }) => {
    const results = await sink.send([track({ messageId: 'huge', properties: { flow_id: 'f', blob: 'x'.repeat(40 * 1024) } }), track({ messageId: 'small' })]);
    const huge = failure(results[0]);
    assert.is(huge.networkError, undefined);
    assert.match(huge.reason, '32 KB');
    assert.equal(results[1], { messageId: 'small', ok: true });
    assert.equal([...segment.messageIds()], ['small']);
  });
});

failures('after close: retryable failure, never a hang', async () => {
  await withSink(async ({ sink }) => {
    await sink.close(100);
    const result = failure((await sink.send([track()]))[0]);
    assert.is(result.networkError, true);
  });
});

failures.run();

// ---
const standin = suite('SegmentStandin: behaves like the tracking API');

async function post(url: string, body: unknown, headers: Record<string, string> = {}): Promise<number> {
  const response = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: typeof body === 'string' ? body : JSON.stringify(body) });
  await response.text();
  return response.status;
}

standin('single form with the write key in the body; wrong key 401; oversized 400; bad JSON 400', async () => {
  const segment = await SegmentStandin.start({ writeKeys: [WRITE_KEY] });
  try {
    assert.is(await post(`${segment.url}/v1/track`, { writeKey: WRITE_KEY, userId: 'u', event: 'E', messageId: 'x1' }), 200);
    assert.is(await post(`${segment.url}/v1/track`, { writeKey: 'nope', userId: 'u', event: 'E', messageId: 'x2' }), 401);
    const big = { writeKey: WRITE_KEY, batch: [{ type: 'track', messageId: 'x3', properties: { blob: 'x'.repeat(33 * 1024) } }] };
    assert.is(await post(`${segment.url}/v1/batch`, big), 400);
    const many = { writeKey: WRITE_KEY, batch: Array.from({ length: 20 }, (_, i) => ({ type: 'track', messageId: `b${i}`, properties: { blob: 'x'.repeat(30 * 1024) } })) };
    assert.is(await post(`${segment.url}/v1/batch`, many), 400);
    assert.is(await post(`${segment.url}/v1/batch`, '{not json'), 400);
    assert.equal(segment.events().map((event) => [event.type, event.messageId]), [['track', 'x1']]);
    assert.equal(segment.requests().map((request) => request.status), [200, 401, 400, 400, 400]);
  } finally {
    await segment.close();
  }
});

standin('failNext answers the programmed status and headers, then recovers; setWriteKeys rotates keys', async () => {
  const segment = await SegmentStandin.start({ writeKeys: [WRITE_KEY] });
  try {
    segment.failNext(1, 503, { 'Retry-After': '3' });
    const response = await fetch(`${segment.url}/v1/batch`, { method: 'POST', body: JSON.stringify({ writeKey: WRITE_KEY, batch: [] }) });
    assert.equal([response.status, response.headers.get('retry-after')], [503, '3']);
    await response.text();
    const basic = { authorization: `Basic ${Buffer.from(`${WRITE_KEY}:`).toString('base64')}` };
    assert.is(await post(`${segment.url}/v1/batch`, { batch: [{ type: 'track', messageId: 'ok' }] }, basic), 200);
    segment.setWriteKeys(['rotated']);
    assert.is(await post(`${segment.url}/v1/batch`, { batch: [] }, basic), 401);
    assert.equal((await segment.waitFor(1, 100)).map((event) => event.messageId), ['ok']);
  } finally {
    await segment.close();
  }
});

standin.run();
