/**
 * The composition root: the only place that builds adapters for an environment and wires
 * them together. `startInstance` claims the data directory, opens the store, starts the
 * workers and listens; `close()` stops accepting, flushes what it can within a bound and
 * leaves the rest on disk.
 */
import { createServer, type RequestListener, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import type { EnvConfig } from './config/types.ts';
import type { BridgeStore } from './domain/bridge-schema.ts';
import type { Clock } from './ports/clock.ts';
import type { EventSink } from './ports/event-sink.ts';
import type { WebhookSender } from './ports/webhook-sender.ts';
import type { RetryPolicy } from './domain/retry-policy.ts';
import { systemClock } from './ports/clock.ts';
import { BridgeEmitter } from './events.ts';
import { createApp } from './http/app.ts';
import { LowdbRecordStore } from './adapters/lowdb-record-store.ts';
import { createLogger, type Logger } from './adapters/logger.ts';
import { createMetrics, type BridgeMetrics } from './adapters/prometheus-metrics.ts';
import { claimDataDir } from './adapters/data-dir-guard.ts';
import { FetchWebhookSender } from './adapters/fetch-webhook-sender.ts';
import { SegmentEventSink } from './adapters/segment-event-sink.ts';
import { createRedactor } from './config/redact.ts';
import { listSecretValues, secretVariableNames } from './config/secrets.ts';
import { WebhookWorker } from './services/webhook-worker.ts';
import { OutboxWorker } from './services/outbox-worker.ts';
import { PRUNE_INTERVAL_MS, pruneSeenMessages } from './services/dedupe-window.ts';

export interface Instance {
  config: EnvConfig;
  store: BridgeStore;
  emitter: BridgeEmitter;
  log: Logger;
  server: Server;
  outbox: OutboxWorker;
  webhooks: WebhookWorker;
  metrics: BridgeMetrics;
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
  /** Replaces the Segment sink built from the write key (benchmarks). */
  sink?: EventSink;
  /** Replaces the fetch-based webhook sender. */
  webhookSender?: WebhookSender;
  /** Outbox retry timing (tests shorten it; the default backs off from 1 s to 10 min). */
  outboxRetryPolicy?: Partial<RetryPolicy>;
  /** Skip fsync on store commits: benchmarks of the CPU path only. Never in production. */
  unsafeNoFsync?: boolean;
  /** Longest a request body may take to arrive before a 408 and a closed socket (slow-loris). Default 10000 ms. */
  bodyTimeoutMs?: number;
}

/** Default bound for a graceful shutdown's flush (SPEC §3). */
export const SHUTDOWN_FLUSH_MS = 5_000;

export function loggerFor(config: EnvConfig, level = process.env['LOG_LEVEL'] ?? 'info'): Logger {
  return createLogger({ level, name: config.name, redact: createRedactor(listSecretValues(config.secrets)) });
}

export async function startInstance(options: StartOptions): Promise<Instance> {
  const { config } = options;
  const clock = options.clock ?? systemClock;
  const log = options.log ?? loggerFor(config);
  const emitter = new BridgeEmitter();
  const claim = await claimDataDir({ dir: config.dataDir, environment: config.name });
  let store: BridgeStore;
  try {
    store = await LowdbRecordStore.open({ dir: join(config.dataDir, 'store'), fsync: !options.unsafeNoFsync });
  } catch (error) {
    await claim.release();
    throw error;
  }
  warnAboutOpenAuth(config, log);

  const sink = options.sink ?? buildSink(config);
  const outbox = new OutboxWorker({ store, sink, config, clock, log, emitter, ...(options.outboxRetryPolicy ? { retryPolicy: options.outboxRetryPolicy } : {}) });
  const webhooks = new WebhookWorker({ store, sender: options.webhookSender ?? new FetchWebhookSender(), config, clock, log, emitter });
  const metrics = createMetrics({
    emitter,
    environment: config.name,
    gauges: {
      outbox: () => {
        const stats = outbox.stats();
        const oldestMs = stats.oldestPendingAt ? Date.parse(stats.oldestPendingAt) : undefined;
        return { pending: stats.pending, dead: stats.dead, oldestPendingAgeSec: oldestMs === undefined ? undefined : (clock.nowMs() - oldestMs) / 1000 };
      },
      deliveries: () => webhooks.stats(),
    },
  });
  const onRunsCommitted = (runs: Array<{ deliveryId?: string }>) => webhooks.kick(runs.flatMap((run) => run.deliveryId ?? []));
  const app = createApp({ config, store, emitter, log, clock, onRunsCommitted, outbox, webhooks, metrics, startedAtMs: clock.nowMs(), bodyTimeoutMs: options.bodyTimeoutMs });

  let server: Server;
  try {
    server = await listen(app.callback(), options.port ?? config.port, config.host);
  } catch (error) {
    await store.close();
    await claim.release();
    throw error;
  }
  // Segment gives a destination ~4 s; a slow client must not pin sockets for long.
  server.requestTimeout = 15_000;
  server.headersTimeout = 10_000;
  outbox.start();
  webhooks.start();
  const pruneTimer = startPruning({ store, config, clock, log });
  const address = server.address() as AddressInfo;
  const url = `http://${address.address.includes(':') ? `[${address.address}]` : address.address}:${address.port}`;

  let closing: Promise<void> | undefined;
  const close = (closeOptions: { flushTimeoutMs?: number } = {}): Promise<void> => {
    closing ??= (async () => {
      const flushTimeoutMs = closeOptions.flushTimeoutMs ?? SHUTDOWN_FLUSH_MS;
      clearInterval(pruneTimer);
      await stopAccepting(server, flushTimeoutMs);
      await Promise.all([outbox.stop({ flushTimeoutMs }), webhooks.stop()]);
      await store.close();
      await claim.release();
      log.flush();
    })();
    return closing;
  };
  return { config, store, emitter, log, server, outbox, webhooks, metrics, url, close };
}

/** Forgets messageIds past the dedupe window now and every PRUNE_INTERVAL_MS. */
function startPruning(options: { store: BridgeStore; config: EnvConfig; clock: Clock; log: Logger }): NodeJS.Timeout {
  const { store, config, clock, log } = options;
  const prune = () => {
    const removed = pruneSeenMessages({ store, dedupeWindowDays: config.dedupeWindowDays, nowMs: clock.nowMs() });
    if (removed === 0) return;
    store.commit().then(
      () => log.info({ removed }, 'pruned messageIds past the dedupe window'),
      (error: unknown) => log.warn({ err: { message: (error as Error).message } }, 'pruning the dedupe window failed; will retry'),
    );
  };
  prune();
  const timer = setInterval(prune, PRUNE_INTERVAL_MS);
  timer.unref();
  return timer;
}

function buildSink(config: EnvConfig): EventSink | undefined {
  const writeKey = config.secrets.writeKey;
  if (writeKey === undefined) return undefined;
  return new SegmentEventSink({ writeKey, host: config.segment.host, flushAt: config.segment.flushAt, flushIntervalMs: config.segment.flushIntervalMs });
}

async function listen(handler: RequestListener, port: number, host: string): Promise<Server> {
  const server = createServer(handler);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  return server;
}

/** Stops accepting connections; requests in flight get up to `graceMs` to finish. */
async function stopAccepting(server: Server, graceMs: number): Promise<void> {
  await new Promise<void>((resolve) => {
    const timer = setTimeout(() => server.closeAllConnections(), graceMs);
    timer.unref();
    server.close(() => {
      clearTimeout(timer);
      resolve();
    });
    server.closeIdleConnections();
  });
}

function warnAboutOpenAuth(config: EnvConfig, log: Logger): void {
  const names = secretVariableNames(config.name);
  if (config.secrets.sharedSecret === undefined) log.warn(`${names.sharedSecret} is not set: /v1/segment accepts unsigned requests`);
  if (config.secrets.apiKey === undefined) log.warn(`${names.apiKey} is not set: the product API is open`);
  if (config.secrets.writeKey === undefined) log.warn(`${names.writeKey} is not set: flow events stay queued in the outbox`);
}
