/** `serve --env <env>`: run one environment's instance until SIGINT/SIGTERM. */
import { startInstance } from '../main.ts';
import { loadFromFlags, type EnvironmentFlags } from './environment-options.ts';

export async function serveCommand(flags: EnvironmentFlags): Promise<void> {
  const config = loadFromFlags(flags);
  const instance = await startInstance({ config });
  const shutdown = (signal: string) => {
    instance.log.info({ signal }, 'shutting down: no new requests; flushing what can be flushed');
    instance.close().then(
      () => process.exit(0),
      (error: unknown) => {
        process.stderr.write(`shutdown failed: ${error instanceof Error ? error.message : String(error)}\n`);
        process.exit(1);
      },
    );
  };
  process.once('SIGINT', () => shutdown('SIGINT'));
  process.once('SIGTERM', () => shutdown('SIGTERM'));
  // Announce only once the handlers are in place: a SIGTERM sent right after this line must shut down gracefully.
  process.stdout.write(`listening on ${instance.url}\n`);
}
