/**
 * Servers under test run in child processes (node --import tsx), so their RSS is their own
 * and they get a core apart from the load generator. A child is ready when it prints
 * `listening on http://HOST:PORT` on stdout (what `serve` prints).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFile } from 'node:fs/promises';

export interface ChildServer {
  url: string;
  pid: number;
  /** Milliseconds from spawn to the `listening on` line. */
  startMs: number;
  /** VmHWM (peak resident set) of the child, bytes. */
  peakRssBytes(): Promise<number>;
  /** VmRSS (current resident set) of the child, bytes. */
  rssBytes(): Promise<number>;
  /** CPU time (user + system, all threads) the child has used so far, milliseconds. */
  cpuMs(): Promise<number>;
  /** SIGTERM, then waits for the exit; returns milliseconds until it exited. */
  stop(timeoutMs?: number): Promise<number>;
  /** Whatever the child wrote on stderr (its warnings), for the report on failure. */
  stderr(): string;
}

export interface SpawnOptions {
  /** Script and arguments after `node --import tsx`. */
  args: string[];
  env?: Record<string, string>;
  /** Extra node flags (e.g. `--max-old-space-size`). */
  nodeFlags?: string[];
  cwd?: string;
  startTimeoutMs?: number;
}

export async function spawnServer(options: SpawnOptions): Promise<ChildServer> {
  const startedMs = performance.now();
  const child = spawn(process.execPath, [...(options.nodeFlags ?? []), '--import', 'tsx', ...options.args], {
    cwd: options.cwd ?? process.cwd(),
    env: { ...process.env, ...options.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr?.setEncoding('utf8');
  child.stderr?.on('data', (chunk: string) => {
    stderr = (stderr + chunk).slice(-20_000);
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const url = await waitForListening({ child, exited, timeoutMs: options.startTimeoutMs ?? 180_000, stderr: () => stderr });
  const startMs = performance.now() - startedMs;
  const pid = child.pid ?? -1;
  return {
    url,
    pid,
    startMs,
    peakRssBytes: () => procStatusBytes(pid, 'VmHWM'),
    rssBytes: () => procStatusBytes(pid, 'VmRSS'),
    cpuMs: () => procCpuMs(pid),
    stderr: () => stderr,
    async stop(timeoutMs = 300_000) {
      const stopMs = performance.now();
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
      await exited;
      clearTimeout(timer);
      return performance.now() - stopMs;
    },
  };
}

function waitForListening(options: { child: ChildProcess; exited: Promise<number | null>; timeoutMs: number; stderr: () => string }): Promise<string> {
  const { child } = options;
  return new Promise((resolve, reject) => {
    let stdout = '';
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`child did not print "listening on" within ${options.timeoutMs} ms; stderr: ${options.stderr().slice(-2000)}`));
    }, options.timeoutMs);
    child.stdout?.setEncoding('utf8');
    child.stdout?.on('data', (chunk: string) => {
      stdout += chunk;
      const match = /listening on (http:\/\/\S+)/.exec(stdout);
      if (match?.[1]) {
        clearTimeout(timer);
        resolve(match[1]);
      }
    });
    void options.exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`child exited (code ${String(code)}) before listening; stderr: ${options.stderr().slice(-2000)}`));
    });
  });
}

/** A `Vm*` line of /proc/<pid>/status (Linux), in bytes; 0 where /proc is not available. */
async function procStatusBytes(pid: number, field: 'VmHWM' | 'VmRSS'): Promise<number> {
  try {
    const status = await readFile(`/proc/${pid}/status`, 'utf8');
    const match = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status);
    return match?.[1] ? Number(match[1]) * 1024 : 0;
  } catch {
    return 0;
  }
}

/** utime + stime of /proc/<pid>/stat (Linux), in milliseconds; 0 where /proc is not available. */
export async function procCpuMs(pid: number): Promise<number> {
  try {
    const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
    // Fields after the parenthesised command name; utime and stime are fields 14 and 15.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const ticks = Number(fields[11]) + Number(fields[12]);
    return Number.isFinite(ticks) ? ticks * (1000 / CLOCK_TICKS_PER_SEC) : 0;
  } catch {
    return 0;
  }
}

/** USER_HZ: 100 on every Linux architecture Node supports. */
const CLOCK_TICKS_PER_SEC = 100;
