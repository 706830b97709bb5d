/** What the HTTP layer needs from the composition root (src/main.ts). */
import type { EnvConfig } from '../config/types.ts';
import type { BridgeStore } from '../domain/bridge-schema.ts';
import type { BridgeEmitter } from '../events.ts';
import type { Clock } from '../ports/clock.ts';
import type { Logger } from '../adapters/logger.ts';
import type { RunsCommittedHook } from '../services/ingest-segment.ts';

export interface AppDeps {
  config: EnvConfig;
  store: BridgeStore;
  emitter: BridgeEmitter;
  log: Logger;
  clock: Clock;
  /** Told about trigger runs once durable (kicks the webhook worker). */
  onRunsCommitted?: RunsCommittedHook;
}
