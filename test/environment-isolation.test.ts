/**
 * Nothing crosses environments (SPEC §1): staging's credentials are refused by production,
 * a data directory belongs to one environment and one running instance, production does
 * not start without its secrets, and one secret value cannot serve two environments.
 * Instances are built from real environment files through the real loader; the CLI cases
 * run `serve` in a child process and check its exit code and output.
 */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { createHmac } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ConfigError } from '../src/errors.ts';
import { loadEnvironment } from '../src/config/load-environment.ts';
import type { EnvConfig } from '../src/config/types.ts';
import { silentLogger } from '../src/adapters/logger.ts';
import { startInstance, type Instance } from '../src/main.ts';
import { ChildInstance, runCliCommand, writeEnvironmentFile } from './support/child-instance.ts';
import { tempDir } from './support/config.ts';
import { buildTrack } from './support/build-message.ts';

const STAGING = {
  SEGMENT_SHARED_SECRET_STAGING: 'staging-shared-secret-7f3a9c21',
  BRIDGE_API_KEY_STAGING: 'staging-api-key-4be81d0c9e55',
  SEGMENT_WRITE_KEY_STAGING: 'staging-write-key-1',
} as const;
const PRODUCTION = {
  SEGMENT_SHARED_SECRET_PRODUCTION: 'production-shared-secret-c0ffee42',
  BRIDGE_API_KEY_PRODUCTION: 'production-api-key-9d7e6f5a4b3c',
  SEGMENT_WRITE_KEY_PRODUCTION: 'production-write-key-1',
} as const;
const ALL_VALUES = [...Object.values(STAGING), ...Object.values(PRODUCTION)];

/** A project dir with both environment files (port 0, Segment pointed nowhere). */
async function project(): Promise<{ root: string; files: Record<'staging' | 'production', string> }> {
  const root = await tempDir('sb-isolation-');
  const segment = { host: 'http://127.0.0.1:9' };
  const staging = await writeEnvironmentFile({ dir: root, settings: { name: 'staging', segment } });
  const production = await writeEnvironmentFile({ dir: root, settings: { name: 'production', publicUrl: 'https://bridge.example.com', segment } });
  return { root, files: { staging, production } };
}

function load(options: { root: string; file: string; env: 'staging' | 'production'; dataDir: string; processEnv?: Record<string, string> }): EnvConfig {
  return loadEnvironment({ env: options.env, cwd: options.root, configFile: options.file, overrides: { port: 0, dataDir: options.dataDir }, processEnv: options.processEnv ?? { ...STAGING, ...PRODUCTION } });
}

function start(config: EnvConfig): Promise<Instance> {
  return startInstance({ config, log: silentLogger(), port: 0 });
}

async function call(url: string, init: { method?: string; headers?: Record<string, string>; body?: string }): Promise<{ status: number; text: string }> {
  const response = await fetch(url, { method: init.method ?? (init.body === undefined ? 'GET' : 'POST'), headers: { 'content-type': 'application/json', ...init.headers }, body: init.body });
  return { status: response.status, text: await response.text() };
}

async function rejectsWithConfigError(promise: Promise<unknown>, pattern: RegExp): Promise<ConfigError> {
  try {
    await promise;
  } catch (error) {
    assert.instance(error, ConfigError);
    const text = `${(error as ConfigError).message} ${JSON.stringify((error as ConfigError).problems)}`;
    assert.match(text, pattern);
    for (const value of ALL_VALUES) assert.not.ok(text.includes(value), 'a secret value in a config error');
    return error as ConfigError;
  }
  assert.unreachable('expected a ConfigError');
  throw new Error('unreachable');
}

// ---
const credentials = suite('isolation: credentials do not cross environments');
let staging: Instance;
let production: Instance;
credentials.before(async () => {
  const { root, files } = await project();
  staging = await start(load({ root, file: files.staging, env: 'staging', dataDir: join(root, 'data', 'staging') }));
  production = await start(load({ root, file: files.production, env: 'production', dataDir: join(root, 'data', 'production') }));
});
credentials.after(async () => {
  await staging.close();
  await production.close();
});

credentials("staging's shared secret (X-Signature or bearer) is refused by production, and the reverse", async () => {
  const body = JSON.stringify(buildTrack({ userId: 'crossing-user' }));
  const sign = (secret: string) => createHmac('sha1', secret).update(body).digest('hex');
  const cases: Array<[Instance, string, string]> = [
    [production, STAGING.SEGMENT_SHARED_SECRET_STAGING, 'staging secret at production'],
    [staging, PRODUCTION.SEGMENT_SHARED_SECRET_PRODUCTION, 'production secret at staging'],
  ];
  for (const [instance, secret, what] of cases) {
    const signed = await call(`${instance.url}/v1/segment`, { body, headers: { 'x-signature': sign(secret) } });
    assert.is(signed.status, 401, what);
    const bearer = await call(`${instance.url}/v1/segment`, { body, headers: { authorization: `Bearer ${secret}` } });
    assert.is(bearer.status, 401, what);
    for (const value of ALL_VALUES) assert.not.ok(signed.text.includes(value) || bearer.text.includes(value));
  }
  assert.is(production.store.get('users', 'crossing-user'), undefined);
  // Control: each environment's own signature works.
  const own = await call(`${production.url}/v1/segment`, { body, headers: { 'x-signature': sign(PRODUCTION.SEGMENT_SHARED_SECRET_PRODUCTION) } });
  assert.is(own.status, 200);
});

credentials("staging's API key is refused by every production API route", async () => {
  const stagingKey = { authorization: `Bearer ${STAGING.BRIDGE_API_KEY_STAGING}` };
  const routes: Array<{ path: string; body?: string }> = [
    { path: '/v1/users/crossing-user' },
    { path: '/v1/status' },
    { path: '/v1/outbox' },
    { path: '/v1/deliveries' },
    { path: '/v1/flow-events', body: JSON.stringify({ event: 'Flow Viewed', userId: 'u', properties: { flow_id: 'f' } }) },
    { path: '/v1/events', body: JSON.stringify({ event: 'Plan Upgraded', userId: 'u', properties: {} }) },
  ];
  for (const route of routes) {
    const refused = await call(`${production.url}${route.path}`, { headers: stagingKey, ...(route.body ? { body: route.body } : {}) });
    assert.is(refused.status, 401, route.path);
    for (const value of ALL_VALUES) assert.not.ok(refused.text.includes(value));
  }
  assert.is(production.store.count('outbox'), 0);
  const own = await call(`${production.url}/v1/status`, { headers: { authorization: `Bearer ${PRODUCTION.BRIDGE_API_KEY_PRODUCTION}` } });
  assert.is(own.status, 200);
});

credentials.run();

// ---
const dataDirs = suite('isolation: a data directory has one environment and one owner');

dataDirs("production pointed at staging's data directory refuses to start, in-process and via `serve` (exit 2)", async () => {
  const { root, files } = await project();
  const dataDir = join(root, 'data', 'staging');
  const owner = await start(load({ root, file: files.staging, env: 'staging', dataDir }));
  await owner.close();
  await rejectsWithConfigError(start(load({ root, file: files.production, env: 'production', dataDir })), /belongs to environment "staging", not "production"/);
  const marker = JSON.parse(await readFile(join(dataDir, 'environment.json'), 'utf8')) as { environment: string };
  assert.is(marker.environment, 'staging', 'the marker is untouched');

  const cli = await runCliCommand({ args: ['serve', '--env', 'production', '--config', files.production, '--port', '0', '--data-dir', dataDir], vars: { ...PRODUCTION }, cwd: root });
  assert.is(cli.code, 2, cli.stderr);
  assert.match(cli.stderr, /belongs to environment "staging", not "production"/);
  assert.not.match(cli.stdout, /listening on/);
  for (const value of ALL_VALUES) assert.not.ok(cli.stderr.includes(value) || cli.stdout.includes(value));
  // Staging still owns it and starts.
  const again = await start(load({ root, file: files.staging, env: 'staging', dataDir }));
  await again.close();
});

dataDirs('two instances cannot own one data directory at once (same process, or another process)', async () => {
  const { root, files } = await project();
  const dataDir = join(root, 'data', 'staging');
  const first = await start(load({ root, file: files.staging, env: 'staging', dataDir }));
  await rejectsWithConfigError(start(load({ root, file: files.staging, env: 'staging', dataDir })), /in use by another instance/);
  const blocked = await runCliCommand({ args: ['serve', '--env', 'staging', '--config', files.staging, '--port', '0', '--data-dir', dataDir], vars: { ...STAGING }, cwd: root });
  assert.is(blocked.code, 2, blocked.stderr);
  assert.match(blocked.stderr, new RegExp(`in use by another running instance \\(pid ${process.pid}\\)`));
  // The refused attempts did not break the owner.
  assert.is((await call(`${first.url}/healthz`, {})).status, 200);
  await first.close();

  const child = await ChildInstance.start({ configFile: files.staging, dataDir, vars: { ...STAGING }, cwd: root });
  try {
    await rejectsWithConfigError(start(load({ root, file: files.staging, env: 'staging', dataDir })), new RegExp(`in use by another running instance \\(pid ${child.pid}\\)`));
  } finally {
    const exit = await child.stop();
    assert.is(exit.code, 0, `graceful stop: ${JSON.stringify(exit)} ${child.stderr()}`);
  }
  // Once released (graceful stop), the directory can be claimed again.
  const next = await start(load({ root, file: files.staging, env: 'staging', dataDir }));
  await next.close();
});

dataDirs.run();

// ---
const secrets = suite('isolation: secrets');

secrets('production without its secrets refuses to start: exit 2, every missing variable named, no value shown', async () => {
  const { root, files } = await project();
  const args = ['serve', '--env', 'production', '--config', files.production, '--port', '0', '--data-dir', join(root, 'data', 'production')];
  const none = await runCliCommand({ args, vars: { ...STAGING }, cwd: root });
  assert.is(none.code, 2, none.stderr);
  for (const name of Object.keys(PRODUCTION)) assert.match(none.stderr, name);
  assert.not.match(none.stdout, /listening on/);

  const tooShort = 'short-key';
  const partial = await runCliCommand({ args, vars: { SEGMENT_SHARED_SECRET_PRODUCTION: PRODUCTION.SEGMENT_SHARED_SECRET_PRODUCTION, BRIDGE_API_KEY_PRODUCTION: tooShort }, cwd: root });
  assert.is(partial.code, 2, partial.stderr);
  assert.match(partial.stderr, 'SEGMENT_WRITE_KEY_PRODUCTION');
  assert.match(partial.stderr, /BRIDGE_API_KEY_PRODUCTION is too short/);
  for (const value of [PRODUCTION.SEGMENT_SHARED_SECRET_PRODUCTION, tooShort, ...Object.values(STAGING)]) {
    assert.not.ok(partial.stderr.includes(value) || partial.stdout.includes(value), 'a secret value in the output');
  }
  // In-process through the loader: the same, as a ConfigError.
  await rejectsWithConfigError(Promise.resolve().then(() => load({ root, file: files.production, env: 'production', dataDir: join(root, 'd'), processEnv: {} })), /SEGMENT_SHARED_SECRET_PRODUCTION/);
});

secrets('one secret value configured for staging and production is refused by the loader and by `serve`', async () => {
  const { root, files } = await project();
  const shared = 'the-same-secret-for-both-0001';
  for (const [staged, produced] of [
    ['SEGMENT_SHARED_SECRET_STAGING', 'SEGMENT_SHARED_SECRET_PRODUCTION'],
    ['BRIDGE_API_KEY_STAGING', 'BRIDGE_API_KEY_PRODUCTION'],
    ['SEGMENT_WRITE_KEY_STAGING', 'SEGMENT_WRITE_KEY_PRODUCTION'],
  ] as const) {
    const processEnv = { ...STAGING, ...PRODUCTION, [staged]: shared, [produced]: shared };
    for (const env of ['staging', 'production'] as const) {
      const error = await rejectsWithConfigError(Promise.resolve().then(() => load({ root, file: files[env], env, dataDir: join(root, 'd'), processEnv })), /must differ from/);
      assert.ok(error.problems.some((problem) => problem.message.includes(staged) && problem.message.includes(produced)), JSON.stringify(error.problems));
      assert.not.ok(JSON.stringify(error.problems).includes(shared));
    }
  }
  const cli = await runCliCommand({
    args: ['serve', '--env', 'production', '--config', files.production, '--port', '0', '--data-dir', join(root, 'data', 'production')],
    vars: { ...PRODUCTION, SEGMENT_SHARED_SECRET_STAGING: PRODUCTION.SEGMENT_SHARED_SECRET_PRODUCTION },
    cwd: root,
  });
  assert.is(cli.code, 2, cli.stderr);
  assert.match(cli.stderr, /SEGMENT_SHARED_SECRET_PRODUCTION must differ from SEGMENT_SHARED_SECRET_STAGING/);
  assert.not.ok(cli.stderr.includes(PRODUCTION.SEGMENT_SHARED_SECRET_PRODUCTION));
});

secrets.run();
