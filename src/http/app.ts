/**
 * createApp(deps) builds the Koa app and never listens (src/main.ts does): tests drive it
 * through `app.callback()` on a random port.
 */
import Koa from 'koa';
import { randomUUID } from 'node:crypto';
import type { Context, Next } from 'koa';
import type { Router } from '@koa/router';
import { errorMiddleware } from './middleware/errors.ts';
import { createRedactor } from '../config/redact.ts';
import { listSecretValues } from '../config/secrets.ts';
import { segmentInboundRoutes } from './routes/segment-inbound.ts';
import { userRoutes } from './routes/users.ts';
import { healthRoutes } from './routes/health.ts';
import { customEventRoutes } from './routes/custom-events.ts';
import { flowEventRoutes } from './routes/flow-events.ts';
import { operateRoutes } from './routes/operate.ts';
import { metricsRoutes } from './routes/metrics.ts';
import type { AppDeps } from './app-deps.ts';

export function createApp(deps: AppDeps, extraRouters: Router[] = []): Koa {
  const app = new Koa();
  app.proxy = false;
  app.silent = true;
  app.use(requestContext(deps));
  app.use(errorMiddleware(deps.log, createRedactor(listSecretValues(deps.config.secrets))));
  for (const router of [healthRoutes(deps), metricsRoutes(deps), segmentInboundRoutes(deps), flowEventRoutes(deps), customEventRoutes(deps), userRoutes(deps), operateRoutes(deps), ...extraRouters]) {
    app.use(router.routes());
    app.use(router.allowedMethods());
  }
  return app;
}

/** Request id (echoed as X-Request-Id) and one structured log line per request. */
function requestContext(deps: AppDeps) {
  return async function withRequestContext(ctx: Context, next: Next): Promise<void> {
    const requestId = sanitizeRequestId(ctx.get('x-request-id')) ?? randomUUID();
    ctx.state['requestId'] = requestId;
    ctx.set('X-Request-Id', requestId);
    const startedMs = performance.now();
    try {
      await next();
    } finally {
      const durationMs = Math.round((performance.now() - startedMs) * 100) / 100;
      ctx.state['durationMs'] = durationMs;
      const route = (ctx as Context & { _matchedRoute?: string })._matchedRoute ?? 'unmatched';
      deps.metrics?.observeRequest({ method: ctx.method, route: String(route), status: ctx.status, durationMs });
      deps.log.info({ requestId, method: ctx.method, path: ctx.path, status: ctx.status, durationMs }, 'request');
    }
  };
}

function sanitizeRequestId(value: string): string | undefined {
  return /^[\w.-]{1,100}$/.test(value) ? value : undefined;
}
