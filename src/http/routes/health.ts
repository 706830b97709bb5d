/** Liveness and readiness (SPEC §2). Readiness fails when the store cannot be written. */
import type { Router } from '@koa/router';
import type { Context } from 'koa';
import type { AppDeps } from '../app-deps.ts';

export function registerHealthRoutes(router: Router, deps: AppDeps): void {
  router.get('/healthz', (ctx: Context) => {
    ctx.body = { ok: true, environment: deps.config.name };
  });
  router.get('/readyz', async (ctx: Context) => {
    const storeWritable = await deps.store.probeWritable();
    ctx.status = storeWritable ? 200 : 503;
    ctx.body = { ready: storeWritable, environment: deps.config.name, checks: { config: true, storeWritable } };
  });
}
