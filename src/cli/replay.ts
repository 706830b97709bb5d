/**
 * `replay <file|dir>... --env <env> [--url URL] [--json]` (SPEC §6): signs each fixture as
 * Segment would (replay-sign.ts) and POSTs it to /v1/segment of the instance at `--url`, or
 * of an instance started in this process (which then owns the store: do not run it while
 * a `serve` of the same environment is up; pass `--url` instead).
 *
 * Summary per call type and outcome. The instance answers counts per request, not per
 * message, so for an array body the outcome of each item is known only when it is
 * unambiguous: rejected items are named by `rejected[].index`; the others are attributed to
 * their types when they all had the same outcome (all accepted, all duplicates or all
 * ignored). A batch whose other items had mixed outcomes is counted in `unattributed`
 * (the `(batch)` row) instead of guessing. Totals are always exact.
 *
 * Exit 1 when any request failed (non-2xx or no answer); a 200 with rejected items exits 0
 * and says so.
 */
import { readdir, readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import cliProgress from 'cli-progress';
import { startInstance, type Instance } from '../main.ts';
import { ConfigError } from '../errors.ts';
import type { EnvConfig } from '../config/types.ts';
import { silentLogger } from '../adapters/logger.ts';
import { ApiClient, isRecord } from './api-client.ts';
import { loadFromFlags, UsageError, type EnvironmentFlags } from './environment-options.ts';
import { formatTable, printJson, processOutput, type Output } from './output.ts';

export interface ReplayFlags extends EnvironmentFlags {
  url?: string;
  json?: boolean;
}

export interface ReplayFixture {
  /** Path as shown to the user (relative to cwd when inside it). */
  file: string;
  payload: unknown;
  /** The messages in the payload: itself, an array's elements, or `{"batch": [...]}`'s. */
  items: unknown[];
  single: boolean;
}

export interface TypeCounts {
  sent: number;
  accepted: number;
  duplicates: number;
  ignored: number;
  rejected: number;
  /** Messages in requests that failed (non-2xx, except a single message refused as invalid: rejected). */
  failed: number;
}

export interface ReplaySummary {
  environment: string;
  /** `--url`, or `in-process`. */
  target: string;
  requests: { total: number; ok: number; failed: number };
  totals: TypeCounts;
  byType: Record<string, TypeCounts>;
  /** Outcomes of array bodies whose items had mixed outcomes (see the module comment). */
  unattributed: { accepted: number; duplicates: number; ignored: number };
  rejected: Array<{ file: string; index: number; messageId: unknown; errors: unknown }>;
  failures: Array<{ file: string; status: number; message: string }>;
}

export interface ReplayResponse {
  fixture: ReplayFixture;
  status: number;
  json: unknown;
}

/** `.json` files of the paths given (directories: not recursive, sorted by name). */
export async function collectFixtures(options: { paths: string[]; cwd: string }): Promise<ReplayFixture[]> {
  const files: string[] = [];
  for (const given of options.paths) {
    const absolute = path.resolve(options.cwd, given);
    const info = await stat(absolute).catch(() => undefined);
    if (info === undefined) throw new UsageError(`${given} does not exist`);
    if (info.isDirectory()) {
      const names = (await readdir(absolute)).filter((name) => name.endsWith('.json')).sort();
      if (names.length === 0) throw new UsageError(`${given} has no .json files`);
      files.push(...names.map((name) => path.join(absolute, name)));
    } else {
      files.push(absolute);
    }
  }
  const fixtures: ReplayFixture[] = [];
  const broken: string[] = [];
  for (const absolute of files) {
    const file = displayPath(options.cwd, absolute);
    try {
      const payload = JSON.parse(await readFile(absolute, 'utf8')) as unknown;
      const items = Array.isArray(payload) ? payload : isRecord(payload) && Array.isArray(payload['batch']) ? (payload['batch'] as unknown[]) : [payload];
      fixtures.push({ file, payload, items, single: !Array.isArray(payload) && !(isRecord(payload) && Array.isArray(payload['batch'])) });
    } catch (error) {
      broken.push(`${file}: ${error instanceof Error ? error.message : String(error)}`);
    }
  }
  if (broken.length > 0) throw new UsageError(`these fixtures are not valid JSON (nothing was sent):\n  ${broken.join('\n  ')}`);
  return fixtures;
}

function displayPath(cwd: string, absolute: string): string {
  const relative = path.relative(cwd, absolute);
  return relative.startsWith('..') || path.isAbsolute(relative) ? absolute : relative;
}

function emptyCounts(): TypeCounts {
  return { sent: 0, accepted: 0, duplicates: 0, ignored: 0, rejected: 0, failed: 0 };
}

function typeOf(item: unknown): string {
  return isRecord(item) && typeof item['type'] === 'string' ? item['type'] : '(no type)';
}

function count(value: unknown): number {
  return typeof value === 'number' && Number.isFinite(value) ? value : 0;
}

/** Per-type and total counts from the answers (see the module comment for attribution). */
export function summarizeReplay(options: { environment: string; target: string; responses: ReplayResponse[] }): ReplaySummary {
  const summary: ReplaySummary = {
    environment: options.environment,
    target: options.target,
    requests: { total: 0, ok: 0, failed: 0 },
    totals: emptyCounts(),
    byType: {},
    unattributed: { accepted: 0, duplicates: 0, ignored: 0 },
    rejected: [],
    failures: [],
  };
  const bump = (type: string, outcome: Exclude<keyof TypeCounts, 'sent'>, by = 1): void => {
    const counts = (summary.byType[type] ??= emptyCounts());
    counts[outcome] += by;
    summary.totals[outcome] += by;
  };
  for (const { fixture, status, json } of options.responses) {
    summary.requests.total += 1;
    for (const item of fixture.items) {
      (summary.byType[typeOf(item)] ??= emptyCounts()).sent += 1;
      summary.totals.sent += 1;
    }
    const body = isRecord(json) ? json : {};
    const ok = status >= 200 && status < 300;
    if (!ok) {
      summary.requests.failed += 1;
      const message = typeof body['message'] === 'string' ? body['message'] : `HTTP ${status}`;
      summary.failures.push({ file: fixture.file, status, message });
      // A single message the bridge refused as invalid (400) is a rejection, not a transport failure.
      const outcome = status === 400 && fixture.single ? 'rejected' : 'failed';
      for (const item of fixture.items) bump(typeOf(item), outcome);
      if (outcome === 'rejected') summary.rejected.push({ file: fixture.file, index: 0, messageId: isRecord(fixture.items[0]) ? fixture.items[0]['messageId'] : undefined, errors: body['details'] });
      continue;
    }
    summary.requests.ok += 1;
    const rejectedIndexes = new Set<number>();
    for (const entry of Array.isArray(body['rejected']) ? body['rejected'] : []) {
      const index = isRecord(entry) ? count(entry['index']) : 0;
      rejectedIndexes.add(index);
      bump(typeOf(fixture.items[index]), 'rejected');
      summary.rejected.push({ file: fixture.file, index, messageId: isRecord(entry) ? entry['messageId'] : undefined, errors: isRecord(entry) ? entry['errors'] : undefined });
    }
    const rest = fixture.items.filter((_, index) => !rejectedIndexes.has(index));
    const outcomes = { accepted: count(body['accepted']), duplicates: count(body['duplicates']), ignored: count(body['ignored']) };
    const total = outcomes.accepted + outcomes.duplicates + outcomes.ignored;
    const only = (Object.keys(outcomes) as Array<keyof typeof outcomes>).find((key) => outcomes[key] === total);
    if (total === rest.length && only !== undefined) {
      for (const item of rest) bump(typeOf(item), only);
    } else {
      for (const key of Object.keys(outcomes) as Array<keyof typeof outcomes>) {
        summary.unattributed[key] += outcomes[key];
        summary.totals[key] += outcomes[key];
      }
    }
  }
  return summary;
}

/** The human summary: a table per type, then rejections and failures. */
export function formatReplaySummary(summary: ReplaySummary): string {
  const columns: Array<keyof TypeCounts> = ['sent', 'accepted', 'duplicates', 'ignored', 'rejected', 'failed'];
  const rows = Object.entries(summary.byType).sort(([a], [b]) => a.localeCompare(b)).map(([type, counts]) => [type, ...columns.map((key) => counts[key])]);
  const { unattributed } = summary;
  const mixed = unattributed.accepted + unattributed.duplicates + unattributed.ignored > 0;
  if (mixed) rows.push(['(batch)', '', unattributed.accepted, unattributed.duplicates, unattributed.ignored, '', '']);
  rows.push(['total', ...columns.map((key) => summary.totals[key])]);
  const lines = [
    `replayed ${summary.requests.total} request(s) to ${summary.environment} (${summary.target}): ${summary.requests.ok} answered 2xx, ${summary.requests.failed} failed`,
    formatTable({ headers: ['type', ...columns], rows }).trimEnd(),
  ];
  if (mixed) lines.push('(batch): outcomes of array bodies whose items had mixed outcomes; the instance reports them per request, not per item.');
  if (summary.rejected.length > 0) {
    lines.push(`${summary.rejected.length} message(s) rejected by the bridge (kept in its rejections log):`);
    for (const entry of summary.rejected) lines.push(`  ${entry.file}[${entry.index}] ${String(entry.messageId ?? '-')}: ${JSON.stringify(entry.errors ?? [])}`);
  }
  for (const failure of summary.failures) lines.push(`FAILED ${failure.file}: ${failure.status} ${failure.message}`);
  return `${lines.join('\n')}\n`;
}

/** Sends the fixtures one by one, in order; calls `onProgress` after each. */
export async function sendFixtures(options: {
  client: ApiClient;
  sharedSecret: string | undefined;
  fixtures: ReplayFixture[];
  onProgress?: (done: number, response: ReplayResponse) => void;
}): Promise<ReplayResponse[]> {
  const responses: ReplayResponse[] = [];
  for (const fixture of options.fixtures) {
    // An unreachable instance throws (InstanceUnreachableError): the whole replay stops there.
    const result = await options.client.postSegment({ payload: fixture.payload, sharedSecret: options.sharedSecret });
    const response: ReplayResponse = { fixture, status: result.status, json: result.json };
    responses.push(response);
    options.onProgress?.(responses.length, response);
  }
  return responses;
}

/** Commander action of `replay`. */
export async function replayCommand(paths: string[], flags: ReplayFlags, output: Output = processOutput): Promise<void> {
  const cwd = process.cwd();
  const config = loadFromFlags(flags, cwd);
  const fixtures = await collectFixtures({ paths, cwd });
  let instance: Instance | undefined;
  if (flags.url === undefined) instance = await startInProcess(config);
  try {
    const client = new ApiClient({ baseUrl: flags.url ?? instance?.url ?? config.publicUrl, apiKey: config.secrets.apiKey, environment: config.name });
    const progress = createProgress({ total: fixtures.length, json: flags.json === true, output });
    let responses: ReplayResponse[];
    try {
      responses = await sendFixtures({ client, sharedSecret: config.secrets.sharedSecret, fixtures, onProgress: progress.update });
    } finally {
      progress.stop();
    }
    const summary = summarizeReplay({ environment: config.name, target: flags.url ?? 'in-process', responses });
    if (flags.json === true) printJson(output, summary);
    else output.out(formatReplaySummary(summary));
    process.exitCode = summary.requests.failed > 0 ? 1 : 0;
  } finally {
    await instance?.close();
  }
}

/** The in-process instance; a store owned by a running `serve` is refused with a hint. */
async function startInProcess(config: EnvConfig): Promise<Instance> {
  try {
    return await startInstance({ config, port: 0, log: silentLogger() });
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    const hint = { path: '--url', message: `to replay into a running ${config.name} instance, pass --url <its base URL>` };
    throw new ConfigError(error.message, [...error.problems, hint]);
  }
}

/** A bar on a TTY; plain `[3/9] identify.json 200` lines otherwise (stderr under --json). */
function createProgress(options: { total: number; json: boolean; output: Output }): { update: (done: number, response: ReplayResponse) => void; stop: () => void } {
  if (process.stdout.isTTY === true && !options.json) {
    const bar = new cliProgress.SingleBar(
      { format: 'replay [{bar}] {value}/{total} {file}', clearOnComplete: true, hideCursor: true, stream: process.stdout },
      cliProgress.Presets.shades_classic,
    );
    bar.start(options.total, 0, { file: '' });
    return { update: (done, response) => bar.update(done, { file: path.basename(response.fixture.file) }), stop: () => bar.stop() };
  }
  const write = options.json ? options.output.err : options.output.out;
  return {
    update: (done, response) => write(`[${done}/${options.total}] ${path.basename(response.fixture.file)} ${response.status}\n`),
    stop: () => undefined,
  };
}
