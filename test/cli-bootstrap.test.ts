import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { testConfig, TEST_SECRETS } from './support/config.ts';
import { startTestInstance, type TestInstance } from './support/instance.ts';
import { SegmentStandin } from './support/segment-standin.ts';
import { environmentFile, makeProject, parseJsonOutput, runCli, writeEnvironment } from './support/cli.ts';

const STAGING_ENV = {
  SEGMENT_SHARED_SECRET_STAGING: TEST_SECRETS.sharedSecret,
  BRIDGE_API_KEY_STAGING: TEST_SECRETS.apiKey,
  SEGMENT_WRITE_KEY_STAGING: TEST_SECRETS.writeKey,
};
const PRODUCTION_SECRETS = {
  sharedSecret: 'production-shared-secret-0123456789',
  apiKey: 'production-api-key-0123456789abcdef',
  writeKey: 'production-write-key',
};
const PRODUCTION_ENV = {
  SEGMENT_SHARED_SECRET_PRODUCTION: PRODUCTION_SECRETS.sharedSecret,
  BRIDGE_API_KEY_PRODUCTION: PRODUCTION_SECRETS.apiKey,
  SEGMENT_WRITE_KEY_PRODUCTION: PRODUCTION_SECRETS.writeKey,
};
const ALL_ENV = { ...STAGING_ENV, ...PRODUCTION_ENV };
const CHECKS = [
  'config valid',
  'secrets present',
  'store writable',
  'write key accepted by Segment',
  'instance answers',
  'signed test message round-trips',
  'loop guard holds',
];

// ---
const config = suite('cli bootstrap: config errors');

config('an invalid environment file fails the first check, lists every problem, skips the rest, exit 2', async () => {
  const cwd = makeProject({ environments: { staging: { name: 'staging', port: 'x', publicUrl: 'ftp://nope', sgment: {} } } });
  const result = await runCli({ args: ['bootstrap', 'staging'], cwd, env: STAGING_ENV });
  assert.is(result.code, 2, result.stdout + result.stderr);
  assert.match(result.stdout, /^FAIL config valid: environments\/staging\.json is invalid \(3 problems\) — fix: /m);
  assert.match(result.stdout, 'environments/staging.json#/port: must be integer');
  assert.match(result.stdout, 'environments/staging.json#/publicUrl: must be an http:// or https:// URL');
  assert.match(result.stdout, 'environments/staging.json#/sgment: unknown setting "sgment" (did you mean "segment"?)');
  for (const name of CHECKS.slice(1)) assert.match(result.stdout, `skip ${name}\n`);
  assert.match(result.stdout, 'staging is NOT verified');
  assert.not.ok(existsSync(path.join(cwd, 'data', 'staging', 'verified.json')));
});

config.run();

// ---
const gate = suite('cli bootstrap production: staging first');

gate('refuses with exit 2 and says what to run while staging has no verification marker', async () => {
  const cwd = makeProject({ environments: { staging: environmentFile('staging'), production: environmentFile('production') } });
  const result = await runCli({ args: ['bootstrap', 'production'], cwd, env: ALL_ENV });
  assert.is(result.code, 2, result.stdout + result.stderr);
  assert.match(result.stderr, 'bootstrap production refused: production is bootstrapped only after staging is verified');
  assert.match(result.stderr, 'no verification marker');
  assert.match(result.stderr, 'npm run bridge -- bootstrap staging');
  assert.not.match(result.stdout, 'ok   config valid', 'no check ran');
});

gate.run();

// ---
const full = suite('cli bootstrap: staging end to end, then production gets past the gate');

let segment: SegmentStandin;
let staging: TestInstance;
let production: TestInstance;
let cwd: string;

full.before(async () => {
  segment = await SegmentStandin.start({ writeKeys: [TEST_SECRETS.writeKey, PRODUCTION_SECRETS.writeKey] });
  cwd = makeProject();
  staging = await startTestInstance(await testConfig({ dataDir: path.join(cwd, 'data', 'staging') }));
  production = await startTestInstance(await testConfig({
    name: 'production',
    isProduction: true,
    dataDir: path.join(cwd, 'data', 'production'),
    secrets: PRODUCTION_SECRETS,
  }));
  // publicUrl points at the staging instance; production is reached through --url.
  writeEnvironment({ dir: cwd, name: 'staging', content: environmentFile('staging', { publicUrl: staging.url }) });
  writeEnvironment({ dir: cwd, name: 'production', content: environmentFile('production') });
});

full.after(async () => {
  await staging.close();
  await production.close();
  await segment.close();
});

full('bootstrap staging: every check ok, in order, and the marker is written', async () => {
  const result = await runCli({ args: ['bootstrap', 'staging', '--segment-host', segment.url], cwd, env: STAGING_ENV });
  assert.is(result.code, 0, result.stdout + result.stderr);
  const okLines = result.stdout.split('\n').filter((line) => line.startsWith('ok   ')).map((line) => line.slice(5).replace(/ \(.*$/, ''));
  assert.equal(okLines, CHECKS);
  assert.match(result.stdout, "note: Segment's API may answer 200 even for an unknown write key");
  assert.not.match(result.stdout + result.stderr, TEST_SECRETS.sharedSecret);
  assert.not.match(result.stdout + result.stderr, TEST_SECRETS.writeKey);

  // The write-key check really called Segment's API with Basic auth and the loop marker.
  const verification = segment.events().find((event) => event['event'] === 'Segment Bridge Verification');
  assert.ok(verification, 'the test call reached the stand-in');
  assert.equal((verification['context'] as Record<string, unknown>)['segmentBridge'], { origin: 'segment-bridge', environment: 'staging' });
  assert.equal(segment.requests().map((request) => request.writeKey), [TEST_SECRETS.writeKey]);

  // The round trip cleaned up after itself; the loop check left nothing.
  assert.is((await staging.api('/v1/users/segment-bridge-check-staging')).status, 404);
  assert.is((await staging.api('/v1/users/segment-bridge-loop-check-staging')).status, 404);

  const marker = JSON.parse(readFileSync(path.join(cwd, 'data', 'staging', 'verified.json'), 'utf8')) as Record<string, unknown>;
  assert.is(marker['environment'], 'staging');
  assert.ok(!Number.isNaN(Date.parse(String(marker['verifiedAt']))));
  assert.equal((marker['checks'] as Array<{ name: string }>).map((check) => check.name), CHECKS);
  assert.match(result.stdout, 'staging is verified; marker written to');
});

full('bootstrap staging again succeeds (the cleanup tombstone does not block the next run)', async () => {
  const result = await runCli({ args: ['bootstrap', 'staging', '--segment-host', segment.url, '--json'], cwd, env: STAGING_ENV });
  assert.is(result.code, 0, result.stdout + result.stderr);
  const report = parseJsonOutput(result);
  assert.is(report['ok'], true);
  assert.equal((report['checks'] as Array<{ status: string }>).map((check) => check.status), CHECKS.map(() => 'ok'));
});

full('bootstrap production gets past the gate once staging is verified; a rejected write key fails its check (exit 1)', async () => {
  segment.setWriteKeys([TEST_SECRETS.writeKey]);
  const rejected = await runCli({ args: ['bootstrap', 'production', '--url', production.url, '--segment-host', segment.url], cwd, env: ALL_ENV });
  assert.is(rejected.code, 1, rejected.stdout + rejected.stderr);
  assert.match(rejected.stdout, 'ok   config valid');
  assert.match(rejected.stdout, 'ok   store writable');
  assert.match(rejected.stdout, /^FAIL write key accepted by Segment: write key rejected \(.* answered 401\) — fix: .*SEGMENT_WRITE_KEY_PRODUCTION/m);
  assert.match(rejected.stdout, 'skip instance answers\nskip signed test message round-trips\nskip loop guard holds\n');
  assert.not.ok(existsSync(path.join(cwd, 'data', 'production', 'verified.json')));

  segment.setWriteKeys([TEST_SECRETS.writeKey, PRODUCTION_SECRETS.writeKey]);
  const verified = await runCli({ args: ['bootstrap', 'production', '--url', production.url, '--segment-host', segment.url, '--json'], cwd, env: ALL_ENV });
  assert.is(verified.code, 0, verified.stdout + verified.stderr);
  const report = parseJsonOutput(verified);
  assert.is(report['environment'], 'production');
  assert.is((report['marker'] as Record<string, unknown>)['environment'], 'production');
  assert.ok(existsSync(path.join(cwd, 'data', 'production', 'verified.json')));
});

full.run();
