/**
 * The CLI (SPEC §6): `npm run bridge -- <command>`. Commands are thin: parse flags, load the
 * environment, call the same services as the HTTP API, print, exit 0 ok / 1 failed / 2 usage
 * or config error.
 */
import { Command, CommanderError } from 'commander';
import { ConfigError } from '../errors.ts';
import { serveCommand } from './serve.ts';
import { UsageError, withEnvironmentOptions } from './environment-options.ts';

export function buildProgram(): Command {
  const program = new Command('segment-bridge')
    .description('A per-environment bridge between your product and Twilio Segment')
    .exitOverride()
    .showHelpAfterError();

  withEnvironmentOptions(program.command('serve').description('run an environment instance'), { envRequired: true })
    .option('--port <n>', 'listen on this port (0 = any free port)')
    .action(serveCommand);

  return program;
}

export async function runCli(argv: string[]): Promise<void> {
  try {
    await buildProgram().parseAsync(argv);
  } catch (error) {
    process.exitCode = reportError(error);
  }
}

/** Prints an error without secrets and returns the exit code. */
export function reportError(error: unknown): number {
  if (error instanceof CommanderError) {
    return error.exitCode === 0 ? 0 : 2;
  }
  if (error instanceof ConfigError) {
    process.stderr.write(`config error: ${error.message}\n`);
    for (const problem of error.problems) process.stderr.write(`  ${problem.path}: ${problem.message}\n`);
    return 2;
  }
  if (error instanceof UsageError) {
    process.stderr.write(`usage error: ${error.message}\n`);
    return 2;
  }
  process.stderr.write(`error: ${error instanceof Error ? error.message : String(error)}\n`);
  return 1;
}

