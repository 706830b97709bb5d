/**
 * `status`, `users show`, `outbox list|retry`, `deliveries list|retry` (SPEC §6). They go
 * through the running instance's HTTP API with the environment's API key, never through
 * the store (only the instance may own it). Base URL: `--url`, else the config's
 * `publicUrl`. `--json` prints the instance's answer as it is.
 */
import type { OutboxEntry } from '../domain/outbox-entry.ts';
import type { WebhookDelivery } from '../domain/trigger-run.ts';
import { ApiClient, isRecord, responseError } from './api-client.ts';
import { loadFromFlags, UsageError, type EnvironmentFlags } from './environment-options.ts';
import { formatPairs, formatTable, printJson, processOutput, type Cell, type Output } from './output.ts';

export interface ReadFlags extends EnvironmentFlags {
  url?: string;
  json?: boolean;
  status?: string;
}

/** The API client for the environment's running instance. */
export function connect(flags: ReadFlags, cwd = process.cwd()): { client: ApiClient; environment: string } {
  const config = loadFromFlags(flags, cwd);
  return {
    client: new ApiClient({ baseUrl: flags.url ?? config.publicUrl, apiKey: config.secrets.apiKey, environment: config.name }),
    environment: config.name,
  };
}

function record(value: unknown): Record<string, unknown> {
  return isRecord(value) ? value : {};
}

function cell(value: unknown): Cell {
  if (value === undefined || value === null) return undefined;
  return typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean' ? value : JSON.stringify(value);
}

function yesNo(value: unknown): string {
  return value === true ? 'set' : 'missing';
}

/** An error as the status reports it: a string, or `{ message | reason, at }`. */
function describeError(value: unknown): Cell {
  if (!isRecord(value)) return cell(value);
  const text = value['message'] ?? value['reason'];
  return `${String(text ?? JSON.stringify(value))}${typeof value['at'] === 'string' ? ` (at ${value['at']})` : ''}`;
}

function outboxLine(outbox: Record<string, unknown> | undefined): string {
  if (outbox === undefined) return 'not running in this instance';
  const queued = `${cell(outbox['pending']) ?? 0} queued`;
  return [
    outbox['sinkConfigured'] === false ? `${queued} (no write key set: events stay queued)` : queued,
    `${cell(outbox['dead']) ?? 0} dead`,
    `${cell(outbox['delivered']) ?? 0} delivered`,
  ].join(', ');
}

/** The human view of GET /v1/status: a compact aligned table. */
export function formatStatus(status: Record<string, unknown>): string {
  const counts = record(status['counts']);
  const auth = record(status['auth']);
  const outbox = isRecord(status['outbox']) ? status['outbox'] : undefined;
  const deliveries = isRecord(status['deliveries']) ? status['deliveries'] : undefined;
  const verified = isRecord(status['verified']) ? status['verified'] : undefined;
  const environment = String(status['environment'] ?? '?');
  const pairs: Array<[string, Cell]> = [
    ['environment:', `${environment}${status['production'] === true ? ' (production)' : ''}`],
    ['verified:', verified ? cell(verified['verifiedAt']) : `no: run \`npm run bridge -- bootstrap ${environment}\``],
    ['secrets:', `shared secret ${yesNo(auth['sharedSecret'])}, API key ${yesNo(auth['apiKey'])}, write key ${yesNo(auth['writeKey'])}`],
    ['users:', `${cell(counts['users']) ?? 0} (anonymous ${cell(counts['anonymous']) ?? 0}, tombstones ${cell(counts['tombstones']) ?? 0})`],
    ['rejections:', cell(counts['rejections'])],
    ['trigger runs:', cell(counts['triggerRuns'])],
    ['outbox:', outboxLine(outbox)],
  ];
  if (outbox?.['oldestPendingAt'] !== undefined) pairs.push(['  oldest:', cell(outbox['oldestPendingAt'])]);
  if (outbox?.['nextAttemptAt'] !== undefined) pairs.push(['  next try:', cell(outbox['nextAttemptAt'])]);
  if (outbox?.['lastDeliveryAt'] !== undefined) pairs.push(['  last sent:', cell(outbox['lastDeliveryAt'])]);
  if (outbox?.['lastError'] !== undefined) pairs.push(['  last error:', describeError(outbox['lastError'])]);
  pairs.push(['deliveries:', deliveries === undefined
    ? 'not running in this instance'
    : `${cell(deliveries['pending']) ?? 0} pending, ${cell(deliveries['failed']) ?? 0} failed, ${cell(deliveries['delivered']) ?? 0} delivered`]);
  if (deliveries?.['lastError'] !== undefined) pairs.push(['  last error:', describeError(deliveries['lastError'])]);
  pairs.push(['uptime:', status['uptimeSec'] === undefined ? undefined : `${cell(status['uptimeSec'])} s`]);
  return formatPairs(pairs);
}

export async function statusCommand(flags: ReadFlags, output: Output = processOutput): Promise<void> {
  const { client, environment } = connect(flags);
  const result = await client.request({ path: '/v1/status' });
  if (result.status === 404) throw new Error(`the instance at ${client.baseUrl} has no /v1/status: it runs an older version; restart it`);
  if (result.status < 200 || result.status >= 300) throw responseError(result, environment);
  if (flags.json === true) printJson(output, result.json);
  else output.out(formatStatus(record(result.json)));
}

/** The human view of a profile. */
export function formatProfile(profile: Record<string, unknown>): string {
  const counts = record(profile['counts']);
  const byType = Object.entries(record(counts['byType'])).map(([type, n]) => `${type} ${String(n)}`).join(', ');
  const list = (value: unknown): string => (Array.isArray(value) && value.length > 0 ? value.map(String).join(', ') : '-');
  const groups = Array.isArray(profile['groups']) ? profile['groups'].map((group) => String(record(group)['groupId'])) : [];
  const runs = Array.isArray(profile['triggerRuns']) ? profile['triggerRuns'] : [];
  let text = formatPairs([
    ['userId:', cell(profile['userId'])],
    ['first seen:', cell(profile['firstSeenAt'])],
    ['last seen:', cell(profile['lastSeenAt'])],
    ['events:', `${cell(counts['total']) ?? 0}${byType === '' ? '' : ` (${byType})`}`],
    ['anonymousIds:', list(profile['anonymousIds'])],
    ['aliases:', list(profile['aliases'])],
    ['groups:', list(groups)],
    ['trigger runs:', runs.length],
  ]);
  const traits = Object.entries(record(profile['traits']));
  text += traits.length === 0 ? 'traits: none\n' : `traits:\n${formatPairs(traits.map(([key, value]) => [`  ${key}`, cell(value)]))}`;
  const recent = Array.isArray(profile['recentEvents']) ? profile['recentEvents'].map(record) : [];
  if (recent.length > 0) {
    text += `recent events (newest first):\n${formatTable({
      headers: ['timestamp', 'type', 'event', 'messageId'],
      rows: recent.slice(0, 20).map((event) => [cell(event['timestamp']), cell(event['type']), cell(event['event'] ?? event['name']), cell(event['messageId'])]),
    })}`;
  }
  return text;
}

export async function usersShowCommand(userId: string, flags: ReadFlags, output: Output = processOutput): Promise<void> {
  const { client, environment } = connect(flags);
  const result = await client.request({ path: `/v1/users/${encodeURIComponent(userId)}` });
  if (result.status === 404) throw new Error(`no such user: ${JSON.stringify(userId)} in ${environment}`);
  if (result.status < 200 || result.status >= 300) throw responseError(result, environment);
  if (flags.json === true) printJson(output, result.json);
  else output.out(formatProfile(record(result.json)));
}

function checkStatusFlag(status: string | undefined, allowed: readonly string[]): void {
  if (status !== undefined && !allowed.includes(status)) throw new UsageError(`--status must be one of ${allowed.join(', ')}, got ${JSON.stringify(status)}`);
}

function query(status: string | undefined): string {
  return status === undefined ? '' : `?status=${encodeURIComponent(status)}`;
}

export async function outboxListCommand(flags: ReadFlags, output: Output = processOutput): Promise<void> {
  checkStatusFlag(flags.status, ['pending', 'dead']);
  const { client } = connect(flags);
  const body = record(await client.requestOk({ path: `/v1/outbox${query(flags.status)}` }));
  if (flags.json === true) return printJson(output, body);
  const entries = (Array.isArray(body['entries']) ? body['entries'] : []) as OutboxEntry[];
  if (entries.length === 0) return output.out(`no outbox entries${flags.status === undefined ? '' : ` with status ${flags.status}`}\n`);
  output.out(formatTable({
    headers: ['messageId', 'event', 'userId', 'status', 'attempts', 'enqueuedAt', 'lastError'],
    rows: entries.map((entry) => [entry.messageId, entry.sentAs ?? entry.event, entry.userId, entry.status, entry.attempts, entry.enqueuedAt, entry.lastError]),
  }));
}

export async function deliveriesListCommand(flags: ReadFlags, output: Output = processOutput): Promise<void> {
  checkStatusFlag(flags.status, ['pending', 'failed', 'delivered']);
  const { client } = connect(flags);
  const body = record(await client.requestOk({ path: `/v1/deliveries${query(flags.status)}` }));
  if (flags.json === true) return printJson(output, body);
  const deliveries = (Array.isArray(body['deliveries']) ? body['deliveries'] : []) as WebhookDelivery[];
  if (deliveries.length === 0) return output.out(`no deliveries${flags.status === undefined ? '' : ` with status ${flags.status}`}\n`);
  output.out(formatTable({
    headers: ['id', 'trigger', 'userId', 'status', 'attempts', 'lastStatus', 'createdAt', 'lastError'],
    rows: deliveries.map((d) => [d.id, d.triggerId, d.userId, d.status, d.attempts, d.lastStatus, d.createdAt, d.lastError]),
  }));
}

/** `outbox retry [ids...]` / `deliveries retry [ids...]`: no ids = every dead/failed one. */
export async function retryCommand(options: { what: 'outbox' | 'deliveries'; ids: string[]; flags: ReadFlags; output?: Output }): Promise<void> {
  const { what, ids, flags, output = processOutput } = options;
  const { client } = connect(flags);
  const body = record(await client.requestOk({ method: 'POST', path: `/v1/${what}/retry`, body: ids.length > 0 ? { ids } : {} }));
  if (flags.json === true) return printJson(output, body);
  const noun = what === 'outbox' ? 'outbox entries' : 'deliveries';
  output.out(`retried ${String(body['retried'] ?? 0)} ${noun}${ids.length > 0 ? ` of ${ids.length} requested` : ''}\n`);
}
