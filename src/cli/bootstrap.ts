/**
 * `bootstrap <env> [--url URL] [--json]` (SPEC §6): runs the checks of bootstrap-checks.ts in
 * order, prints each as `ok` / `FAIL ... — fix: ...` / `skip`, stops at the first failure,
 * and on success writes the verification marker (`<dataDir>/verified.json`).
 *
 * A production environment is gated: it refuses (exit 2) until staging has a marker, so a
 * set-up mistake is found on staging first. Exit codes: 0 verified; 1 a check failed;
 * 2 the config is invalid (first check) or the production gate refused.
 */
import type { Command } from 'commander';
import { ConfigError } from '../errors.ts';
import { InstanceUnreachableError, type FetchFn } from './api-client.ts';
import { BOOTSTRAP_CHECKS, type CheckContext, type CheckOutcome } from './bootstrap-checks.ts';
import { loadFromFlags, UsageError, type EnvironmentFlags } from './environment-options.ts';
import { printJson, processOutput, type Output } from './output.ts';
import { readVerification, writeVerification, type VerificationMarker } from '../adapters/verification-file.ts';

export interface BootstrapFlags extends EnvironmentFlags {
  url?: string;
  json?: boolean;
}

export type CheckStatus = 'ok' | 'fail' | 'skip';

export interface CheckReport {
  id: string;
  name: string;
  status: CheckStatus;
  detail?: string;
  note?: string;
  problem?: string;
  problems?: string[];
  fix?: string;
}

export interface BootstrapReport {
  environment: string;
  ok: boolean;
  /** Set when the production gate refused; no check ran. */
  gate?: { problem: string; fix: string };
  checks: CheckReport[];
  marker?: VerificationMarker;
  markerPath?: string;
}

export interface RunBootstrapOptions {
  env: string;
  flags: BootstrapFlags;
  cwd: string;
  fetch?: FetchFn;
  now?: () => Date;
}

/** Runs the gate and the checks; writes the marker on success. Never prints. */
export async function runBootstrap(options: RunBootstrapOptions): Promise<{ exitCode: number; report: BootstrapReport }> {
  const { env, flags, cwd } = options;
  const now = options.now ?? (() => new Date());
  const gate = await checkProductionGate({ env, flags, cwd });
  if (gate !== undefined) return { exitCode: 2, report: { environment: env, ok: false, gate, checks: [] } };

  const context: CheckContext = { env, flags, cwd, url: flags.url, fetch: options.fetch ?? fetch, now };
  const checks: CheckReport[] = [];
  let failedId: string | undefined;
  for (const check of BOOTSTRAP_CHECKS) {
    if (failedId !== undefined) {
      checks.push({ id: check.id, name: check.name, status: 'skip' });
      continue;
    }
    const outcome = await runCheck(() => check.run(context));
    if (outcome.ok) {
      checks.push({ id: check.id, name: check.name, status: 'ok', detail: outcome.detail, note: outcome.note });
    } else {
      failedId = check.id;
      checks.push({ id: check.id, name: check.name, status: 'fail', problem: outcome.problem, problems: outcome.problems, fix: outcome.fix });
    }
  }
  const environment = context.config?.name ?? env;
  if (failedId !== undefined || context.config === undefined) {
    return { exitCode: failedId === 'config' ? 2 : 1, report: { environment, ok: false, checks } };
  }
  const marker: VerificationMarker = {
    environment,
    verifiedAt: now().toISOString(),
    checks: checks.map(({ id, name }) => ({ id, name, status: 'ok' as const })),
  };
  const markerPath = await writeVerification({ dataDir: context.config.dataDir, marker });
  return { exitCode: 0, report: { environment, ok: true, checks, marker, markerPath } };
}

/** An unexpected throw inside a check (the instance went away mid-check) is a failure too. */
async function runCheck(run: () => Promise<CheckOutcome>): Promise<CheckOutcome> {
  try {
    return await run();
  } catch (error) {
    if (error instanceof InstanceUnreachableError) {
      return { ok: false, problem: error.message, fix: 'make sure the instance keeps running during bootstrap' };
    }
    return { ok: false, problem: error instanceof Error ? error.message : String(error), fix: 'see the message; rerun bootstrap once it is fixed' };
  }
}

/**
 * `undefined` when `env` is not production or staging is verified; else why not and how to
 * fix it. An environment whose config cannot be loaded counts as production only by name:
 * its config check fails anyway, so no marker can be written.
 */
async function checkProductionGate(options: { env: string; flags: BootstrapFlags; cwd: string }): Promise<{ problem: string; fix: string } | undefined> {
  const { env, flags, cwd } = options;
  let isProduction: boolean;
  try {
    isProduction = loadFromFlags(flags, cwd).isProduction;
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    isProduction = env === 'production';
  }
  if (!isProduction) return undefined;
  const fix = 'run `npm run bridge -- bootstrap staging` and fix what it reports, then bootstrap production again';
  let stagingDataDir: string;
  try {
    stagingDataDir = loadFromFlags({ env: 'staging' }, cwd).dataDir;
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    return { problem: `production is bootstrapped only after staging is verified, and staging cannot be loaded: ${error.message}`, fix };
  }
  const found = await readVerification(stagingDataDir);
  if (found.marker === undefined) {
    return { problem: `production is bootstrapped only after staging is verified; staging is not (${found.reason} in ${stagingDataDir})`, fix };
  }
  if (found.marker.environment !== 'staging') {
    return { problem: `the marker in ${stagingDataDir} is for "${found.marker.environment}", not staging`, fix };
  }
  return undefined;
}

/** Human output: one line per check, the failure's problems and fix, the marker. */
export function printBootstrapReport(output: Output, report: BootstrapReport): void {
  if (report.gate !== undefined) {
    output.err(`bootstrap ${report.environment} refused: ${report.gate.problem}\n  fix: ${report.gate.fix}\n`);
    return;
  }
  output.out(`bootstrap ${report.environment}\n`);
  for (const check of report.checks) {
    if (check.status === 'ok') {
      output.out(`ok   ${check.name}${check.detail === undefined ? '' : ` (${check.detail})`}\n`);
      if (check.note !== undefined) output.out(`     note: ${check.note}\n`);
    } else if (check.status === 'fail') {
      output.out(`FAIL ${check.name}: ${check.problem ?? 'failed'} — fix: ${check.fix ?? '-'}\n`);
      for (const problem of check.problems ?? []) output.out(`       ${problem}\n`);
    } else {
      output.out(`skip ${check.name}\n`);
    }
  }
  if (report.ok && report.marker !== undefined) {
    output.out(`\n${report.environment} is verified; marker written to ${report.markerPath ?? '-'}:\n${JSON.stringify(report.marker)}\n`);
  } else {
    output.out(`\n${report.environment} is NOT verified.\n`);
  }
}

/** Commander action of `bootstrap <env>`. */
export async function bootstrapCommand(env: string, flags: BootstrapFlags, command: Command, output: Output = processOutput): Promise<void> {
  if (command.getOptionValueSource('env') === 'cli' && flags.env !== env) {
    throw new UsageError(`bootstrap ${env} was given --env ${flags.env}: name one environment`);
  }
  const { exitCode, report } = await runBootstrap({ env, flags: { ...flags, env }, cwd: process.cwd() });
  if (flags.json === true) printJson(output, report);
  else printBootstrapReport(output, report);
  process.exitCode = exitCode;
}
