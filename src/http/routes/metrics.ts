/** GET /metrics: Prometheus text format. Counts and latencies only: no user data, no secrets. */
import type { Router } from '@koa/router';
import type { Context } from 'koa';
import type { AppDeps } from '../app-deps.ts';

export function registerMetricsRoutes(router: Router, deps: AppDeps): void {
  router.get('/metrics', async (ctx: Context) => {
    if (!deps.metrics) {
      ctx.status = 404;
      return;
    }
    ctx.type = deps.metrics.registry.contentType;
    ctx.body = await deps.metrics.registry.metrics();
  });
}
