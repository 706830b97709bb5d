/**
 * The composition root: the only place that builds adapters for an environment and wires
 * them together. `startInstance` opens the store, starts the workers and listens;
 * `close()` stops accepting, flushes within a bound and leaves the rest on disk.
 */
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { EnvConfig } from './config/types.ts';
import type { BridgeStore } from './domain/bridge-schema.ts';
import type { Clock } from './ports/clock.ts';
import { systemClock } from './ports/clock.ts';
import { BridgeEmitter } from './events.ts';
import { createApp } from './http/app.ts';
import { LowdbRecordStore } from './adapters/lowdb-record-store.ts';
import { createLogger, type Logger } from './adapters/logger.ts';
import { createRedactor } from './config/redact.ts';
import { FetchWebhookSender } from './adapters/fetch-webhook-sender.ts';
import { WebhookWorker } from './services/webhook-worker.ts';

export interface Instance {
  config: EnvConfig;
  store: BridgeStore;
  emitter: BridgeEmitter;
  log: Logger;
  server: Server;
  webhooks: WebhookWorker;
  /** `http://HOST:PORT` with the real port. */
  url: string;
  close(options?: { flushTimeoutMs?: number }): Promise<void>;
}

export interface StartOptions {
  config: EnvConfig;
  log?: Logger;
  clock?: Clock;
  /** Listen on this port instead of `config.port` (0 = any free port). */
  port?: number;
}

export function secretValues(config: EnvConfig): string[] {
  const { writeKey, sharedSecret, apiKey, webhookSecrets } = config.secrets;
  return [writeKey, sharedSecret, apiKey, ...Object.values(webhookSecrets)].filter((value): value is string => typeof value === 'string');
}

export function loggerFor(config: EnvConfig, level = process.env['LOG_LEVEL'] ?? 'info'): Logger {
  return createLogger({ level, name: config.name, redact: createRedactor(secretValues(config)) });
}

export async function startInstance(options: StartOptions): Promise<Instance> {
  const { config } = options;
  const clock = options.clock ?? systemClock;
  const log = options.log ?? loggerFor(config);
  const emitter = new BridgeEmitter();
  const store: BridgeStore = await LowdbRecordStore.open({ dir: config.dataDir });
  warnAboutOpenAuth(config, log);

  const webhooks = new WebhookWorker({ store, sender: new FetchWebhookSender(), config, clock, log, emitter });
  const onRunsCommitted = (runs: Array<{ deliveryId?: string }>) => webhooks.kick(runs.flatMap((run) => run.deliveryId ?? []));
  const app = createApp({ config, store, emitter, log, clock, onRunsCommitted });
  const server = app.listen(options.port ?? config.port, config.host);
  await new Promise<void>((resolve, reject) => {
    server.once('listening', resolve);
    server.once('error', reject);
  });
  // Segment gives a destination ~4 s; a slow client must not pin sockets for long.
  server.requestTimeout = 15_000;
  server.headersTimeout = 10_000;
  webhooks.start();
  const address = server.address() as AddressInfo;
  const url = `http://${formatHost(address.address)}:${address.port}`;

  let closing: Promise<void> | undefined;
  const close = (closeOptions: { flushTimeoutMs?: number } = {}): Promise<void> => {
    closing ??= (async () => {
      const flushTimeoutMs = closeOptions.flushTimeoutMs ?? 5_000;
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeIdleConnections();
        setTimeout(() => server.closeAllConnections(), flushTimeoutMs).unref();
      });
      await webhooks.stop();
      await store.close();
      log.flush();
    })();
    return closing;
  };
  return { config, store, emitter, log, server, webhooks, url, close };
}

function warnAboutOpenAuth(config: EnvConfig, log: Logger): void {
  if (config.secrets.sharedSecret === undefined) {
    log.warn(`SEGMENT_SHARED_SECRET_${config.name.toUpperCase()} is not set: /v1/segment accepts unsigned requests`);
  }
  if (config.secrets.apiKey === undefined) {
    log.warn(`BRIDGE_API_KEY_${config.name.toUpperCase()} is not set: the product API is open`);
  }
  if (config.secrets.writeKey === undefined) {
    log.warn(`SEGMENT_WRITE_KEY_${config.name.toUpperCase()} is not set: flow events stay queued in the outbox`);
  }
}

function formatHost(address: string): string {
  return address.includes(':') ? `[${address}]` : address;
}
