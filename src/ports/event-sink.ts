/**
 * Where outbound flow events go: Segment's tracking API in production
 * (`SegmentEventSink`), a local stand-in in tests. The sink only transports; durable
 * retries belong to the outbox (src/services/outbox-worker.ts), which keeps events on
 * disk across restarts and decides with src/domain/retry-policy.ts.
 */
import type { JsonObject } from '../domain/json.ts';

/** One Segment track call, fully built: the sink sends exactly this. */
export interface OutboundTrack {
  /** Ours and stable: the same on every retry and after a restart (Segment dedupes on it). */
  messageId: string;
  userId: string;
  anonymousId?: string;
  /** The name sent to Segment (after the environment's rename). */
  event: string;
  properties: JsonObject;
  /** The original event time, ISO. */
  timestamp: string;
  /** Carries the loop marker (src/domain/loop-marker.ts). */
  context: JsonObject;
}

/** Per-event outcome of one `send`. Expected failures are values, never throws. */
export type SendResult =
  | { messageId: string; ok: true }
  | {
      messageId: string;
      ok: false;
      /** HTTP status of Segment's answer, when there was one. */
      status?: number;
      /** No answer at all: refused, reset, timed out. */
      networkError?: boolean;
      /** Segment's Retry-After, in seconds. */
      retryAfterSec?: number;
      /** Short, secret-free description (`[401] Unauthorized`). */
      reason: string;
    };

export interface EventSink {
  /** Sends the events and resolves with one result per event, in the same order. Never rejects for delivery failures. */
  send(events: readonly OutboundTrack[]): Promise<SendResult[]>;
  /** Flushes what is buffered within `timeoutMs`, then stops; later sends fail (retryable). */
  close(timeoutMs: number): Promise<void>;
}
