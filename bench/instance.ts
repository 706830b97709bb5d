/**
 * Starts the real instance for a benchmark: `serve --env bench --config <tmp> --data-dir
 * <dir> --port 0` in a child process, secrets in its environment, LOG_LEVEL=warn (the
 * per-request info line is off, as it would be in a busy production deployment).
 */
import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { BENCH_ENV, BENCH_SECRETS, benchSecretsEnv } from './bench-config.ts';
import { spawnServer, type ChildServer } from './child.ts';
import { INSTANCE_NODE_FLAGS } from '../src/cli/node-flags.ts';

export interface InstanceOptions {
  configFile: string;
  dataDir: string;
  /** Where the Segment sink sends (a local stand-in); default an unused port. */
  segmentHost?: string;
  nodeFlags?: string[];
}

export function spawnInstance(options: InstanceOptions): Promise<ChildServer> {
  return spawnServer({
    args: [
      'src/cli/index.ts',
      'serve',
      '--env',
      BENCH_ENV,
      '--config',
      options.configFile,
      '--data-dir',
      options.dataDir,
      '--port',
      '0',
      '--segment-host',
      options.segmentHost ?? 'http://127.0.0.1:9',
    ],
    env: { ...benchSecretsEnv(), LOG_LEVEL: 'warn' },
    nodeFlags: options.nodeFlags ?? instanceNodeFlags(),
  });
}

/**
 * The flags every launch path of the instance uses (src/cli/node-flags.ts), then
 * `BENCH_INSTANCE_NODE_FLAGS` (space-separated), which goes to every instance child, e.g.
 * `--cpu-prof --cpu-prof-dir=/tmp/prof` to profile the instance under load.
 */
function instanceNodeFlags(): string[] {
  return [...INSTANCE_NODE_FLAGS, ...extraNodeFlags()];
}

/** `BENCH_INSTANCE_NODE_FLAGS`, split (also given to the floor server, to profile it alike). */
export function extraNodeFlags(): string[] {
  return (process.env['BENCH_INSTANCE_NODE_FLAGS'] ?? '').split(' ').filter((flag) => flag !== '');
}

export interface InstanceStatus {
  counts: { users: number; seenMessages: number; triggerRuns: number };
  outbox: { pending: number; dead: number; delivered: number } | null;
}

/** GET /v1/status with the API key. */
export async function fetchStatus(url: string): Promise<InstanceStatus> {
  const response = await fetch(`${url}/v1/status`, { headers: { authorization: `Bearer ${BENCH_SECRETS.apiKey}` } });
  if (!response.ok) throw new Error(`GET /v1/status answered ${response.status}`);
  return (await response.json()) as InstanceStatus;
}

/** Bytes of all files under `dir` (what the store takes on disk). */
export async function dirBytes(dir: string): Promise<number> {
  let total = 0;
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) total += await dirBytes(path);
    else if (entry.isFile()) total += (await stat(path)).size;
  }
  return total;
}
