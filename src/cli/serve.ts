/** `serve --env <env>`: run one environment's instance until SIGINT/SIGTERM. */
import { startInstance } from '../main.ts';
import { loadFromFlags, type EnvironmentFlags } from './environment-options.ts';

export async function serveCommand(flags: EnvironmentFlags): Promise<void> {
  const config = loadFromFlags(flags);
  const instance = await startInstance({ config });
  process.stdout.write(`listening on ${instance.url}\n`);
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
}
