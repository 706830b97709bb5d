/**
 * WebhookSender over `fetch` (undici in Node 20). POST, no redirects followed (a 3xx is a
 * permanent failure: the configured URL must answer itself), `AbortSignal.timeout` bounds
 * the whole exchange (its timer does not keep the process alive). The response body is
 * discarded: only the status matters.
 */
import { classifyStatus } from '../domain/webhook-schedule.ts';
import type { WebhookSender, WebhookSendRequest, WebhookSendResult } from '../ports/webhook-sender.ts';
import { parseRetryAfterSec } from '../domain/retry-after.ts';

export class FetchWebhookSender implements WebhookSender {
  readonly #fetch: typeof fetch;
  readonly #nowMs: () => number;

  /**
   * @param options.fetch injectable for tests. Default: the global `fetch`.
   * @param options.nowMs for HTTP-date `Retry-After` values. Default: `Date.now`.
   */
  constructor(options: { fetch?: typeof fetch; nowMs?: () => number } = {}) {
    this.#fetch = options.fetch ?? globalThis.fetch;
    this.#nowMs = options.nowMs ?? Date.now;
  }

  async send(request: WebhookSendRequest): Promise<WebhookSendResult> {
    const { url, headers, body, timeoutMs } = request;
    if (!URL.canParse(url)) return { ok: false, retryable: false, reason: 'invalid webhook URL' };
    let response: Response;
    try {
      response = await this.#fetch(url, { method: 'POST', headers, body, redirect: 'manual', signal: AbortSignal.timeout(timeoutMs) });
      // Drain so the connection can be reused; an error here does not change the outcome.
      await response.body?.cancel().catch(() => undefined);
    } catch (error) {
      return { ok: false, retryable: true, reason: describeNetworkError(error, timeoutMs) };
    }
    const { status } = response;
    const outcome = classifyStatus(status);
    if (outcome === 'delivered') return { ok: true, status };
    const retryAfterSec = parseRetryAfterSec(response.headers.get('retry-after'), this.#nowMs());
    return {
      ok: false,
      retryable: outcome === 'retry',
      status,
      reason: status >= 300 && status < 400 ? `HTTP ${status} (redirects are not followed)` : `HTTP ${status}`,
      ...(retryAfterSec === undefined ? {} : { retryAfterSec }),
    };
  }
}

/** A short reason without the URL (it may carry a token in its query). */
function describeNetworkError(error: unknown, timeoutMs: number): string {
  if (error instanceof Error && (error.name === 'TimeoutError' || error.name === 'AbortError')) return `timed out after ${timeoutMs} ms`;
  const cause = error instanceof Error ? error.cause : undefined;
  const code = typeof cause === 'object' && cause !== null && 'code' in cause ? String(cause.code) : undefined;
  return code ? `network error: ${code}` : 'network error';
}
