/**
 * Runs the real CLI (`serve`, or any command) in a child process, so a test can SIGKILL an
 * instance mid-write and restart it on the same data directory. The child is
 * `process.execPath --import <tsx loader> <absolute src/cli/index.ts>`: tsx's own CLI
 * (`tsx/dist/cli.mjs`) runs the script in a grandchild and only relays catchable signals,
 * so a SIGKILL would kill the wrapper and orphan the server (still holding the data dir
 * and our pipes). Loading tsx as an `--import` hook keeps one process: the one we kill.
 * Its cwd is a temp dir (so no project `.env` leaks in) and its secrets come only from `vars`.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const ROOT = resolve(fileURLToPath(new URL('../..', import.meta.url)));
const TSX_LOADER = pathToFileURL(join(ROOT, 'node_modules', 'tsx', 'dist', 'loader.mjs')).href;
const CLI_ENTRY = join(ROOT, 'src', 'cli', 'index.ts');

export interface ExitInfo {
  code: number | null;
  signal: NodeJS.Signals | null;
}

/** Variables every child gets: enough to run node, nothing of the parent's secrets. */
function baseEnv(): Record<string, string> {
  const keep = ['PATH', 'HOME', 'TMPDIR', 'LANG', 'SYSTEMROOT'];
  const env: Record<string, string> = { LOG_LEVEL: 'warn', NO_COLOR: '1' };
  for (const name of keep) {
    const value = process.env[name];
    if (value !== undefined) env[name] = value;
  }
  return env;
}

/** Children still running: killed if the test process exits first, so none outlives a test run. */
const live = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of live) child.kill('SIGKILL');
});

function spawnCli(options: { args: string[]; env: Record<string, string>; cwd: string }): ChildProcess {
  const child = spawn(process.execPath, ['--import', TSX_LOADER, CLI_ENTRY, ...options.args], {
    cwd: options.cwd,
    env: { ...baseEnv(), ...options.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  live.add(child);
  child.once('exit', () => live.delete(child));
  return child;
}

export interface ChildInstanceOptions {
  /** `--env`. Default `staging`. */
  env?: string;
  /** `--config`: an environment file (see `writeEnvironmentFile`). */
  configFile: string;
  /** `--data-dir`. */
  dataDir: string;
  /** Secret variables (e.g. `SEGMENT_SHARED_SECRET_STAGING`) and anything else for the child. */
  vars: Record<string, string>;
  /** The child's cwd. Default: the data dir's parent is not assumed; give a temp dir. */
  cwd: string;
  /** Default 20000 ms: a start that takes longer fails the test with the child's stderr. */
  startTimeoutMs?: number;
}

/** A `serve` child process that printed `listening on http://HOST:PORT`. */
export class ChildInstance {
  readonly url: string;
  readonly pid: number;
  readonly exited: Promise<ExitInfo>;
  readonly #child: ChildProcess;
  readonly #output: { stdout: string; stderr: string };

  private constructor(options: { child: ChildProcess; url: string; exited: Promise<ExitInfo>; output: { stdout: string; stderr: string } }) {
    this.#child = options.child;
    this.url = options.url;
    this.pid = options.child.pid ?? -1;
    this.exited = options.exited;
    this.#output = options.output;
  }

  /** Spawns `serve --env <env> --config <file> --port 0 --data-dir <dir>` and waits for its listening line. */
  static async start(options: ChildInstanceOptions): Promise<ChildInstance> {
    const args = ['serve', '--env', options.env ?? 'staging', '--config', options.configFile, '--port', '0', '--data-dir', options.dataDir];
    const child = spawnCli({ args, env: options.vars, cwd: options.cwd });
    const output = { stdout: '', stderr: '' };
    child.stderr?.setEncoding('utf8').on('data', (chunk: string) => (output.stderr += chunk));
    const exited = new Promise<ExitInfo>((resolveExit) => child.once('exit', (code, signal) => resolveExit({ code, signal })));
    const url = await new Promise<string>((resolveUrl, reject) => {
      const timer = setTimeout(() => {
        child.kill('SIGKILL');
        reject(new Error(`serve did not start within ${options.startTimeoutMs ?? 20_000} ms; stderr: ${output.stderr}`));
      }, options.startTimeoutMs ?? 20_000);
      child.stdout?.setEncoding('utf8').on('data', (chunk: string) => {
        output.stdout += chunk;
        const match = /listening on (http:\/\/\S+)/.exec(output.stdout);
        if (match?.[1]) {
          clearTimeout(timer);
          resolveUrl(match[1]);
        }
      });
      void exited.then(({ code, signal }) => {
        clearTimeout(timer);
        reject(new Error(`serve exited before listening (code ${String(code)}, signal ${String(signal)}); stderr: ${output.stderr}`));
      });
    });
    return new ChildInstance({ child, url, exited, output });
  }

  /** Sends `signal` (default SIGKILL: a crash) and resolves once the process is gone and reaped. */
  async kill(signal: NodeJS.Signals = 'SIGKILL'): Promise<ExitInfo> {
    this.#child.kill(signal);
    return this.exited;
  }

  /** A graceful stop (SIGTERM), as an orchestrator would. */
  stop(): Promise<ExitInfo> {
    return this.kill('SIGTERM');
  }

  stdout(): string {
    return this.#output.stdout;
  }

  stderr(): string {
    return this.#output.stderr;
  }
}

/** Runs one CLI command to completion: exit code and everything it printed. */
export function runCliCommand(options: { args: string[]; vars: Record<string, string>; cwd: string; timeoutMs?: number }): Promise<ExitInfo & { stdout: string; stderr: string }> {
  const child = spawnCli({ args: options.args, env: options.vars, cwd: options.cwd });
  let stdout = '';
  let stderr = '';
  child.stdout?.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
  child.stderr?.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  return new Promise((resolveRun, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${options.args.join(' ')} did not exit within ${options.timeoutMs ?? 20_000} ms; stdout: ${stdout}; stderr: ${stderr}`));
    }, options.timeoutMs ?? 20_000);
    // 'close' (unlike 'exit') fires once the pipes are drained too.
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      resolveRun({ code, signal, stdout, stderr });
    });
  });
}

/** The settings of an environment file (schema: src/config/environment-schema.ts). */
export interface EnvironmentFileSettings {
  name: string;
  port?: number;
  publicUrl?: string;
  segment?: { region?: 'us' | 'eu'; host?: string; flushAt?: number; flushIntervalMs?: number };
  production?: boolean;
  [key: string]: unknown;
}

/** Writes `<dir>/<name>.json` for `--config` and returns its path. */
export async function writeEnvironmentFile(options: { dir: string; settings: EnvironmentFileSettings }): Promise<string> {
  const { dir, settings } = options;
  const file = join(dir, `${settings.name}.json`);
  const content = { port: 0, publicUrl: 'http://127.0.0.1:0', ...settings };
  await writeFile(file, `${JSON.stringify(content, null, 2)}\n`);
  return file;
}
