/**
 * The CLI (SPEC §6): `npm run bridge -- <command>`. Commands are thin: parse flags, load the
 * environment, call the same services as the HTTP API, print, exit 0 ok / 1 failed / 2 usage
 * or config error.
 */
import { Command, CommanderError } from 'commander';
import { ConfigError } from '../errors.ts';
import { serveCommand } from './serve.ts';
import { UsageError, withEnvironmentOptions } from './environment-options.ts';
import { initCommand } from './init.ts';
import { bootstrapCommand } from './bootstrap.ts';
import { replayCommand, type ReplayFlags } from './replay.ts';
import {
  deliveriesListCommand,
  outboxListCommand,
  retryCommand,
  statusCommand,
  usersShowCommand,
  type ReadFlags,
} from './read-commands.ts';

export function buildProgram(): Command {
  const program = new Command('segment-bridge')
    .description('A per-environment bridge between your product and Twilio Segment')
    .exitOverride()
    .showHelpAfterError();

  withEnvironmentOptions(program.command('serve').description('run an environment instance'), { envRequired: true })
    .option('--port <n>', 'listen on this port (0 = any free port)')
    .action(serveCommand);

  positionalEnv(program.command('init <env>').description('write environments/<env>.json and generate its secrets into .env'))
    .option('--port <n>', 'port written to a new file (default: staging 4100, production 4200, others 4300)')
    .option('--public-url <url>', 'publicUrl written to a new file: the address Segment calls')
    .action(initCommand);

  positionalEnv(program.command('bootstrap <env>').description('check an environment end to end and mark it verified'))
    .option('--url <url>', 'base URL of the running instance (default: the config\'s publicUrl)')
    .option('--json', 'print the checks as JSON')
    .action(bootstrapCommand);

  withEnvironmentOptions(program.command('replay <paths...>').description('sign fixtures as Segment does and POST them to /v1/segment'), { envRequired: true })
    .option('--url <url>', 'base URL of a running instance (default: start one in this process)')
    .option('--json', 'print the summary as JSON')
    .action((paths: string[], flags: ReplayFlags) => replayCommand(paths, flags));

  readCommand(program.command('status').description("an environment's state: verification, counts, outbox, deliveries"))
    .action((flags: ReadFlags) => statusCommand(flags));

  const users = program.command('users').description("read users' profiles");
  readCommand(users.command('show <userId>').description('show a profile'))
    .action((userId: string, flags: ReadFlags) => usersShowCommand(userId, flags));

  const outbox = program.command('outbox').description('flow events on their way to Segment');
  readCommand(outbox.command('list').description('list pending and dead entries'))
    .option('--status <status>', 'pending or dead')
    .action((flags: ReadFlags) => outboxListCommand(flags));
  readCommand(outbox.command('retry [ids...]').description('retry dead entries (all when no id is given)'))
    .action((ids: string[], flags: ReadFlags) => retryCommand({ what: 'outbox', ids, flags }));

  const deliveries = program.command('deliveries').description('trigger webhook deliveries');
  readCommand(deliveries.command('list').description('list deliveries'))
    .option('--status <status>', 'pending, failed or delivered')
    .action((flags: ReadFlags) => deliveriesListCommand(flags));
  readCommand(deliveries.command('retry [ids...]').description('retry failed deliveries (all when no id is given)'))
    .action((ids: string[], flags: ReadFlags) => retryCommand({ what: 'deliveries', ids, flags }));

  return program;
}

/** `init <env>` / `bootstrap <env>`: the environment is the argument, so `--env` is hidden. */
function positionalEnv(command: Command): Command {
  const withOptions = withEnvironmentOptions(command, { envRequired: false });
  withOptions.options.find((option) => option.long === '--env')?.hideHelp();
  return withOptions;
}

/** The flags of every command that talks to a running instance. */
function readCommand(command: Command): Command {
  return withEnvironmentOptions(command, { envRequired: true })
    .option('--url <url>', "base URL of the running instance (default: the config's publicUrl)")
    .option('--json', 'machine-readable output');
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

