/**
 * One load measurement with autocannon's programmatic API: every request is built (and
 * signed) by `next()` just before it goes out, so every body is different. Loopback only.
 */
import autocannon, { type AutocannonRequest } from 'autocannon';
import type { SignedRequest } from './messages.ts';

export interface LoadOptions {
  /** Base URL of the server under test (http://127.0.0.1:PORT). */
  url: string;
  path: string;
  connections: number;
  /** Seconds (ignored when `amount` is set). */
  durationSec?: number;
  amount?: number;
  /** Fixed request rate across all connections (open loop, latencies corrected for coordinated omission). */
  overallRate?: number;
  next: () => SignedRequest;
}

export interface LoadResult {
  /** Requests answered 2xx. */
  ok: number;
  non2xx: number;
  /** Socket errors and timeouts. */
  errors: number;
  durationSec: number;
  /** 2xx answers per second over the whole run. */
  rps: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
  statusCodes: Record<string, number>;
}

export async function runLoad(options: LoadOptions): Promise<LoadResult> {
  if (!/^http:\/\/127\.0\.0\.1:\d+$/.test(options.url)) throw new Error(`benchmarks run on loopback only, not ${options.url}`);
  const request: AutocannonRequest = {
    method: 'POST',
    path: options.path,
    setupRequest: (base) => {
      const { body, headers } = options.next();
      return { ...base, method: 'POST', path: options.path, body, headers };
    },
  };
  const result = await autocannon({
    url: options.url,
    connections: options.connections,
    ...(options.amount === undefined ? { duration: options.durationSec ?? 5 } : { amount: options.amount }),
    ...(options.overallRate === undefined ? {} : { overallRate: options.overallRate }),
    timeout: 20,
    requests: [request],
  });
  const statusCodes = Object.fromEntries(Object.entries(result.statusCodeStats).map(([status, stats]) => [status, stats.count]));
  return {
    ok: result['2xx'],
    non2xx: result.non2xx,
    errors: result.errors + result.timeouts,
    durationSec: result.duration,
    rps: result['2xx'] / result.duration,
    p50Ms: result.latency.p50,
    p99Ms: result.latency.p99,
    maxMs: result.latency.max,
    statusCodes,
  };
}
