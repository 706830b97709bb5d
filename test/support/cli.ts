/**
 * Runs the CLI as a child process, the way a user does, in a temp project directory (the
 * CLI finds `environments/` and `.env` relative to its cwd). The child gets a clean
 * environment: only PATH/HOME plus the variables a test passes, so secrets of the
 * developer's shell never leak in.
 */
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';

export const REPO_ROOT = path.resolve(import.meta.dirname, '..', '..');
const CLI_ENTRY = path.join(REPO_ROOT, 'src', 'cli', 'index.ts');
// tsx's loader by absolute URL: the child's cwd is a temp dir without node_modules.
const TSX_LOADER = pathToFileURL(path.join(REPO_ROOT, 'node_modules', 'tsx', 'dist', 'loader.mjs')).href;

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

export function runCli(options: { args: string[]; cwd: string; env?: Record<string, string>; timeoutMs?: number }): Promise<CliResult> {
  const env: Record<string, string> = {
    PATH: process.env['PATH'] ?? '',
    HOME: process.env['HOME'] ?? tmpdir(),
    TSX_TSCONFIG_PATH: path.join(REPO_ROOT, 'tsconfig.json'),
    LOG_LEVEL: 'silent',
    ...options.env,
  };
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', TSX_LOADER, CLI_ENTRY, ...options.args], { cwd: options.cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 30_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

/** A temp project: `environments/<name>.json` for each entry, and `.env` if given. */
export function makeProject(options: { environments?: Record<string, unknown>; dotEnv?: string } = {}): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'sb-cli-'));
  mkdirSync(path.join(dir, 'environments'));
  for (const [name, content] of Object.entries(options.environments ?? {})) {
    writeEnvironment({ dir, name, content });
  }
  if (options.dotEnv !== undefined) writeFileSync(path.join(dir, '.env'), options.dotEnv, { mode: 0o600 });
  return dir;
}

export function writeEnvironment(options: { dir: string; name: string; content: unknown }): void {
  const text = typeof options.content === 'string' ? options.content : `${JSON.stringify(options.content, null, 2)}\n`;
  writeFileSync(path.join(options.dir, 'environments', `${options.name}.json`), text);
}

/** A minimal valid environment file. */
export function environmentFile(name: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { name, port: 0, publicUrl: 'http://127.0.0.1:9', dataDir: `data/${name}`, ...extra };
}

/** A port on 127.0.0.1 where nothing listens (it was free a moment ago). */
export async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const port = typeof address === 'object' && address !== null ? address.port : 0;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** Parses a child's stdout as one JSON document, with the output in the error if it is not. */
export function parseJsonOutput(result: CliResult): Record<string, unknown> {
  try {
    return JSON.parse(result.stdout) as Record<string, unknown>;
  } catch {
    throw new Error(`stdout is not JSON (exit ${String(result.code)}):\n${result.stdout}\nstderr:\n${result.stderr}`);
  }
}
