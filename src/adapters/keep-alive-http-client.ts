/**
 * An analytics-node `HTTPClient` over node:http / node:https with keep-alive agents, for
 * the Segment sink (src/adapters/segment-event-sink.ts).
 *
 * Why not the library's default (global fetch, i.e. undici): for a small JSON POST, fetch's
 * WHATWG layers (Request/Response/Headers objects, web streams, an AbortSignal per call)
 * were the largest single cost of delivery, about a quarter of the bridge's CPU while
 * delivering (bench/RESULTS.md, "What changed in this round"). This client does the same request with the
 * plain node stack: the body is one string, the answer is read whole (so the connection is
 * reused) and handed back with status, status text and headers.
 *
 * Failures are thrown like fetch does: a `TimeoutError` after `httpRequestTimeout` without a
 * complete answer, else the socket error (its `code`, e.g. ECONNREFUSED, kept as `cause`).
 */
import { Agent as HttpAgent, request as httpRequest, type IncomingMessage } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import type { HTTPClient, HTTPClientRequest, HTTPResponse } from '@segment/analytics-node';

export class KeepAliveHttpClient implements HTTPClient {
  readonly #http = new HttpAgent({ keepAlive: true });
  readonly #https = new HttpsAgent({ keepAlive: true });

  makeRequest(options: HTTPClientRequest): Promise<HTTPResponse> {
    const url = new URL(options.url);
    const secure = url.protocol === 'https:';
    const send = secure ? httpsRequest : httpRequest;
    return new Promise<HTTPResponse>((resolve, reject) => {
      let settled = false;
      const fail = (error: Error): void => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        reject(error);
      };
      const req = send(url, { method: options.method, headers: { ...options.headers, 'content-length': Buffer.byteLength(options.body) }, agent: secure ? this.#https : this.#http }, (res) => {
        readText(res).then((text) => {
          if (settled) return;
          settled = true;
          clearTimeout(timer);
          resolve(toResponse(res, text));
        }, (error: unknown) => fail(networkError(error)));
      });
      // Like fetch's abort signal: the whole exchange, answer included, within the timeout.
      const timer = setTimeout(() => {
        const error = new Error(`no answer within ${options.httpRequestTimeout} ms`);
        error.name = 'TimeoutError';
        fail(error);
        req.destroy();
      }, options.httpRequestTimeout);
      req.on('error', (error) => fail(networkError(error)));
      req.end(options.body);
    });
  }

  /** Closes idle keep-alive sockets (in-flight requests finish on theirs). */
  close(): void {
    this.#http.destroy();
    this.#https.destroy();
  }
}

function readText(res: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    res.on('data', (chunk: Buffer) => chunks.push(chunk));
    res.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    res.on('error', reject);
    res.on('aborted', () => reject(new Error('the answer was cut off')));
  });
}

function toResponse(res: IncomingMessage, text: string): HTTPResponse {
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(res.headers)) if (value !== undefined) headers[name] = Array.isArray(value) ? value.join(', ') : value;
  return { status: res.statusCode ?? 0, statusText: res.statusMessage ?? '', headers, text: () => Promise.resolve(text) };
}

/** fetch's shape: a generic message, the socket error (with its `code`) as the cause. */
function networkError(error: unknown): Error {
  return new Error('network request failed', { cause: error });
}
