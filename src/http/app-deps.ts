/** What the HTTP layer needs from the composition root (src/main.ts). */
import type { EnvConfig } from '../config/types.ts';
import type { BridgeStore } from '../domain/bridge-schema.ts';
import type { BridgeEmitter } from '../events.ts';
import type { Clock } from '../ports/clock.ts';
import type { Logger } from '../adapters/logger.ts';
import type { RunsCommittedHook } from '../services/ingest-segment.ts';
import type { OutboxWorker } from '../services/outbox-worker.ts';
import type { WebhookWorker } from '../services/webhook-worker.ts';
import type { BridgeMetrics } from '../adapters/prometheus-metrics.ts';

export interface AppDeps {
  config: EnvConfig;
  store: BridgeStore;
  emitter: BridgeEmitter;
  log: Logger;
  clock: Clock;
  /** Told about trigger runs once durable (kicks the webhook worker). */
  onRunsCommitted?: RunsCommittedHook;
  outbox?: OutboxWorker;
  webhooks?: WebhookWorker;
  metrics?: BridgeMetrics;
  startedAtMs?: number;
  /** Longest a request body may take to arrive (slow-loris guard). Default 10000 ms (read-json-body.ts). */
  bodyTimeoutMs?: number;
}
