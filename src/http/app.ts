/**
 * createApp(deps) builds the Koa app and never listens (src/main.ts does): tests drive it
 * through `app.callback()` on a random port.
 */
import Koa from 'koa';
import { randomUUID } from 'node:crypto';
import type { Context, Next } from 'koa';
import { Router } from '@koa/router';
import { errorMiddleware } from './middleware/errors.ts';
import { createRedactor } from '../config/redact.ts';
import { listSecretValues } from '../config/secrets.ts';
import { registerSegmentInboundRoutes } from './routes/segment-inbound.ts';
import { registerUserRoutes } from './routes/users.ts';
import { registerHealthRoutes } from './routes/health.ts';
import { registerCustomEventRoutes } from './routes/custom-events.ts';
import { registerFlowEventRoutes } from './routes/flow-events.ts';
import { registerOperateRoutes } from './routes/operate.ts';
import { registerMetricsRoutes } from './routes/metrics.ts';
import type { AppDeps } from './app-deps.ts';

export function createApp(deps: AppDeps): Koa {
  const app = new Koa();
  app.proxy = false;
  app.silent = true;
  app.use(requestContext(deps));
  app.use(errorMiddleware(deps.log, createRedactor(listSecretValues(deps.config.secrets))));
  // One router for every route: a request walks one route table, not one per module.
  const router = new Router();
  for (const register of [registerHealthRoutes, registerMetricsRoutes, registerSegmentInboundRoutes, registerFlowEventRoutes, registerCustomEventRoutes, registerUserRoutes, registerOperateRoutes]) {
    register(router, deps);
  }
  app.use(router.routes());
  app.use(router.allowedMethods());
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
