/**
 * Sends one signed webhook request. Expected failures (a non-2xx answer, a refused
 * connection, a timeout) are values, not throws: the worker turns them into retries or a
 * failed delivery (src/domain/webhook-schedule.ts). A throw from `send` is a bug.
 */
export interface WebhookSendRequest {
  url: string;
  /** Complete request headers (content type and the Standard Webhooks signature headers). */
  headers: Record<string, string>;
  /** Exact bytes that were signed. */
  body: string;
  /** Abort the request (connect + answer) after this long; counts as a retryable failure. */
  timeoutMs: number;
}

export type WebhookSendResult =
  | { ok: true; status: number }
  | {
      ok: false;
      /** Whether trying again later may succeed (408/429/5xx, network errors, timeouts). */
      retryable: boolean;
      /** HTTP status when the receiver answered. */
      status?: number;
      /** Short, secret-free explanation (`HTTP 500`, `timed out after 10000 ms`). */
      reason: string;
      /** The receiver's `Retry-After`, in seconds, when it sent one. */
      retryAfterSec?: number;
    };

export interface WebhookSender {
  send(request: WebhookSendRequest): Promise<WebhookSendResult>;
}
