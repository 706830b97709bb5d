import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { readDotEnv } from '../src/config/dotenv.ts';
import { loadEnvironment } from '../src/config/load-environment.ts';
import { makeProject, runCli } from './support/cli.ts';

const PRESEEDED_API_KEY = 'preseeded-api-key-0123456789abcdef';

// ---
const init = suite('cli init <env>');

init('writes a valid environment file and generates the missing secrets into .env, never overwriting', async () => {
  const cwd = makeProject({ dotEnv: `# mine\nBRIDGE_API_KEY_STAGING=${PRESEEDED_API_KEY}\nOTHER=1\n` });
  const first = await runCli({ args: ['init', 'staging', '--public-url', 'https://bridge-staging.example.com/'], cwd });
  assert.is(first.code, 0, first.stderr);

  const file = path.join(cwd, 'environments', 'staging.json');
  const config = loadEnvironment({ env: 'staging', cwd, processEnv: readDotEnv(path.join(cwd, '.env')) });
  assert.is(config.name, 'staging');
  assert.is(config.port, 4100);
  assert.is(config.publicUrl, 'https://bridge-staging.example.com');

  const dotEnv = readDotEnv(path.join(cwd, '.env'));
  assert.is(dotEnv['BRIDGE_API_KEY_STAGING'], PRESEEDED_API_KEY, 'the existing variable is kept');
  assert.is(dotEnv['OTHER'], '1');
  const sharedSecret = dotEnv['SEGMENT_SHARED_SECRET_STAGING'] ?? '';
  assert.ok(sharedSecret.length >= 32, 'a generated shared secret');
  assert.is(dotEnv['SEGMENT_WRITE_KEY_STAGING'], undefined, 'the write key comes from Segment, never generated');
  assert.ok(readFileSync(path.join(cwd, '.env'), 'utf8').startsWith('# mine\n'), 'appended, not rewritten');

  assert.match(first.stdout, 'Webhook URL for staging: https://bridge-staging.example.com/v1/segment');
  assert.match(first.stdout, /HTTP API source[^\n]*SEGMENT_WRITE_KEY_STAGING/);
  assert.match(first.stdout, /Webhooks \(Actions\)/);
  assert.match(first.stdout, 'Authorization: Bearer <the value of SEGMENT_SHARED_SECRET_STAGING>');
  assert.match(first.stdout, 'npm run bridge -- bootstrap staging');
  assert.match(first.stdout, '.env: added SEGMENT_SHARED_SECRET_STAGING');
  assert.match(first.stdout, '.env: kept BRIDGE_API_KEY_STAGING');
  assert.not.match(first.stdout + first.stderr, sharedSecret, 'never prints a secret');
  assert.not.match(first.stdout + first.stderr, PRESEEDED_API_KEY);

  // A second run keeps an edited file and every variable.
  const edited = readFileSync(file, 'utf8').replace('"historyLimit": 50', '"historyLimit": 7');
  writeFileSync(file, edited);
  const envBefore = readFileSync(path.join(cwd, '.env'), 'utf8');
  const second = await runCli({ args: ['init', 'staging'], cwd });
  assert.is(second.code, 0, second.stderr);
  assert.is(readFileSync(file, 'utf8'), edited, 'the environment file is never overwritten');
  assert.is(readFileSync(path.join(cwd, '.env'), 'utf8'), envBefore, '.env unchanged');
  assert.match(second.stdout, 'environments/staging.json exists: kept as it is');
  assert.match(second.stdout, '.env: kept SEGMENT_SHARED_SECRET_STAGING, BRIDGE_API_KEY_STAGING');
  assert.match(second.stdout, 'https://bridge-staging.example.com/v1/segment', 'the URL comes from the kept file');
});

init('an invalid environment name is a usage error (exit 2) and writes nothing', async () => {
  const cwd = makeProject();
  const result = await runCli({ args: ['init', 'Prod!'], cwd });
  assert.is(result.code, 2);
  assert.match(result.stderr, 'invalid environment name');
  assert.throws(() => readFileSync(path.join(cwd, '.env')));
});

init.run();
