/**
 * Bearer-token checks for the product-facing API (BRIDGE_API_KEY_<ENV>). Constant-time;
 * the token is never echoed. An environment without an API key (staging only) is open.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { Context, Next } from 'koa';
import { AuthError } from '../errors.ts';

/** Compares two secrets in constant time whatever their lengths. */
export function secretsEqual(given: string, expected: string): boolean {
  const a = createHash('sha256').update(given).digest();
  const b = createHash('sha256').update(expected).digest();
  return timingSafeEqual(a, b) && given.length === expected.length;
}

export function bearerToken(ctx: Context): string | undefined {
  const header = ctx.get('authorization');
  const match = /^Bearer\s+(.+)$/i.exec(header);
  return match?.[1]?.trim();
}

export function requireApiKey(apiKey: string | undefined) {
  return async function checkApiKey(ctx: Context, next: Next): Promise<void> {
    if (apiKey !== undefined) {
      const token = bearerToken(ctx);
      if (token === undefined) throw new AuthError('missing Authorization: Bearer <BRIDGE_API_KEY> header');
      if (!secretsEqual(token, apiKey)) throw new AuthError('wrong API key for this environment');
    }
    await next();
  };
}
