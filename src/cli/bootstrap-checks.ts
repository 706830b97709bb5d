/**
 * The checks of `bootstrap <env>` (SPEC §6), in the order they run. Each returns a value
 * (ok, or what is wrong and how to fix it) and never throws for an expected failure. A check
 * may rely on what earlier ones established (`context.config`), which is why the runner
 * stops at the first failure. Problems name variables, never their values. The seven
 * checks share small helpers and their order matters, so they stay in one file (~300 lines).
 */
import { randomBytes } from 'node:crypto';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { ConfigError } from '../errors.ts';
import type { EnvConfig } from '../config/types.ts';
import { secretVariableNames } from '../config/secrets.ts';
import { loopMarker } from '../domain/loop-marker.ts';
import { ApiClient, InstanceUnreachableError, isRecord, type FetchFn } from './api-client.ts';
import { loadFromFlags, type EnvironmentFlags } from './environment-options.ts';
import { probeDirWrite } from '../adapters/store/durable-fs.ts';

export type CheckOutcome =
  /** `detail`: short, shown in parentheses; `note`: a caveat shown on its own line. */
  | { ok: true; detail?: string; note?: string }
  | { ok: false; problem: string; fix: string; problems?: string[] };

export interface CheckContext {
  env: string;
  flags: EnvironmentFlags;
  cwd: string;
  /** `--url`; else the config's publicUrl. */
  url: string | undefined;
  fetch: FetchFn;
  now: () => Date;
  /** Set by the `config` check. */
  config?: EnvConfig;
}

export interface BootstrapCheck {
  id: string;
  name: string;
  run(context: CheckContext): Promise<CheckOutcome>;
}

/** Thrown by a check that runs without the config check having passed: a bug. */
function requireConfig(context: CheckContext): EnvConfig {
  if (context.config === undefined) throw new Error('bootstrap: the config check must run first');
  return context.config;
}

/** Where the instance is expected: `--url` or the config's `publicUrl`. */
export function instanceUrl(context: CheckContext): string {
  return (context.url ?? requireConfig(context).publicUrl).replace(/\/+$/, '');
}

export function instanceClient(context: CheckContext): ApiClient {
  const config = requireConfig(context);
  return new ApiClient({ baseUrl: instanceUrl(context), apiKey: config.secrets.apiKey, environment: config.name, fetch: context.fetch });
}

const configValid: BootstrapCheck = {
  id: 'config',
  name: 'config valid',
  async run(context) {
    try {
      context.config = loadFromFlags(context.flags, context.cwd);
      const shown = path.relative(context.cwd, context.config.source);
      return { ok: true, detail: shown.startsWith('..') ? context.config.source : shown };
    } catch (error) {
      if (!(error instanceof ConfigError)) throw error;
      return {
        ok: false,
        problem: error.message,
        problems: error.problems.map((problem) => `${problem.path}: ${problem.message}`),
        fix: `correct the problems listed (or create the file with \`npm run bridge -- init ${context.env}\`)`,
      };
    }
  },
};

const secretsPresent: BootstrapCheck = {
  id: 'secrets',
  name: 'secrets present',
  async run(context) {
    const config = requireConfig(context);
    const names = secretVariableNames(config.name);
    const missing = [
      config.secrets.sharedSecret === undefined ? names.sharedSecret : undefined,
      config.secrets.apiKey === undefined ? names.apiKey : undefined,
      config.secrets.writeKey === undefined ? names.writeKey : undefined,
    ].filter((name): name is string => name !== undefined);
    if (missing.length === 0) return { ok: true };
    const fixes = [
      missing.includes(names.sharedSecret) || missing.includes(names.apiKey) ? `run \`npm run bridge -- init ${config.name}\` to generate the shared secret and API key into .env` : undefined,
      missing.includes(names.writeKey) ? `put the write key of the ${config.name} HTTP API source into ${names.writeKey} (.env or the process environment)` : undefined,
    ].filter((fix): fix is string => fix !== undefined);
    return { ok: false, problem: `not set: ${missing.join(', ')}`, fix: fixes.join('; ') };
  },
};

/**
 * Probes the data directory with a throw-away file (write, fsync, remove). It never opens
 * the store: a live instance may own it, and only one process may.
 */
const storeWritable: BootstrapCheck = {
  id: 'store',
  name: 'store writable',
  async run(context) {
    const { dataDir } = requireConfig(context);
    const code = await mkdir(dataDir, { recursive: true }).then(
      () => probeDirWrite(dataDir),
      (error: unknown) => (error as NodeJS.ErrnoException).code ?? 'error',
    );
    if (code === undefined) return { ok: true, detail: dataDir };
    return {
      ok: false,
      problem: `${dataDir} cannot be written (${code})`,
      fix: 'give this user write access to it, free some disk space, or point dataDir (or --data-dir) at a writable directory',
    };
  },
};

/** One real tracking call with the write key (SEGMENT-FACTS §3: Basic base64(writeKey:)). */
const writeKeyAccepted: BootstrapCheck = {
  id: 'write-key',
  name: 'write key accepted by Segment',
  async run(context) {
    const config = requireConfig(context);
    const writeKey = config.secrets.writeKey ?? '';
    const variable = secretVariableNames(config.name).writeKey;
    const host = config.segment.host;
    const now = context.now();
    const body = {
      batch: [{
        type: 'track',
        event: 'Segment Bridge Verification',
        userId: 'segment-bridge-verification',
        messageId: `sb-verify-${config.name}-${now.getTime()}`,
        timestamp: now.toISOString(),
        properties: { environment: config.name },
        // The marker: if this call comes back through a Webhooks destination, it is ignored.
        context: { segmentBridge: loopMarker(config.name), library: { name: 'segment-bridge-bootstrap' } },
      }],
      writeKey,
      sentAt: now.toISOString(),
    };
    let status: number;
    try {
      const response = await context.fetch(`${host}/v1/batch`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Basic ${Buffer.from(`${writeKey}:`).toString('base64')}` },
        body: JSON.stringify(body),
        signal: AbortSignal.timeout(10_000),
      });
      status = response.status;
      await response.arrayBuffer();
    } catch (error) {
      const reason = error instanceof Error && error.name === 'TimeoutError' ? 'no answer within 10 s' : 'network error';
      return { ok: false, problem: `cannot reach ${host} (${reason})`, fix: 'check the network/proxy, segment.region, or segment.host (--segment-host)' };
    }
    if (status >= 200 && status < 300) {
      return {
        ok: true,
        detail: `${host} answered ${status}`,
        note: `Segment's API may answer 200 even for an unknown write key: the final check is the "Segment Bridge Verification" event in the ${config.name} source's Debugger`,
      };
    }
    if (status === 401 || status === 403) {
      return { ok: false, problem: `write key rejected (${host} answered ${status})`, fix: `copy the write key of the ${config.name} HTTP API source into ${variable}; an EU workspace needs "segment": { "region": "eu" }` };
    }
    return { ok: false, problem: `${host} answered ${status} to a test call`, fix: `retry later; if it persists check segment.host and ${variable}` };
  },
};

const instanceAnswers: BootstrapCheck = {
  id: 'instance',
  name: 'instance answers',
  async run(context) {
    const config = requireConfig(context);
    const url = instanceUrl(context);
    const startHint = `start it with \`npm run bridge -- serve --env ${config.name}\` (or pass --url, or fix publicUrl)`;
    try {
      const result = await instanceClient(context).request({ path: '/healthz', auth: false });
      const environment = isRecord(result.json) ? result.json['environment'] : undefined;
      if (result.status !== 200) return { ok: false, problem: `${url}/healthz answered ${result.status}`, fix: startHint };
      if (environment !== config.name) {
        return { ok: false, problem: `the instance at ${url} is environment ${JSON.stringify(environment)}, not "${config.name}"`, fix: `point --url or publicUrl at the ${config.name} instance` };
      }
      return { ok: true, detail: url };
    } catch (error) {
      if (error instanceof InstanceUnreachableError) return { ok: false, problem: `no instance answers at ${url}`, fix: startHint };
      return { ok: false, problem: error instanceof Error ? error.message : String(error), fix: startHint };
    }
  },
};

/** A signed POST to /v1/segment, as Segment would send it; the answer's counts. */
async function postSigned(options: { client: ApiClient; config: EnvConfig; message: Record<string, unknown> }): Promise<{ status: number; counts: Record<string, unknown> }> {
  const result = await options.client.postSegment({ payload: options.message, sharedSecret: options.config.secrets.sharedSecret });
  return { status: result.status, counts: isRecord(result.json) ? result.json : {} };
}

function freshMessageId(options: { kind: string; env: string; now: Date }): string {
  return `sb-${options.kind}-${options.env}-${options.now.getTime()}-${randomBytes(6).toString('hex')}`;
}

function describeAnswer(status: number, counts: Record<string, unknown>): string {
  return status === 200
    ? `accepted ${String(counts['accepted'])}, duplicates ${String(counts['duplicates'])}, ignored ${String(counts['ignored'])}`
    : `HTTP ${status}${typeof counts['message'] === 'string' ? `: ${counts['message']}` : ''}`;
}

/** Which secret to blame for a 401 on /v1/segment or the read API. */
function refusedFix(config: EnvConfig, kind: 'sharedSecret' | 'apiKey'): string {
  const variable = secretVariableNames(config.name)[kind];
  return `the instance was started with a different ${variable}: restart it after changing .env, or run bootstrap with the same environment as the instance`;
}

/**
 * identify (signed with X-Signature) -> read it back through the API -> delete (cleanup).
 * The delete leaves a tombstone at its own timestamp; the next run's identify is newer, so
 * it is accepted again.
 */
const roundTrip: BootstrapCheck = {
  id: 'round-trip',
  name: 'signed test message round-trips',
  async run(context) {
    const config = requireConfig(context);
    const client = instanceClient(context);
    const userId = `segment-bridge-check-${config.name}`;
    const at = context.now().toISOString();
    const identify = {
      type: 'identify',
      userId,
      messageId: freshMessageId({ kind: 'check', env: config.name, now: context.now() }),
      timestamp: at,
      traits: { bootstrapCheckAt: at },
      context: { library: { name: 'segment-bridge-bootstrap' } },
    };
    const sent = await postSigned({ client, config, message: identify });
    if (sent.status === 401) return { ok: false, problem: 'the instance refused the signed message (401)', fix: refusedFix(config, 'sharedSecret') };
    if (sent.status !== 200 || sent.counts['accepted'] !== 1) {
      return { ok: false, problem: `POST /v1/segment did not accept the test identify (${describeAnswer(sent.status, sent.counts)})`, fix: 'read the instance log for this messageId' };
    }
    const read = await client.request({ path: `/v1/users/${encodeURIComponent(userId)}` });
    if (read.status === 401) return { ok: false, problem: 'the instance refused the API key (401)', fix: refusedFix(config, 'apiKey') };
    const traits = isRecord(read.json) && isRecord(read.json['traits']) ? read.json['traits'] : undefined;
    if (read.status !== 200 || traits?.['bootstrapCheckAt'] !== at) {
      return { ok: false, problem: `GET /v1/users/${userId} does not show the trait just sent (HTTP ${read.status})`, fix: 'the message was acknowledged but not stored: check the instance log and the store' };
    }
    const cleanup = await postSigned({
      client,
      config,
      message: { type: 'delete', userId, messageId: freshMessageId({ kind: 'cleanup', env: config.name, now: context.now() }), timestamp: context.now().toISOString() },
    });
    if (cleanup.status !== 200 || cleanup.counts['accepted'] !== 1) {
      return { ok: false, problem: `the cleanup delete of ${userId} was not accepted (${describeAnswer(cleanup.status, cleanup.counts)})`, fix: 'check that the instance handles `delete` messages' };
    }
    return { ok: true, detail: `identify -> GET /v1/users/${userId} -> delete` };
  },
};

/** A message carrying our own loop marker must be ignored (never applied twice). */
const loopGuard: BootstrapCheck = {
  id: 'loop-guard',
  name: 'loop guard holds',
  async run(context) {
    const config = requireConfig(context);
    const client = instanceClient(context);
    // A user of its own, so a tombstone left by the round trip cannot be why it is ignored.
    const userId = `segment-bridge-loop-check-${config.name}`;
    const echo = {
      type: 'track',
      event: 'Segment Bridge Loop Check',
      userId,
      messageId: freshMessageId({ kind: 'loop', env: config.name, now: context.now() }),
      timestamp: context.now().toISOString(),
      properties: { environment: config.name },
      context: { segmentBridge: loopMarker(config.name), library: { name: 'segment-bridge-bootstrap' } },
    };
    const sent = await postSigned({ client, config, message: echo });
    if (sent.status === 200 && sent.counts['ignored'] === 1 && sent.counts['accepted'] === 0) return { ok: true };
    if (sent.status === 200 && sent.counts['accepted'] === 1) {
      // Leave nothing behind even though the check failed.
      await postSigned({ client, config, message: { type: 'delete', userId, messageId: freshMessageId({ kind: 'cleanup', env: config.name, now: context.now() }), timestamp: context.now().toISOString() } });
    }
    return {
      ok: false,
      problem: `a message carrying the bridge's own marker was not ignored (${describeAnswer(sent.status, sent.counts)})`,
      fix: 'echoes of the bridge\'s own events would be counted twice and fire triggers: update the instance',
    };
  },
};

/** Every check, in the order SPEC §6 lists them. */
export const BOOTSTRAP_CHECKS: readonly BootstrapCheck[] = [
  configValid,
  secretsPresent,
  storeWritable,
  writeKeyAccepted,
  instanceAnswers,
  roundTrip,
  loopGuard,
];
