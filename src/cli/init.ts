/**
 * `init <env>` (SPEC §6): writes `environments/<env>.json` from the template (never over an
 * existing file), generates the shared secret and the API key into `.env` (never over an
 * existing variable), then prints the webhook URL and the steps to connect Segment.
 * Values of secrets are never printed: only the names of the variables that hold them.
 */
import { readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import type { Command } from 'commander';
import { ENV_NAME_PATTERN } from '../config/environment-schema.ts';
import { appendMissingToDotEnv, generateSecret, secretVariableNames } from '../config/secrets.ts';
import { renderTemplate } from '../config/template.ts';
import { isRecord } from './api-client.ts';
import { UsageError, type EnvironmentFlags } from './environment-options.ts';
import { processOutput, type Output } from './output.ts';

export interface InitFlags extends EnvironmentFlags {
  publicUrl?: string;
}

/** Default ports of the shipped environments; others get 4300. */
const DEFAULT_PORTS: Record<string, number> = { staging: 4100, production: 4200 };

export interface InitResult {
  file: string;
  fileCreated: boolean;
  dotEnv: string;
  added: string[];
  kept: string[];
  publicUrl: string;
}

/** Does the work of `init`; prints nothing. */
export function runInit(options: { env: string; flags: InitFlags; cwd: string }): InitResult {
  const { env, flags, cwd } = options;
  if (!new RegExp(ENV_NAME_PATTERN).test(env)) {
    throw new UsageError(`invalid environment name "${env}": lowercase letters, digits and "-", starting with a letter`);
  }
  const port = flags.port === undefined ? (DEFAULT_PORTS[env] ?? 4300) : parsePort(flags.port);
  const file = path.resolve(cwd, flags.config ?? path.join('environments', `${env}.json`));
  const fileCreated = writeEnvironmentFile({ file, text: renderFile({ env, port, flags }) });
  const publicUrl = readPublicUrl(file) ?? `http://127.0.0.1:${port}`;

  const dotEnv = path.join(cwd, '.env');
  const names = secretVariableNames(env);
  const added = appendMissingToDotEnv({
    file: dotEnv,
    values: { [names.sharedSecret]: generateSecret(), [names.apiKey]: generateSecret() },
  });
  const kept = [names.sharedSecret, names.apiKey].filter((name) => !added.includes(name));
  return { file, fileCreated, dotEnv, added, kept, publicUrl };
}

function renderFile(options: { env: string; port: number; flags: InitFlags }): string {
  const { env, port, flags } = options;
  const data = JSON.parse(renderTemplate({ name: env, port })) as Record<string, unknown>;
  if (flags.publicUrl !== undefined) data['publicUrl'] = flags.publicUrl.replace(/\/+$/, '');
  if (flags.dataDir !== undefined) data['dataDir'] = flags.dataDir;
  if (flags.segmentHost !== undefined && isRecord(data['segment'])) data['segment'] = { ...data['segment'], host: flags.segmentHost };
  return `${JSON.stringify(data, null, 2)}\n`;
}

/** `wx`: an existing file is kept as it is, whatever it holds. */
function writeEnvironmentFile(options: { file: string; text: string }): boolean {
  mkdirSync(path.dirname(options.file), { recursive: true });
  try {
    writeFileSync(options.file, options.text, { flag: 'wx' });
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw error;
  }
}

/** The file's publicUrl, read leniently (an existing file may not be valid yet). */
function readPublicUrl(file: string): string | undefined {
  try {
    const data = JSON.parse(readFileSync(file, 'utf8')) as unknown;
    const url = isRecord(data) ? data['publicUrl'] : undefined;
    return typeof url === 'string' ? url.replace(/\/+$/, '') : undefined;
  } catch {
    return undefined;
  }
}

function parsePort(value: string): number {
  const port = Number(value);
  if (!Number.isInteger(port) || port < 0 || port > 65_535) throw new UsageError(`--port must be an integer from 0 to 65535, got ${JSON.stringify(value)}`);
  return port;
}

/** The set-up steps, with variable names only. */
export function formatInitReport(options: { env: string; cwd: string; result: InitResult }): string {
  const { env, cwd, result } = options;
  const names = secretVariableNames(env);
  const shown = path.relative(cwd, result.file) || result.file;
  const webhookUrl = `${result.publicUrl}/v1/segment`;
  const lines = [
    result.fileCreated ? `wrote ${shown}` : `${shown} exists: kept as it is (init never overwrites it)`,
    result.added.length > 0 ? `.env: added ${result.added.join(', ')} (generated)` : undefined,
    result.kept.length > 0 ? `.env: kept ${result.kept.join(', ')} (already defined; never overwritten)` : undefined,
    '',
    `Webhook URL for ${env}: ${webhookUrl}`,
    /^https?:\/\/(127\.|localhost|\[::1\])/.test(result.publicUrl)
      ? `  publicUrl is a local address that Segment cannot reach: set "publicUrl" in ${shown} to the public HTTPS address of this instance.`
      : undefined,
    '',
    `Set up Segment for ${env}:`,
    `  1. Create an HTTP API source for ${env} only (Connections > Sources > Add Source > HTTP API) and put its write key into ${names.writeKey} in .env. The bridge sends its flow events there.`,
    `  2. On each of your sources whose events the bridge should see, add a Webhooks (Actions) destination with:`,
    `       URL:            ${webhookUrl}`,
    `       Shared secret:  the value of ${names.sharedSecret} (in .env); Segment signs each call with it`,
    `       If you enable batching, also add the header  Authorization: Bearer <the value of ${names.sharedSecret}>`,
    `       (Segment signs only the first event of a batch; the bridge refuses an unsigned rest).`,
    `  3. Use the same userId on both sides: in your product's Segment calls and in the flow events it reports to the bridge (${names.apiKey} authenticates those).`,
    `  4. Start the instance (npm run bridge -- serve --env ${env}) and run: npm run bridge -- bootstrap ${env}`,
    env === 'production' ? '     bootstrap production refuses until staging is verified: bootstrap staging first.' : undefined,
  ];
  return `${lines.filter((line): line is string => line !== undefined).join('\n')}\n`;
}

/** Commander action of `init <env>`. */
export function initCommand(env: string, flags: InitFlags, command: Command, output: Output = processOutput): void {
  if (command.getOptionValueSource('env') === 'cli' && flags.env !== env) {
    throw new UsageError(`init ${env} was given --env ${flags.env}: name one environment`);
  }
  const cwd = process.cwd();
  const result = runInit({ env, flags, cwd });
  output.out(formatInitReport({ env, cwd, result }));
}
