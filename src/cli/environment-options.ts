/**
 * The flags every command that touches an environment shares (SPEC §6):
 * `--env`, `--config FILE`, `--data-dir DIR`, `--segment-host URL` (and `--port` for serve).
 */
import type { Command } from 'commander';
import { loadEnvironment } from '../config/load-environment.ts';
import { buildProcessEnv } from '../config/dotenv.ts';
import type { EnvConfig } from '../config/types.ts';

export interface EnvironmentFlags {
  env: string;
  config?: string;
  dataDir?: string;
  segmentHost?: string;
  port?: string;
}

export function withEnvironmentOptions(command: Command, options: { envRequired?: boolean } = {}): Command {
  const withEnv = options.envRequired === false
    ? command.option('--env <env>', 'environment name', 'staging')
    : command.requiredOption('--env <env>', 'environment name (staging, production, ...)');
  return withEnv
    .option('--config <file>', 'read this file instead of environments/<env>.json')
    .option('--data-dir <dir>', "override the environment's dataDir")
    .option('--segment-host <url>', "override Segment's tracking API host (local stand-ins)");
}

/** Loads and validates the environment; throws ConfigError (exit 2) with every problem. */
export function loadFromFlags(flags: EnvironmentFlags, cwd = process.cwd()): EnvConfig {
  return loadEnvironment({
    env: flags.env,
    cwd,
    configFile: flags.config,
    overrides: {
      port: flags.port === undefined ? undefined : parsePort(flags.port),
      dataDir: flags.dataDir,
      segmentHost: flags.segmentHost,
    },
    processEnv: buildProcessEnv({ cwd, env: process.env }),
  });
}

function parsePort(value: string): number {
  const port = Number(value);
  if (!Number.isInteger(port) || port < 0 || port > 65_535) {
    throw new UsageError(`--port must be an integer from 0 to 65535, got ${JSON.stringify(value)}`);
  }
  return port;
}

/** Bad command-line usage: exit code 2. */
export class UsageError extends Error {
  override name = 'UsageError';
}
