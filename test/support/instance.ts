/**
 * Starts a real instance (real store in a temp dir, real HTTP on 127.0.0.1:0) and gives
 * tests small helpers to call it the way Segment and the product do.
 */
import { createHmac } from 'node:crypto';
import type { EnvConfig } from '../../src/config/types.ts';
import { startInstance, type Instance, type StartOptions } from '../../src/main.ts';
import { silentLogger } from '../../src/adapters/logger.ts';
import { testConfig, TEST_SECRETS } from './config.ts';

export interface TestInstance extends Instance {
  /** POSTs a body to /v1/segment signed as Segment signs it (X-Signature over the exact bytes). */
  postSegment(body: unknown, options?: { sign?: 'signature' | 'bearer' | 'none'; secret?: string; headers?: Record<string, string>; raw?: string }): Promise<{ status: number; json: Record<string, unknown> }>;
  api(path: string, init?: { method?: string; body?: unknown; token?: string | null }): Promise<{ status: number; json: Record<string, unknown> }>;
}

/** Fast outbox retries for tests: 20 ms base, no jitter. */
export const FAST_RETRY = { baseDelayMs: 20, maxDelayMs: 200, random: () => 1 } as const;

export async function startTestInstance(
  config?: EnvConfig | Parameters<typeof testConfig>[0],
  options: Omit<StartOptions, 'config'> = {},
): Promise<TestInstance> {
  const resolved = config && 'source' in config && 'secrets' in config && typeof config.source === 'string' ? (config as EnvConfig) : await testConfig(config as Parameters<typeof testConfig>[0]);
  const instance = await startInstance({ config: resolved, log: silentLogger(), port: 0, outboxRetryPolicy: FAST_RETRY, ...options });
  return {
    ...instance,
    async postSegment(body, options = {}) {
      const raw = options.raw ?? JSON.stringify(body);
      const secret = options.secret ?? resolved.secrets.sharedSecret ?? TEST_SECRETS.sharedSecret;
      const headers: Record<string, string> = { 'content-type': 'application/json', ...options.headers };
      const mode = options.sign ?? (Array.isArray(body) ? 'bearer' : 'signature');
      if (mode === 'signature') headers['x-signature'] = createHmac('sha1', secret).update(raw).digest('hex');
      if (mode === 'bearer') headers['authorization'] = `Bearer ${secret}`;
      const response = await fetch(`${instance.url}/v1/segment`, { method: 'POST', headers, body: raw });
      return { status: response.status, json: (await response.json()) as Record<string, unknown> };
    },
    async api(path, init = {}) {
      const token = init.token === undefined ? resolved.secrets.apiKey : init.token;
      const headers: Record<string, string> = { 'content-type': 'application/json' };
      if (token) headers['authorization'] = `Bearer ${token}`;
      const response = await fetch(`${instance.url}${path}`, {
        method: init.method ?? (init.body === undefined ? 'GET' : 'POST'),
        headers,
        body: init.body === undefined ? undefined : JSON.stringify(init.body),
      });
      const text = await response.text();
      return { status: response.status, json: text === '' ? {} : (JSON.parse(text) as Record<string, unknown>) };
    },
  };
}
