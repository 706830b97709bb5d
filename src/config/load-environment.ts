/**
 * Loads one environment at start-up: `environments/<env>.json` (or `--config FILE`),
 * validated against environment-schema.ts, CLI overrides on top, secrets from the process
 * environment. Any problem throws one ConfigError listing every problem found
 * (`<file>#<JSON pointer>` or the variable name, and a message without secret values);
 * the CLI exits with code 2. The result is complete and deeply frozen.
 */
import { trackingPlanProblems, type TrackingPlanConfig } from '../domain/tracking-plan.ts';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { ConfigError, type ErrorDetail } from '../errors.ts';
import { isJsonObject, type JsonValue } from '../domain/json.ts';
import {
  ENV_NAME_PATTERN,
  ENV_VAR_PATTERN,
  FLOW_EVENT_CATALOG,
  validateEnvironmentData,
  type EnvironmentFile,
} from './environment-schema.ts';
import { isBridgeSecretVariable, resolveSecrets, secretVariableNames } from './secrets.ts';
import { REGION_HOSTS, type EnvConfig, type EnvSecrets, type EventSetting, type TriggerConfig } from './types.ts';

/** CLI flags; each wins over the file's setting. */
export interface EnvironmentOverrides {
  /** `--port`; 0 picks a free port. */
  port?: number;
  /** `--data-dir`, relative to `cwd`. */
  dataDir?: string;
  /** `--segment-host`: where analytics-node sends (a local stand-in). */
  segmentHost?: string;
  host?: string;
}

export interface LoadEnvironmentOptions {
  /** `--env`: the file is `environments/<env>.json` and its `name` must equal it. */
  env: string;
  /** Project root: the file, `dataDir` and `.env` resolve against it. */
  cwd: string;
  /** `--config FILE`: read this file instead; the environment is then the file's `name`. */
  configFile?: string;
  overrides?: EnvironmentOverrides;
  /** Secrets are read from here only (process.env merged over `.env`, see dotenv.ts). */
  processEnv: Record<string, string | undefined>;
}

const NAME_RE = new RegExp(ENV_NAME_PATTERN);

/** Reads, validates and freezes one environment's configuration; throws ConfigError. */
export function loadEnvironment(options: LoadEnvironmentOptions): EnvConfig {
  const { env, cwd, configFile, overrides = {}, processEnv } = options;
  if (configFile === undefined && !NAME_RE.test(env)) {
    const message = `invalid environment name "${env}": lowercase letters, digits and "-", starting with a letter`;
    throw new ConfigError(message, [{ path: '--env', message }]);
  }
  const file = path.resolve(cwd, configFile ?? path.join('environments', `${env}.json`));
  const shown = displayPath(cwd, file);
  const text = readEnvironmentText({ file, shown, env, configFile });
  const data = parseEnvironmentJson(text, shown);

  const fileProblems = validateEnvironmentData(data, { expectedName: configFile === undefined ? env : undefined })
    .map((problem) => ({ path: `${shown}#${problem.pointer}`, message: problem.message }));
  if (fileProblems.length === 0) fileProblems.push(...planProblems(data, shown));
  const otherProblems = checkOverrides(overrides);

  const identity = peekIdentity(data);
  let secrets: EnvSecrets = { writeKey: undefined, sharedSecret: undefined, apiKey: undefined, webhookSecrets: {} };
  if (identity !== undefined) {
    const resolved = resolveSecrets({ ...identity, processEnv });
    secrets = resolved.secrets;
    otherProblems.push(...resolved.problems, ...findSecretsInFile({ text, shown, name: identity.name, secrets }));
  }

  const count = fileProblems.length + otherProblems.length;
  if (count > 0) {
    const plural = `${count} problem${count === 1 ? '' : 's'}`;
    const what = otherProblems.length === 0 ? `${shown} is invalid` : fileProblems.length === 0
      ? `environment "${identity?.name ?? env}" cannot be loaded` : `${shown} is invalid and secrets are missing or wrong`;
    throw new ConfigError(`${what} (${plural})`, [...fileProblems, ...otherProblems]);
  }
  // The schema validated `data` and filled in its defaults, so it has this shape.
  return deepFreeze(buildConfig({ file: data as unknown as EnvironmentFile, source: file, cwd, overrides, secrets }));
}

function displayPath(cwd: string, file: string): string {
  const relative = path.relative(cwd, file);
  return relative.startsWith('..') || path.isAbsolute(relative) ? file : relative.split(path.sep).join('/');
}

function readEnvironmentText(options: { file: string; shown: string; env: string; configFile: string | undefined }): string {
  const { file, shown, env, configFile } = options;
  try {
    return readFileSync(file, 'utf8').replace(/^\uFEFF/, '');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const message = code === 'ENOENT'
      ? configFile === undefined
        ? `${shown} not found; create it with \`npm run bridge -- init ${env}\``
        : `${shown} not found (given with --config)`
      : `${shown} cannot be read (${code ?? 'unknown error'})`;
    throw new ConfigError(message, [{ path: shown, message }]);
  }
}

function parseEnvironmentJson(text: string, shown: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch (error) {
    const { line, column } = jsonErrorLocation(text);
    // V8 quotes a snippet of the input in some messages; keep only the reason.
    const reason = (error as Error).message.replace(/, ".*" is not valid JSON$/s, '').replace(/ in JSON at position \d+.*$/s, '');
    const message = `invalid JSON at line ${line}, column ${column}: ${reason}`;
    throw new ConfigError(`${shown} is not valid JSON (line ${line}, column ${column})`, [{ path: `${shown}:${line}:${column}`, message }]);
  }
}

/**
 * Line and column (1-based) of the first JSON syntax error in `text`: V8 gives no position
 * for some errors (`Unexpected token`), so find it with a small recursive-descent scan.
 */
export function jsonErrorLocation(text: string): { line: number; column: number } {
  const space = /[ \t\n\r]*/y;
  // JSON strings may not contain raw control characters: the class excludes them on purpose.
  // eslint-disable-next-line no-control-regex
  const scalar = /"(?:[^"\\\u0000-\u001f]|\\(?:["\\/bfnrt]|u[0-9a-fA-F]{4}))*"|-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?|true|false|null/y;
  let i = 0;
  const skip = (): void => {
    space.lastIndex = i;
    space.exec(text);
    i = space.lastIndex;
  };
  const punct = (char: string): boolean => {
    skip();
    if (text[i] !== char) return false;
    i++;
    return true;
  };
  // On failure `i` is left at the offending character.
  const value = (): boolean => {
    skip();
    const open = text[i];
    if (open === '{' || open === '[') {
      const close = open === '{' ? '}' : ']';
      i++;
      if (punct(close)) return true;
      for (;;) {
        skip();
        if (open === '{' && !(text[i] === '"' && value() && punct(':'))) return false;
        if (!value()) return false;
        if (punct(',')) continue;
        return punct(close);
      }
    }
    scalar.lastIndex = i;
    if (scalar.exec(text) === null) return false;
    i = scalar.lastIndex;
    return true;
  };
  if (value()) skip();
  const before = text.slice(0, i).split('\n');
  return { line: before.length, column: (before.at(-1)?.length ?? 0) + 1 };
}

function checkOverrides(overrides: EnvironmentOverrides): ErrorDetail[] {
  const problems: ErrorDetail[] = [];
  const { port, host, dataDir, segmentHost } = overrides;
  if (port !== undefined && !(Number.isInteger(port) && port >= 0 && port <= 65535)) {
    problems.push({ path: '--port', message: 'must be an integer from 0 to 65535' });
  }
  if (host !== undefined && host === '') problems.push({ path: '--host', message: 'must not be empty' });
  if (dataDir !== undefined && dataDir === '') problems.push({ path: '--data-dir', message: 'must not be empty' });
  if (segmentHost !== undefined && !/^https?:\/\/[^/]/.test(segmentHost)) {
    problems.push({ path: '--segment-host', message: 'must be an http(s) URL' });
  }
  return problems;
}

/** What secrets depend on, read defensively from a file that may be invalid. */
function peekIdentity(data: unknown): { name: string; isProduction: boolean; webhookSecretEnvs: string[] } | undefined {
  if (!isJsonObject(data)) return undefined;
  const name = data['name'];
  if (typeof name !== 'string' || !NAME_RE.test(name)) return undefined;
  const production = data['production'];
  const triggers = data['triggers'];
  const webhookSecretEnvs: string[] = [];
  for (const trigger of Array.isArray(triggers) ? triggers : []) {
    const webhook = isJsonObject(trigger) ? trigger['webhook'] : undefined;
    const variable = isJsonObject(webhook) ? webhook['secretEnv'] : undefined;
    if (typeof variable === 'string' && new RegExp(ENV_VAR_PATTERN).test(variable) && !isBridgeSecretVariable(variable)) {
      webhookSecretEnvs.push(variable);
    }
  }
  return { name, isProduction: typeof production === 'boolean' ? production : name === 'production', webhookSecretEnvs };
}

/** A secret value pasted into the file is a leak even where the schema allows a string. */
function findSecretsInFile(options: { text: string; shown: string; name: string; secrets: EnvSecrets }): ErrorDetail[] {
  const { text, shown, secrets } = options;
  const variables = secretVariableNames(options.name);
  const named: [string, string | undefined][] = [
    [variables.writeKey, secrets.writeKey],
    [variables.sharedSecret, secrets.sharedSecret],
    [variables.apiKey, secrets.apiKey],
    ...Object.entries(secrets.webhookSecrets),
  ];
  return named
    .filter(([, value]) => value !== undefined && value.length >= 8 && text.includes(value))
    .map(([variable]) => ({ path: shown, message: `contains the value of ${variable}; secrets belong in the process environment (.env), never in environment files` }));
}

function buildConfig(options: { file: EnvironmentFile; source: string; cwd: string; overrides: EnvironmentOverrides; secrets: EnvSecrets }): EnvConfig {
  const { file, source, cwd, overrides, secrets } = options;
  const events: Record<string, EventSetting> = {};
  for (const name of FLOW_EVENT_CATALOG) events[name] = { ...(file.events[name] ?? { disabled: false }) };
  const triggers: TriggerConfig[] = file.triggers.map((trigger) => ({
    id: trigger.id,
    event: trigger.event,
    source: trigger.source,
    where: trigger.where,
    flow: trigger.flow,
    frequency: trigger.frequency,
    webhook: trigger.webhook,
  }));
  return {
    name: file.name,
    source,
    host: overrides.host ?? file.host,
    port: overrides.port ?? file.port,
    dataDir: path.resolve(cwd, overrides.dataDir ?? file.dataDir ?? path.join('data', file.name)),
    publicUrl: withoutTrailingSlash(file.publicUrl),
    segment: {
      region: file.segment.region,
      host: withoutTrailingSlash(overrides.segmentHost ?? file.segment.host ?? REGION_HOSTS[file.segment.region]),
      flushAt: file.segment.flushAt,
      flushIntervalMs: file.segment.flushIntervalMs,
    },
    events,
    triggers,
    dedupeWindowDays: file.dedupeWindowDays,
    bodyLimitBytes: file.bodyLimitBytes,
    historyLimit: file.historyLimit,
    trackingPlan: file.trackingPlan,
    isProduction: file.production ?? file.name === 'production',
    secrets,
  };
}

/** Each tracking-plan schema must itself be a valid JSON Schema. */
function planProblems(data: unknown, shown: string): Array<{ path: string; message: string }> {
  const plan = (data as { trackingPlan?: TrackingPlanConfig }).trackingPlan;
  if (plan === undefined) return [];
  return trackingPlanProblems(plan).map((problem) => ({ path: `${shown}#/trackingPlan${problem.path}`, message: problem.message }));
}

function withoutTrailingSlash(url: string): string {
  return url.replace(/\/+$/, '');
}

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    for (const child of Object.values(value) as JsonValue[]) deepFreeze(child);
    Object.freeze(value);
  }
  return value;
}
