import path from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { formatProfile, formatStatus } from '../src/cli/read-commands.ts';
import { testConfig, TEST_SECRETS } from './support/config.ts';
import { startTestInstance, type TestInstance } from './support/instance.ts';
import { SegmentStandin } from './support/segment-standin.ts';
import { closedPort, environmentFile, makeProject, parseJsonOutput, runCli, writeEnvironment } from './support/cli.ts';

const STAGING_ENV = {
  SEGMENT_SHARED_SECRET_STAGING: TEST_SECRETS.sharedSecret,
  BRIDGE_API_KEY_STAGING: TEST_SECRETS.apiKey,
  SEGMENT_WRITE_KEY_STAGING: TEST_SECRETS.writeKey,
};

async function waitFor<T>(probe: () => Promise<T | undefined>, what: string, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

// ---
const format = suite('formatStatus');

format('says plainly that events stay queued when no write key is set, and what to run when unverified', () => {
  const text = formatStatus({
    environment: 'staging',
    production: false,
    verified: null,
    auth: { sharedSecret: true, apiKey: true, writeKey: false },
    counts: { users: 3, anonymous: 1, tombstones: 0, rejections: 2, triggerRuns: 0 },
    outbox: { pending: 5, dead: 0, delivered: 0, sinkConfigured: false, oldestPendingAt: '2025-01-01T00:00:00.000Z' },
    deliveries: { pending: 0, failed: 1, delivered: 0, lastError: { deliveryId: 'd1', reason: 'HTTP 404', at: '2025-01-01T00:00:01.000Z' } },
    uptimeSec: 12,
  });
  assert.match(text, /^outbox:\s+5 queued \(no write key set: events stay queued\), 0 dead, 0 delivered$/m);
  assert.match(text, /^verified:\s+no: run `npm run bridge -- bootstrap staging`$/m);
  assert.match(text, /^secrets:\s+shared secret set, API key set, write key missing$/m);
  assert.match(text, /^ {2}last error:\s+HTTP 404 \(at 2025-01-01T00:00:01.000Z\)$/m);
  assert.match(text, /^rejections:\s+2$/m);
});

format('a configured sink does not claim events are stuck', () => {
  const text = formatStatus({ environment: 'production', production: true, verified: { verifiedAt: 'T' }, outbox: { pending: 2, dead: 1, delivered: 9, sinkConfigured: true } });
  assert.match(text, /^outbox:\s+2 queued, 1 dead, 9 delivered$/m);
  assert.match(text, /^environment:\s+production \(production\)$/m);
  assert.match(text, /^verified:\s+T$/m);
});

format.run();

// ---
const read = suite('cli read commands against a running instance');

let segment: SegmentStandin;
let instance: TestInstance;
let cwd: string;
let deadMessageId: string;
let failedDeliveryId: string;

read.before(async () => {
  // Segment refuses the instance's write key: flow events go to dead letters at once.
  segment = await SegmentStandin.start({ writeKeys: ['some-other-write-key'] });
  cwd = makeProject();
  instance = await startTestInstance(await testConfig({
    dataDir: path.join(cwd, 'data', 'staging'),
    segment: { region: 'us', host: segment.url, flushAt: 1, flushIntervalMs: 10 },
    triggers: [{
      id: 'hook-on-signup',
      event: 'Signed Up',
      source: 'any',
      where: {},
      flow: { id: 'onboarding', url: 'https://app.example.com/f?u={userId}' },
      frequency: undefined,
      // The stand-in answers 404 on this path: a permanent failure.
      webhook: { url: `${segment.url}/hook`, secretEnv: 'HOOK_SECRET' },
    }],
    secrets: { webhookSecrets: { HOOK_SECRET: 'hook-secret-0123456789abcdef' } },
  }));
  // publicUrl = the instance, so the commands need no --url.
  writeEnvironment({ dir: cwd, name: 'staging', content: environmentFile('staging', { publicUrl: instance.url }) });
  const identify = await instance.postSegment({ type: 'identify', userId: 'user-1', messageId: 'm-identify', timestamp: '2025-03-01T00:00:00.000Z', traits: { plan: 'pro' } });
  assert.is(identify.status, 200);
  const signup = await instance.postSegment({ type: 'track', event: 'Signed Up', userId: 'user-1', messageId: 'm-signup', timestamp: '2025-03-01T00:00:01.000Z', properties: {} });
  assert.is(signup.json['accepted'], 1);
  const queued = await instance.api('/v1/flow-events', { body: { event: 'Flow Completed', userId: 'user-1', properties: { flow_id: 'onboarding' } } });
  assert.is(queued.status, 202);
  deadMessageId = await waitFor(async () => {
    const { json } = await instance.api('/v1/outbox?status=dead');
    return (json['entries'] as Array<{ messageId: string }> | undefined)?.[0]?.messageId;
  }, 'a dead outbox entry');
  failedDeliveryId = await waitFor(async () => {
    const { json } = await instance.api('/v1/deliveries?status=failed');
    return (json['deliveries'] as Array<{ id: string }> | undefined)?.[0]?.id;
  }, 'a failed delivery');
});

read.after(async () => {
  await instance.close();
  await segment.close();
});

read('status, users show, outbox list and deliveries list print what the API returns (--json) or a table', async () => {
  const [statusJson, statusText, user, missing, outboxText, deliveriesJson] = await Promise.all([
    runCli({ args: ['status', '--env', 'staging', '--json'], cwd, env: STAGING_ENV }),
    runCli({ args: ['status', '--env', 'staging'], cwd, env: STAGING_ENV }),
    runCli({ args: ['users', 'show', 'user-1', '--env', 'staging', '--json'], cwd, env: STAGING_ENV }),
    runCli({ args: ['users', 'show', 'nobody', '--env', 'staging'], cwd, env: STAGING_ENV }),
    runCli({ args: ['outbox', 'list', '--env', 'staging', '--status', 'dead'], cwd, env: STAGING_ENV }),
    runCli({ args: ['deliveries', 'list', '--env', 'staging', '--json'], cwd, env: STAGING_ENV }),
  ]);

  assert.is(statusJson.code, 0, statusJson.stderr);
  const status = parseJsonOutput(statusJson);
  assert.is(status['environment'], 'staging');
  assert.equal(status['counts'], (await instance.api('/v1/status')).json['counts']);
  assert.is((status['outbox'] as Record<string, unknown>)['dead'], 1);

  assert.is(statusText.code, 0, statusText.stderr);
  assert.match(statusText.stdout, /^outbox:\s+0 queued, 1 dead, /m);
  assert.match(statusText.stdout, /^deliveries:\s+0 pending, 1 failed, 0 delivered$/m);
  assert.match(statusText.stdout, /^users:\s+1 /m);

  assert.is(user.code, 0, user.stderr);
  assert.equal(parseJsonOutput(user), (await instance.api('/v1/users/user-1')).json);

  assert.is(missing.code, 1);
  assert.match(missing.stderr, 'no such user: "nobody" in staging');

  assert.is(outboxText.code, 0, outboxText.stderr);
  assert.match(outboxText.stdout, /^MESSAGEID\s+EVENT\s+USERID\s+STATUS\s+ATTEMPTS/m);
  assert.match(outboxText.stdout, new RegExp(`^${deadMessageId}\\s+Flow Completed\\s+user-1\\s+dead\\s+1\\s`, 'm'));

  assert.is(deliveriesJson.code, 0, deliveriesJson.stderr);
  const deliveries = parseJsonOutput(deliveriesJson)['deliveries'] as Array<Record<string, unknown>>;
  assert.equal(deliveries.map((delivery) => [delivery['id'], delivery['status']]), [[failedDeliveryId, 'failed']]);
  assert.not.match(JSON.stringify([statusJson, statusText, user, outboxText, deliveriesJson]), TEST_SECRETS.apiKey);
});

read('users show without --json: the profile as aligned pairs, traits and recent events', async () => {
  const text = formatProfile((await instance.api('/v1/users/user-1')).json);
  assert.match(text, /^userId:\s+user-1$/m);
  assert.match(text, /^events:\s+2 \(/m);
  assert.match(text, /^traits:\n {2}plan\s+pro$/m);
  assert.match(text, /^2025-03-01T00:00:01.000Z\s+track\s+Signed Up\s+m-signup$/m);
  assert.match(text, /^trigger runs:\s+1$/m);
});

read('outbox retry and deliveries retry re-queue through the API', async () => {
  const [outbox, deliveries] = await Promise.all([
    runCli({ args: ['outbox', 'retry', deadMessageId, '--env', 'staging', '--json'], cwd, env: STAGING_ENV }),
    runCli({ args: ['deliveries', 'retry', '--env', 'staging'], cwd, env: STAGING_ENV }),
  ]);
  assert.is(outbox.code, 0, outbox.stderr);
  assert.is(parseJsonOutput(outbox)['retried'], 1);
  assert.is(deliveries.code, 0, deliveries.stderr);
  assert.match(deliveries.stdout, 'retried 1 deliveries');
});

read('a wrong API key, a bad --status and an unreachable instance: exit 1, 2 and 1 with a hint', async () => {
  const port = await closedPort();
  const [wrongKey, badStatus, unreachable] = await Promise.all([
    runCli({ args: ['status', '--env', 'staging'], cwd, env: { ...STAGING_ENV, BRIDGE_API_KEY_STAGING: 'wrong-api-key-0123456789abcdef' } }),
    runCli({ args: ['outbox', 'list', '--env', 'staging', '--status', 'nope'], cwd, env: STAGING_ENV }),
    runCli({ args: ['status', '--env', 'staging', '--url', `http://127.0.0.1:${port}`], cwd, env: STAGING_ENV }),
  ]);
  assert.is(wrongKey.code, 1);
  assert.match(wrongKey.stderr, 'the instance answered 401');
  assert.match(wrongKey.stderr, 'check BRIDGE_API_KEY_STAGING');
  assert.not.match(wrongKey.stderr, 'wrong-api-key-0123456789abcdef');
  assert.is(badStatus.code, 2);
  assert.match(badStatus.stderr, '--status must be one of pending, dead');
  assert.is(unreachable.code, 1);
  assert.match(unreachable.stderr, `no instance answers at http://127.0.0.1:${port}: start it with \`npm run bridge -- serve --env staging\``);
});

read.run();
