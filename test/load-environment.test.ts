import { mkdirSync, mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { ConfigError } from '../src/errors.ts';
import { loadEnvironment, type LoadEnvironmentOptions } from '../src/config/load-environment.ts';
import { buildProcessEnv, readDotEnv } from '../src/config/dotenv.ts';
import { appendMissingToDotEnv, generateSecret } from '../src/config/secrets.ts';
import { renderTemplate } from '../src/config/template.ts';

const REPO_ROOT = path.resolve(import.meta.dirname, '..');
const SHARED = 'shared-secret-production-0123456789';
const API_KEY = 'api-key-production-0123456789abc';
const WRITE_KEY = 'write-key-production-xyz';
const PRODUCTION_ENV = {
  SEGMENT_SHARED_SECRET_PRODUCTION: SHARED,
  BRIDGE_API_KEY_PRODUCTION: API_KEY,
  SEGMENT_WRITE_KEY_PRODUCTION: WRITE_KEY,
};

/** A temp project dir with `environments/<name>.json` for each entry (objects are JSON-encoded). */
function project(files: Record<string, unknown> = {}): string {
  const cwd = mkdtempSync(path.join(tmpdir(), 'sb-env-'));
  mkdirSync(path.join(cwd, 'environments'));
  for (const [name, content] of Object.entries(files)) {
    const text = typeof content === 'string' ? content : JSON.stringify(content, null, 2);
    writeFileSync(path.join(cwd, 'environments', `${name}.json`), text);
  }
  return cwd;
}

function minimal(name: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { name, port: 4100, publicUrl: 'http://127.0.0.1:4100', ...extra };
}

function trigger(id: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { id, event: 'Signed Up', flow: { id: 'f', url: 'https://app.example.com/f?u={userId}' }, ...extra };
}

function load(options: Partial<LoadEnvironmentOptions> & { cwd: string }) {
  return loadEnvironment({ env: 'staging', processEnv: {}, ...options });
}

/** Runs `fn`, asserts it throws a ConfigError and returns it. */
function configErrorOf(fn: () => unknown): ConfigError {
  try {
    fn();
  } catch (error) {
    assert.instance(error, ConfigError);
    return error as ConfigError;
  }
  assert.unreachable('expected a ConfigError');
  throw new Error('unreachable');
}

function paths(error: ConfigError): string[] {
  return error.problems.map((problem) => problem.path);
}

// ---
const Valid = suite('loadEnvironment: a valid file');

Valid('applies every default and resolves paths against cwd', () => {
  const cwd = project({ staging: minimal('staging') });
  const config = load({ cwd });
  assert.is(config.name, 'staging');
  assert.is(config.source, path.join(cwd, 'environments', 'staging.json'));
  assert.is(config.host, '127.0.0.1');
  assert.is(config.port, 4100);
  assert.is(config.dataDir, path.join(cwd, 'data', 'staging'));
  assert.equal(config.segment, { region: 'us', host: 'https://api.segment.io', flushAt: 15, flushIntervalMs: 1000 });
  assert.equal(Object.keys(config.events), ['Flow Viewed', 'Flow Started', 'Flow Step Completed', 'Flow Completed', 'Flow Dismissed', 'Response Submitted']);
  assert.equal(config.events['Flow Viewed'], { disabled: false });
  assert.equal(config.triggers, []);
  assert.is(config.dedupeWindowDays, 7);
  assert.is(config.bodyLimitBytes, 524288);
  assert.is(config.historyLimit, 50);
  assert.is(config.isProduction, false);
  assert.equal(config.secrets, { writeKey: undefined, sharedSecret: undefined, apiKey: undefined, webhookSecrets: {} });
});

Valid('is deeply frozen', () => {
  const cwd = project({ staging: minimal('staging', { triggers: [trigger('t1', { where: { traits: { plan: { $in: ['pro'] } } } })] }) });
  const config = load({ cwd });
  assert.ok(Object.isFrozen(config));
  assert.ok(Object.isFrozen(config.segment));
  assert.ok(Object.isFrozen(config.triggers[0]?.where.traits?.['plan']));
  assert.throws(() => {
    (config as { port: number }).port = 1;
  });
});

Valid('fills trigger defaults and keeps eu region, renames and operators', () => {
  const cwd = project({
    staging: minimal('staging', {
      segment: { region: 'eu' },
      events: { 'Flow Dismissed': { rename: 'Tour Dismissed' }, 'Flow Viewed': { disabled: true } },
      triggers: [trigger('t1', { where: { properties: { n: { $gte: 2, $lt: 'z' }, seen: { $exists: true }, plan: 'pro' } } })],
    }),
  });
  const config = load({ cwd });
  assert.is(config.segment.host, 'https://events.eu1.segmentapis.com');
  assert.equal(config.events['Flow Dismissed'], { rename: 'Tour Dismissed', disabled: false });
  assert.equal(config.events['Flow Viewed'], { disabled: true });
  const [first] = config.triggers;
  assert.is(first?.source, 'any');
  assert.equal(first?.where.properties, { n: { $gte: 2, $lt: 'z' }, seen: { $exists: true }, plan: 'pro' });
  assert.is(first?.frequency, undefined);
  assert.is(first?.webhook, undefined);
});

Valid('the shipped staging.json and production.json load', () => {
  const staging = loadEnvironment({ env: 'staging', cwd: REPO_ROOT, processEnv: {} });
  assert.is(staging.port, 4100);
  assert.is(staging.triggers.length, 2);
  assert.equal(staging.triggers[1]?.frequency, { perUser: { max: 2, windowDays: 30 } });
  const production = loadEnvironment({ env: 'production', cwd: REPO_ROOT, processEnv: PRODUCTION_ENV });
  assert.is(production.isProduction, true);
  assert.match(production.publicUrl, /^https:\/\//);
});

Valid.run();

// ---
const Invalid = suite('loadEnvironment: schema problems');

Invalid('reports every problem with file#pointer paths', () => {
  const cwd = project({
    staging: { ...minimal('staging', { port: 70000, segment: { region: 'mars' } }), triggers: [{ id: 't1', event: 'Signed Up' }] },
  });
  const error = configErrorOf(() => load({ cwd }));
  assert.is(error.message, 'environments/staging.json is invalid (3 problems)');
  assert.equal(paths(error).sort(), [
    'environments/staging.json#/port',
    'environments/staging.json#/segment/region',
    'environments/staging.json#/triggers/0/flow',
  ]);
  assert.match(error.problems.find((p) => p.path.endsWith('/region'))?.message ?? '', '"us", "eu"');
});

Invalid('an unknown setting is an error, with a suggestion', () => {
  const cwd = project({ staging: minimal('staging', { dedupWindowDays: 3 }) });
  const error = configErrorOf(() => load({ cwd }));
  assert.equal(paths(error), ['environments/staging.json#/dedupWindowDays']);
  assert.match(error.problems[0]?.message ?? '', 'did you mean "dedupeWindowDays"');
});

Invalid('an unknown event name lists the catalog', () => {
  const cwd = project({ staging: minimal('staging', { events: { 'Flow Viewd': { disabled: true } } }) });
  const error = configErrorOf(() => load({ cwd }));
  assert.equal(paths(error), ['environments/staging.json#/events/Flow Viewd']);
  assert.match(error.problems[0]?.message ?? '', 'unknown event "Flow Viewd"');
  assert.match(error.problems[0]?.message ?? '', 'Response Submitted');
});

Invalid('a where operator outside the allowed set is refused', () => {
  const cwd = project({ staging: minimal('staging', { triggers: [trigger('t1', { where: { properties: { plan: { $regex: 'p.*' } } } })] }) });
  const error = configErrorOf(() => load({ cwd }));
  assert.equal(paths(error), ['environments/staging.json#/triggers/0/where/properties/plan/$regex']);
  assert.match(error.problems[0]?.message ?? '', 'unknown operator "$regex"');
});

Invalid('operator operands are type-checked', () => {
  const where = { traits: { a: { $in: 'pro' }, b: { $exists: 'yes' }, c: { $gt: true } } };
  const cwd = project({ staging: minimal('staging', { triggers: [trigger('t1', { where })] }) });
  const error = configErrorOf(() => load({ cwd }));
  const base = 'environments/staging.json#/triggers/0/where/traits';
  assert.equal(paths(error).sort(), [`${base}/a/$in`, `${base}/b/$exists`, `${base}/c/$gt`]);
});

Invalid('duplicate trigger ids are reported at the later one', () => {
  const cwd = project({ staging: minimal('staging', { triggers: [trigger('a'), trigger('b'), trigger('a')] }) });
  const error = configErrorOf(() => load({ cwd }));
  assert.equal(paths(error), ['environments/staging.json#/triggers/2/id']);
  assert.match(error.problems[0]?.message ?? '', 'duplicate trigger id "a"');
});

Invalid('a bad frequency names both accepted shapes', () => {
  const cwd = project({ staging: minimal('staging', { triggers: [trigger('a', { frequency: { perUser: 'twice' } })] }) });
  const error = configErrorOf(() => load({ cwd }));
  assert.equal(paths(error), ['environments/staging.json#/triggers/0/frequency/perUser']);
  assert.match(error.problems[0]?.message ?? '', '"once" or { "max"');
});

Invalid('secret-like keys say secrets belong in the process environment', () => {
  const cwd = project({ staging: minimal('staging', { writeKey: 'abc', segment: { sharedSecret: 'x' } }) });
  const error = configErrorOf(() => load({ cwd }));
  assert.equal(paths(error).sort(), ['environments/staging.json#/segment/sharedSecret', 'environments/staging.json#/writeKey']);
  for (const problem of error.problems) assert.match(problem.message, 'secrets belong in the process environment');
});

Invalid('name must equal the file name unless loaded with --config', () => {
  const cwd = project({ staging: minimal('qa') });
  const error = configErrorOf(() => load({ cwd }));
  assert.equal(paths(error), ['environments/staging.json#/name']);
  writeFileSync(path.join(cwd, 'custom.json'), JSON.stringify(minimal('qa')));
  const config = load({ cwd, configFile: 'custom.json' });
  assert.is(config.name, 'qa');
  assert.is(config.dataDir, path.join(cwd, 'data', 'qa'));
});

Invalid('an invalid environment name is refused before any file is read', () => {
  const error = configErrorOf(() => load({ cwd: project(), env: '../etc' }));
  assert.equal(paths(error), ['--env']);
});

Invalid.run();

// ---
const Files = suite('loadEnvironment: unreadable files');

Files('invalid JSON gives line and column', () => {
  const cwd = project({ staging: '{\n  "name": "staging",\n  "port": }\n' });
  const error = configErrorOf(() => load({ cwd }));
  assert.equal(paths(error), ['environments/staging.json:3:11']);
  assert.match(error.problems[0]?.message ?? '', 'line 3, column 11');
  assert.match(error.message, 'not valid JSON');
});

Files('a missing file suggests init', () => {
  const error = configErrorOf(() => load({ cwd: project(), env: 'qa' }));
  assert.match(error.message, 'environments/qa.json not found');
  assert.match(error.message, 'init qa');
});

Files.run();

// ---
const Overrides = suite('loadEnvironment: CLI overrides');

Overrides('win over the file', () => {
  const cwd = project({ staging: minimal('staging', { dataDir: 'elsewhere', segment: { host: 'http://file-host:1' } }) });
  const config = load({ cwd, overrides: { port: 0, host: '0.0.0.0', dataDir: 'tmp/x', segmentHost: 'http://127.0.0.1:9999/' } });
  assert.is(config.port, 0);
  assert.is(config.host, '0.0.0.0');
  assert.is(config.dataDir, path.join(cwd, 'tmp', 'x'));
  assert.is(config.segment.host, 'http://127.0.0.1:9999');
});

Overrides('the file setting is used without an override', () => {
  const cwd = project({ staging: minimal('staging', { dataDir: 'elsewhere', segment: { host: 'http://file-host:1/' } }) });
  const config = load({ cwd });
  assert.is(config.dataDir, path.join(cwd, 'elsewhere'));
  assert.is(config.segment.host, 'http://file-host:1');
});

Overrides('bad overrides are problems', () => {
  const cwd = project({ staging: minimal('staging') });
  const error = configErrorOf(() => load({ cwd, overrides: { port: 70000, segmentHost: 'ftp://x' } }));
  assert.equal(paths(error), ['--port', '--segment-host']);
});

Overrides.run();

// ---
const Secrets = suite('loadEnvironment: secrets');

Secrets('staging loads without secrets and reads them when set', () => {
  const cwd = project({ staging: minimal('staging') });
  const processEnv = { SEGMENT_SHARED_SECRET_STAGING: 'staging-shared-0123456789', BRIDGE_API_KEY_STAGING: 'staging-api-key-0123456789', SEGMENT_WRITE_KEY_STAGING: 'wk' };
  const config = load({ cwd, processEnv });
  assert.equal(config.secrets, { sharedSecret: processEnv.SEGMENT_SHARED_SECRET_STAGING, apiKey: processEnv.BRIDGE_API_KEY_STAGING, writeKey: 'wk', webhookSecrets: {} });
});

Secrets('production without secrets lists each missing variable by name, no values', () => {
  const cwd = project({ production: minimal('production') });
  const error = configErrorOf(() => load({ cwd, env: 'production', processEnv: { SEGMENT_WRITE_KEY_PRODUCTION: WRITE_KEY } }));
  assert.equal(paths(error), ['SEGMENT_SHARED_SECRET_PRODUCTION', 'BRIDGE_API_KEY_PRODUCTION']);
  assert.match(error.message, 'environment "production" cannot be loaded (2 problems)');
  assert.not.match(JSON.stringify({ message: error.message, problems: error.problems }), WRITE_KEY);
});

Secrets('production: true makes any environment strict', () => {
  const cwd = project({ live: minimal('live', { production: true }) });
  const error = configErrorOf(() => load({ cwd, env: 'live' }));
  assert.equal(paths(error), ['SEGMENT_WRITE_KEY_LIVE', 'SEGMENT_SHARED_SECRET_LIVE', 'BRIDGE_API_KEY_LIVE']);
});

Secrets('a production secret equal to the staging one is refused by name', () => {
  const cwd = project({ production: minimal('production') });
  const processEnv = { ...PRODUCTION_ENV, SEGMENT_SHARED_SECRET_STAGING: SHARED };
  const error = configErrorOf(() => load({ cwd, env: 'production', processEnv }));
  assert.equal(error.problems.map((p) => p.message), ['SEGMENT_SHARED_SECRET_PRODUCTION must differ from SEGMENT_SHARED_SECRET_STAGING']);
  assert.not.match(JSON.stringify(error.problems) + error.message, SHARED);
});

Secrets('two secrets of one environment sharing a value are reported once', () => {
  const cwd = project({ production: minimal('production') });
  const processEnv = { ...PRODUCTION_ENV, BRIDGE_API_KEY_PRODUCTION: SHARED };
  const error = configErrorOf(() => load({ cwd, env: 'production', processEnv }));
  assert.equal(error.problems.map((p) => p.message), ['SEGMENT_SHARED_SECRET_PRODUCTION must differ from BRIDGE_API_KEY_PRODUCTION']);
});

Secrets('a short shared secret or API key is refused, on staging too', () => {
  const cwd = project({ staging: minimal('staging') });
  const error = configErrorOf(() => load({ cwd, processEnv: { BRIDGE_API_KEY_STAGING: 'short-key' } }));
  assert.equal(paths(error), ['BRIDGE_API_KEY_STAGING']);
  assert.match(error.problems[0]?.message ?? '', 'at least 16 characters');
  assert.not.match(error.problems[0]?.message ?? '', 'short-key');
});

Secrets('a webhook secret must be set and is returned by variable name', () => {
  const webhook = { url: 'https://hooks.example.com/x', secretEnv: 'ONBOARDING_WEBHOOK_SECRET' };
  const cwd = project({ staging: minimal('staging', { triggers: [trigger('t1', { webhook })] }) });
  const error = configErrorOf(() => load({ cwd }));
  assert.equal(paths(error), ['ONBOARDING_WEBHOOK_SECRET']);
  const config = load({ cwd, processEnv: { ONBOARDING_WEBHOOK_SECRET: 'whsec_0123456789abcdefghij' } });
  assert.equal(config.secrets.webhookSecrets, { ONBOARDING_WEBHOOK_SECRET: 'whsec_0123456789abcdefghij' });
});

Secrets("a webhook may not reuse the bridge's own secret variable", () => {
  const webhook = { url: 'https://hooks.example.com/x', secretEnv: 'SEGMENT_SHARED_SECRET_STAGING' };
  const cwd = project({ staging: minimal('staging', { triggers: [trigger('t1', { webhook })] }) });
  const error = configErrorOf(() => load({ cwd }));
  assert.equal(paths(error), ['environments/staging.json#/triggers/0/webhook/secretEnv']);
});

Secrets('a secret value pasted into the file is refused', () => {
  const secret = 'staging-shared-0123456789';
  const cwd = project({ staging: minimal('staging', { publicUrl: `http://127.0.0.1:4100/${secret}` }) });
  const error = configErrorOf(() => load({ cwd, processEnv: { SEGMENT_SHARED_SECRET_STAGING: secret } }));
  assert.equal(paths(error), ['environments/staging.json']);
  assert.match(error.problems[0]?.message ?? '', 'contains the value of SEGMENT_SHARED_SECRET_STAGING');
});

Secrets.run();

// ---
const DotEnv = suite('dotenv');

DotEnv('reads .env; the real environment wins; a missing file is empty', () => {
  const cwd = project();
  assert.equal(readDotEnv(path.join(cwd, '.env')), {});
  writeFileSync(path.join(cwd, '.env'), '# comment\nA=from-file\nB="quoted value"\nC=file-only\n');
  assert.equal(readDotEnv(path.join(cwd, '.env')), { A: 'from-file', B: 'quoted value', C: 'file-only' });
  const merged = buildProcessEnv({ cwd, env: { A: 'from-process', D: 'process-only', E: undefined } });
  assert.equal(merged, { A: 'from-process', B: 'quoted value', C: 'file-only', D: 'process-only' });
});

DotEnv.run();

// ---
const Append = suite('appendMissingToDotEnv');

Append('creates the file with mode 0600', () => {
  const file = path.join(project(), '.env');
  const added = appendMissingToDotEnv({ file, values: { SEGMENT_SHARED_SECRET_QA: 'abc-123_XYZ', BRIDGE_API_KEY_QA: 'def' } });
  assert.equal(added, ['SEGMENT_SHARED_SECRET_QA', 'BRIDGE_API_KEY_QA']);
  assert.is(statSync(file).mode & 0o777, 0o600);
  assert.equal(readDotEnv(file), { SEGMENT_SHARED_SECRET_QA: 'abc-123_XYZ', BRIDGE_API_KEY_QA: 'def' });
});

Append('never overwrites a defined variable, even an empty one', () => {
  const file = path.join(project(), '.env');
  writeFileSync(file, 'KEEP=original\nEMPTY=');
  const added = appendMissingToDotEnv({ file, values: { KEEP: 'new', EMPTY: 'new', NEW: 'value with space' } });
  assert.equal(added, ['NEW']);
  assert.is(readFileSync(file, 'utf8'), "KEEP=original\nEMPTY=\nNEW='value with space'\n");
  assert.equal(appendMissingToDotEnv({ file, values: { NEW: 'again' } }), []);
});

Append.run();

// ---
const Init = suite('generateSecret and renderTemplate');

Init('generateSecret gives distinct base64url strings', () => {
  const a = generateSecret();
  assert.match(a, /^[A-Za-z0-9_-]{43}$/);
  assert.is.not(a, generateSecret());
  assert.is(generateSecret(16).length, 22);
});

Init('the template is a valid environment', () => {
  const cwd = project({ qa: renderTemplate({ name: 'qa', port: 4300 }) });
  const config = load({ cwd, env: 'qa' });
  assert.is(config.name, 'qa');
  assert.is(config.port, 4300);
  assert.is(config.publicUrl, 'http://127.0.0.1:4300');
  assert.is(config.dataDir, path.join(cwd, 'data', 'qa'));
});

Init.run();
