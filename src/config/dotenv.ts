/**
 * The `.env` file: read with Node's own parser (`util.parseEnv`, Node >= 20.12) so the
 * syntax is exactly Node's `--env-file`. The real process environment always wins over the
 * file, so a deployment can override what a developer left in `.env`.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parseEnv } from 'node:util';

/** Variables defined in `file`; `{}` if the file does not exist. Other read errors throw. */
export function readDotEnv(file: string): Record<string, string> {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return {};
    throw error;
  }
  const parsed = parseEnv(text);
  const result: Record<string, string> = {};
  for (const [key, value] of Object.entries(parsed)) {
    if (value !== undefined) result[key] = value;
  }
  return result;
}

/**
 * The environment the config loader reads secrets from: `<cwd>/.env` with `env` (normally
 * `process.env`) merged over it. Undefined values in `env` are dropped.
 */
export function buildProcessEnv(options: { cwd: string; env: NodeJS.ProcessEnv | Record<string, string | undefined> }): Record<string, string> {
  const merged = readDotEnv(path.join(options.cwd, '.env'));
  for (const [key, value] of Object.entries(options.env)) {
    if (value !== undefined) merged[key] = value;
  }
  return merged;
}
