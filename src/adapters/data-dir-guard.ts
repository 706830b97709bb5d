/**
 * Guards an environment's data directory:
 * - it belongs to one environment for life (`environment.json`): pointing production at
 *   staging's directory (or the reverse) refuses to start;
 * - one process owns it at a time (`instance.lock` with the owner's pid): lowdb is safe within
 *   one process only, so a second instance or a CLI command must go through the HTTP API.
 *   A lock left by a process that no longer runs (kill -9) is taken over.
 */
import { mkdir, open, readFile, rm, writeFile, rename } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { ConfigError } from '../errors.ts';

export interface DataDirClaim {
  release(): Promise<void>;
}

/**
 * Directories claimed by instances of THIS process. The pid lock cannot tell two instances
 * of one process apart (a lock holding our own pid is taken over, since after a crash and
 * a container restart the new process may well get the old pid), so they are tracked here.
 */
const claimedInProcess = new Set<string>();

export async function claimDataDir(options: { dir: string; environment: string }): Promise<DataDirClaim> {
  const { dir, environment } = options;
  const lockPath = join(dir, 'instance.lock');
  const key = resolve(dir);
  if (claimedInProcess.has(key)) {
    throw new ConfigError('data directory is in use by another instance in this process', [
      { path: lockPath, message: 'close that instance first; one store has one owner' },
    ]);
  }
  claimedInProcess.add(key);
  try {
    await mkdir(dir, { recursive: true });
    await checkOwnerEnvironment(dir, environment);
    await acquireLock(lockPath, environment);
  } catch (error) {
    claimedInProcess.delete(key);
    throw error;
  }
  let released = false;
  return {
    async release() {
      if (released) return;
      released = true;
      await rm(lockPath, { force: true });
      claimedInProcess.delete(key);
    },
  };
}

async function checkOwnerEnvironment(dir: string, environment: string): Promise<void> {
  const markerPath = join(dir, 'environment.json');
  const existing = await readJson(markerPath);
  if (existing === undefined) {
    const temp = `${markerPath}.tmp`;
    await writeFile(temp, `${JSON.stringify({ environment, createdAt: new Date().toISOString() }, null, 2)}\n`);
    await rename(temp, markerPath);
    return;
  }
  const owner = (existing as { environment?: unknown }).environment;
  if (owner !== environment) {
    throw new ConfigError(`data directory ${dir} belongs to environment ${JSON.stringify(owner)}, not ${JSON.stringify(environment)}`, [
      { path: markerPath, message: `environments never share a store: give ${environment} its own dataDir` },
    ]);
  }
}

async function acquireLock(lockPath: string, environment: string): Promise<void> {
  for (let attempt = 0; attempt < 2; attempt += 1) {
    try {
      const handle = await open(lockPath, 'wx');
      await handle.writeFile(JSON.stringify({ pid: process.pid, environment, startedAt: new Date().toISOString() }));
      await handle.close();
      return;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      const holder = (await readJson(lockPath)) as { pid?: unknown } | undefined;
      const pid = typeof holder?.pid === 'number' ? holder.pid : undefined;
      if (pid !== undefined && pid !== process.pid && isRunning(pid)) {
        throw new ConfigError(`data directory is in use by another running instance (pid ${pid})`, [
          { path: lockPath, message: 'stop that instance, or use the CLI commands that talk to it over HTTP' },
        ]);
      }
      await rm(lockPath, { force: true });
    }
  }
  throw new ConfigError(`could not lock the data directory`, [{ path: lockPath, message: 'another process keeps taking the lock' }]);
}

function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

async function readJson(path: string): Promise<unknown> {
  try {
    return JSON.parse(await readFile(path, 'utf8')) as unknown;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
}
