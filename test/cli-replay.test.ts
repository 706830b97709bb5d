import { readFileSync } from 'node:fs';
import path from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { summarizeReplay, type ReplayFixture, type ReplayResponse } from '../src/cli/replay.ts';
import { testConfig, TEST_SECRETS } from './support/config.ts';
import { startTestInstance, type TestInstance } from './support/instance.ts';
import { environmentFile, makeProject, parseJsonOutput, REPO_ROOT, runCli } from './support/cli.ts';

const FIXTURES = path.join(REPO_ROOT, 'fixtures', 'segment');
const STAGING_ENV = {
  SEGMENT_SHARED_SECRET_STAGING: TEST_SECRETS.sharedSecret,
  BRIDGE_API_KEY_STAGING: TEST_SECRETS.apiKey,
  SEGMENT_WRITE_KEY_STAGING: TEST_SECRETS.writeKey,
};

function fixture(items: unknown[], single = false): ReplayFixture {
  return { file: 'f.json', payload: single ? items[0] : items, items, single };
}

function answer(options: { fixture: ReplayFixture; status?: number; json: unknown }): ReplayResponse {
  return { fixture: options.fixture, status: options.status ?? 200, json: options.json };
}

const track = { type: 'track', event: 'E', userId: 'u' };
const identify = { type: 'identify', userId: 'u' };

// ---
const summary = suite('summarizeReplay: per-type outcomes from per-request answers');

summary('a single message: its outcome goes to its type', () => {
  const result = summarizeReplay({
    environment: 'staging',
    target: 'in-process',
    responses: [answer({ fixture: fixture([identify], true), json: { accepted: 0, duplicates: 0, ignored: 1, rejected: [] } })],
  });
  assert.equal(result.byType['identify'], { sent: 1, accepted: 0, duplicates: 0, ignored: 1, rejected: 0, failed: 0 });
  assert.equal(result.requests, { total: 1, ok: 1, failed: 0 });
});

summary('an array: rejected items by index, the rest by type when their outcome is unambiguous', () => {
  const result = summarizeReplay({
    environment: 'staging',
    target: 'x',
    responses: [answer({ fixture: fixture([track, identify, track]), json: { accepted: 2, duplicates: 0, ignored: 0, rejected: [{ index: 1, messageId: 'm2', errors: [{ path: '/userId' }] }] } })],
  });
  assert.equal(result.byType['track'], { sent: 2, accepted: 2, duplicates: 0, ignored: 0, rejected: 0, failed: 0 });
  assert.equal(result.byType['identify'], { sent: 1, accepted: 0, duplicates: 0, ignored: 0, rejected: 1, failed: 0 });
  assert.equal(result.rejected, [{ file: 'f.json', index: 1, messageId: 'm2', errors: [{ path: '/userId' }] }]);
  assert.equal(result.unattributed, { accepted: 0, duplicates: 0, ignored: 0 });
});

summary('an array with mixed outcomes: counted as unattributed, never guessed; totals stay exact', () => {
  const result = summarizeReplay({
    environment: 'staging',
    target: 'x',
    responses: [answer({ fixture: fixture([track, identify, track]), json: { accepted: 1, duplicates: 2, ignored: 0, rejected: [] } })],
  });
  assert.equal(result.byType['track'], { sent: 2, accepted: 0, duplicates: 0, ignored: 0, rejected: 0, failed: 0 });
  assert.equal(result.unattributed, { accepted: 1, duplicates: 2, ignored: 0 });
  assert.equal(result.totals, { sent: 3, accepted: 1, duplicates: 2, ignored: 0, rejected: 0, failed: 0 });
});

summary('non-2xx: a single invalid message (400) is rejected, anything else failed; both count as failed requests', () => {
  const result = summarizeReplay({
    environment: 'staging',
    target: 'x',
    responses: [
      answer({ fixture: fixture([identify], true), status: 400, json: { error: 'invalid_message', message: 'bad', details: [{ path: '/userId' }] } }),
      answer({ fixture: fixture([track, track]), status: 401, json: { error: 'bad_signature', message: 'bad signature' } }),
    ],
  });
  assert.is(result.byType['identify']?.rejected, 1);
  assert.is(result.byType['track']?.failed, 2);
  assert.equal(result.requests, { total: 2, ok: 0, failed: 2 });
  assert.equal(result.failures.map((failure) => failure.status), [400, 401]);
});

summary.run();

// ---
const inProcess = suite('cli replay: in-process instance');

inProcess('signs every fixture like Segment, starts and stops its own instance, prints the JSON summary', async () => {
  const cwd = makeProject({ environments: { staging: environmentFile('staging') } });
  const result = await runCli({ args: ['replay', FIXTURES, '--env', 'staging', '--data-dir', 'data/replay', '--json'], cwd, env: STAGING_ENV });
  assert.is(result.code, 0, result.stdout + result.stderr);
  const report = parseJsonOutput(result);
  assert.is(report['target'], 'in-process');
  assert.equal(report['requests'], { total: 8, ok: 8, failed: 0 });
  const totals = report['totals'] as Record<string, number>;
  assert.is(totals['sent'], 11);
  assert.is(totals['rejected'], 0);
  assert.is(totals['duplicates'], 0, 'a fresh store has seen none of them');
  assert.is(totals['accepted'], 11, 'every fixture is accepted: the story replays in order');
  const byType = report['byType'] as Record<string, Record<string, number>>;
  assert.equal(Object.fromEntries(Object.entries(byType).map(([type, counts]) => [type, counts['sent']])), {
    alias: 1, track: 4, page: 2, identify: 2, group: 1, screen: 1,
  });
  // Under --json, progress lines go to stderr so stdout stays one JSON document.
  assert.match(result.stderr, '[1/8] alias.json 200');
  assert.match(result.stderr, '[8/8] track.json 200');
  // The in-process instance wrote to the --data-dir store and released it on exit.
  const reopened = await startTestInstance(await testConfig({ dataDir: path.join(cwd, 'data', 'replay') }));
  try {
    const status = await reopened.api('/v1/status');
    assert.is((status.json['counts'] as Record<string, unknown>)['users'], 1, 'the fixture user was stored there');
    const profile = await reopened.api('/v1/users/user_8c1f2a');
    assert.is(profile.status, 200);
  } finally {
    await reopened.close();
  }
});

inProcess.run();

// ---
const remote = suite('cli replay --url: a running instance');

let instance: TestInstance;
let cwd: string;

remote.before(async () => {
  cwd = makeProject({ environments: { staging: environmentFile('staging') } });
  instance = await startTestInstance(await testConfig({ dataDir: path.join(cwd, 'data', 'staging') }));
  // batch.json was already delivered once: replaying it must count its items as duplicates.
  const batch = JSON.parse(readFileSync(path.join(FIXTURES, 'batch.json'), 'utf8')) as unknown[];
  const first = await instance.postSegment(batch);
  assert.is(first.json['accepted'], 4);
});

remote.after(async () => {
  await instance.close();
});

remote('prints plain progress lines and a per-type table; duplicates are attributed to their types', async () => {
  const result = await runCli({ args: ['replay', FIXTURES, '--env', 'staging', '--url', instance.url], cwd, env: STAGING_ENV });
  assert.is(result.code, 0, result.stdout + result.stderr);
  assert.match(result.stdout, '[3/8] batch.json 200\n');
  assert.match(result.stdout, `replayed 8 request(s) to staging (${instance.url}): 8 answered 2xx, 0 failed`);
  assert.match(result.stdout, /^TYPE\s+SENT\s+ACCEPTED\s+DUPLICATES\s+IGNORED\s+REJECTED\s+FAILED$/m);
  // batch.json: track x2, page, identify, all duplicates now.
  assert.match(result.stdout, /^track\s+4\s+\d+\s+2\s+\d+\s+0\s+0$/m);
  assert.match(result.stdout, /^page\s+2\s+\d+\s+1\s+\d+\s+0\s+0$/m);
  assert.match(result.stdout, /^total\s+11\s+\d+\s+4\s+\d+\s+0\s+0$/m);
});

remote('exits 1 when a request fails (a wrong shared secret: 401), and says which', async () => {
  const result = await runCli({
    args: ['replay', path.join(FIXTURES, 'track.json'), '--env', 'staging', '--url', instance.url],
    cwd,
    env: { ...STAGING_ENV, SEGMENT_SHARED_SECRET_STAGING: 'not-the-instance-secret-0123456789' },
  });
  assert.is(result.code, 1, result.stdout + result.stderr);
  assert.match(result.stdout, '[1/1] track.json 401');
  assert.match(result.stdout, /FAILED .*track\.json: 401 bad signature/);
  assert.not.match(result.stdout, 'not-the-instance-secret');
});

remote.run();
