import type { JsonObject } from './json.ts';

/**
 * A flow event on its way to Segment. It is written to the store before `202` and leaves
 * the outbox only when Segment acknowledged it. `messageId` never changes.
 */
export interface OutboxEntry {
  messageId: string;
  /** Catalog name (`Flow Completed`). */
  event: string;
  /** Name sent to Segment after the environment's rename (`events` setting). */
  sentAs: string;
  userId: string;
  anonymousId?: string;
  properties: JsonObject;
  /** Original event time (ISO). */
  timestamp: string;
  enqueuedAt: string;
  status: 'pending' | 'dead';
  attempts: number;
  /** Epoch ms before which no new attempt is made. */
  nextAttemptAtMs: number;
  lastError?: string;
  deadAt?: string;
}
