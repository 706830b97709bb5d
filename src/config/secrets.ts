/**
 * Secrets of an environment. They come only from the process environment (process.env
 * merged over `.env`, see dotenv.ts), never from `environments/*.json`. Problems name the
 * variable and never show a value.
 *
 * Rules:
 * - production needs all three of write key, shared secret and API key;
 * - a staging (non-production) environment may lack them: without a shared secret it
 *   accepts unsigned Segment webhooks, without an API key its API is open, without a write
 *   key outbound events stay in the outbox. The loader returns `undefined`; the app warns;
 * - shared secret and API key have at least 16 characters, in every environment;
 * - every webhook secret a trigger names (`webhook.secretEnv`) must be set;
 * - nothing crosses environments: an environment's secret equal to any other bridge
 *   secret variable (another environment's, or another kind) is refused.
 */
import { appendFileSync, readFileSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import type { ErrorDetail } from '../errors.ts';
import type { EnvSecrets } from './types.ts';
import { readDotEnv } from './dotenv.ts';

/** Minimum length of shared secrets and API keys (and webhook secrets). */
export const MIN_SECRET_LENGTH = 16;

/** Prefixes of the per-environment bridge variables; the suffix is `envVarSuffix(name)`. */
export const SECRET_PREFIXES = {
  writeKey: 'SEGMENT_WRITE_KEY_',
  sharedSecret: 'SEGMENT_SHARED_SECRET_',
  apiKey: 'BRIDGE_API_KEY_',
} as const;

type SecretKind = keyof typeof SECRET_PREFIXES;
const KINDS = Object.keys(SECRET_PREFIXES) as SecretKind[];

/** `staging-eu` -> `STAGING_EU`. */
export function envVarSuffix(name: string): string {
  return name.toUpperCase().replace(/-/g, '_');
}

/** The three variable names of an environment, e.g. `SEGMENT_WRITE_KEY_STAGING`. */
export function secretVariableNames(name: string): Record<SecretKind, string> {
  const suffix = envVarSuffix(name);
  return {
    writeKey: `${SECRET_PREFIXES.writeKey}${suffix}`,
    sharedSecret: `${SECRET_PREFIXES.sharedSecret}${suffix}`,
    apiKey: `${SECRET_PREFIXES.apiKey}${suffix}`,
  };
}

/** Whether `variable` is one of the bridge's own per-environment secret variables. */
export function isBridgeSecretVariable(variable: string): boolean {
  return Object.values(SECRET_PREFIXES).some((prefix) => variable.startsWith(prefix) && variable.length > prefix.length);
}

/** An unset or blank variable counts as missing (`.env` files often carry `NAME=`). */
function readVariable(processEnv: Record<string, string | undefined>, variable: string): string | undefined {
  const value = processEnv[variable];
  return value === undefined || value.trim() === '' ? undefined : value;
}

/**
 * Reads and checks the secrets of environment `name`. Returns every problem found instead
 * of throwing, so the loader can list them with the file's problems.
 */
export function resolveSecrets(options: {
  name: string;
  isProduction: boolean;
  processEnv: Record<string, string | undefined>;
  webhookSecretEnvs: string[];
}): { secrets: EnvSecrets; problems: ErrorDetail[] } {
  const { name, isProduction, processEnv } = options;
  const variables = secretVariableNames(name);
  const problems: ErrorDetail[] = [];
  const values: Partial<Record<SecretKind, string>> = {};
  // Pairs already reported, so two equal secrets of this environment are reported once.
  const reported = new Set<string>();

  for (const kind of KINDS) {
    const variable = variables[kind];
    const value = readVariable(processEnv, variable);
    if (value === undefined) {
      if (isProduction) problems.push({ path: variable, message: `${variable} is not set; production requires it (set it in the process environment or .env)` });
      continue;
    }
    if (kind !== 'writeKey' && value.length < MIN_SECRET_LENGTH) {
      problems.push({ path: variable, message: `${variable} is too short: use at least ${MIN_SECRET_LENGTH} characters (\`init\` generates one)` });
    }
    values[kind] = value;
    problems.push(...findReusedSecret({ variable, value, processEnv, reported }));
  }

  const webhookSecrets: Record<string, string> = {};
  for (const variable of new Set(options.webhookSecretEnvs)) {
    const value = readVariable(processEnv, variable);
    if (value === undefined) {
      problems.push({ path: variable, message: `${variable} is not set; a trigger's webhook is signed with it` });
    } else if (value.length < MIN_SECRET_LENGTH) {
      problems.push({ path: variable, message: `${variable} is too short: use at least ${MIN_SECRET_LENGTH} characters` });
    } else {
      webhookSecrets[variable] = value;
    }
  }

  return {
    secrets: { writeKey: values.writeKey, sharedSecret: values.sharedSecret, apiKey: values.apiKey, webhookSecrets },
    problems,
  };
}

/** Problems for every other bridge secret variable holding the same value (names only). */
function findReusedSecret(options: {
  variable: string;
  value: string;
  processEnv: Record<string, string | undefined>;
  reported: Set<string>;
}): ErrorDetail[] {
  const problems: ErrorDetail[] = [];
  for (const [other, otherValue] of Object.entries(options.processEnv)) {
    if (other === options.variable || otherValue !== options.value || !isBridgeSecretVariable(other)) continue;
    const pair = [options.variable, other].sort().join(' ');
    if (options.reported.has(pair)) continue;
    options.reported.add(pair);
    problems.push({ path: options.variable, message: `${options.variable} must differ from ${other}` });
  }
  return problems;
}

/** Every secret value of an environment, for the redactor. */
export function listSecretValues(secrets: EnvSecrets): string[] {
  const values = [secrets.writeKey, secrets.sharedSecret, secrets.apiKey, ...Object.values(secrets.webhookSecrets)];
  return values.filter((value): value is string => value !== undefined);
}

/** A random secret for `init`: `bytes` random bytes, base64url (32 bytes -> 43 characters). */
export function generateSecret(bytes = 32): string {
  return randomBytes(bytes).toString('base64url');
}

const SAFE_VALUE = /^[A-Za-z0-9_\-.:/+=@,]*$/;

/** One `NAME=value` line; quotes values that need it. */
function formatLine(name: string, value: string): string {
  if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) throw new Error(`invalid variable name: ${name}`);
  if (SAFE_VALUE.test(value)) return `${name}=${value}`;
  if (!/['\n\r]/.test(value)) return `${name}='${value}'`;
  throw new Error(`the value of ${name} cannot be written to a .env file`);
}

/**
 * Appends to `file` each variable of `values` that the file does not define yet (even as
 * `NAME=`): never overwrites, so re-running `init` keeps existing secrets. Creates the file
 * with mode 0600 (it holds secrets). Returns the names it added, in order.
 */
export function appendMissingToDotEnv(options: { file: string; values: Record<string, string> }): string[] {
  const existing = readDotEnv(options.file);
  const added = Object.keys(options.values).filter((name) => !Object.hasOwn(existing, name));
  if (added.length === 0) return [];
  const lines = added.map((name) => formatLine(name, options.values[name] ?? '')).join('\n') + '\n';
  let current: string | undefined;
  try {
    current = readFileSync(options.file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
  if (current === undefined) {
    // `wx`: if another process created the file in between, fail instead of clobbering it.
    writeFileSync(options.file, lines, { mode: 0o600, flag: 'wx' });
  } else {
    const separator = current === '' || current.endsWith('\n') ? '' : '\n';
    appendFileSync(options.file, separator + lines);
  }
  return added;
}
