/**
 * Read-and-operate API (API key): status, the outbox and its dead letters, trigger webhook
 * deliveries. The CLI's read commands call these, so a live store is only ever touched by
 * the process that owns it.
 */
import type { Router } from '@koa/router';
import type { Context } from 'koa';
import { ValidationError } from '../../errors.ts';
import { listDeliveries } from '../../services/webhook-worker.ts';
import { readVerification } from '../../adapters/verification-file.ts';
import { requireApiKey } from '../auth.ts';
import { readJsonBody } from '../read-json-body.ts';
import type { AppDeps } from '../app-deps.ts';
import type { OutboxEntry } from '../../domain/outbox-entry.ts';
import type { WebhookDelivery } from '../../domain/trigger-run.ts';

const LIST_LIMIT = 500;

export function registerOperateRoutes(router: Router, deps: AppDeps): void {
  const { config, store } = deps;
  // Per route: the app has one router, and /v1/segment, /healthz and /metrics are not API-key routes.
  const auth = requireApiKey(config.secrets.apiKey);

  router.get('/v1/status', auth, async (ctx: Context) => {
    const verification = await readVerification(config.dataDir);
    ctx.body = {
      environment: config.name,
      production: config.isProduction,
      verified: verification.marker ? { verifiedAt: verification.marker.verifiedAt } : null,
      auth: { sharedSecret: config.secrets.sharedSecret !== undefined, apiKey: config.secrets.apiKey !== undefined, writeKey: config.secrets.writeKey !== undefined },
      segment: { host: config.segment.host, region: config.segment.region },
      counts: {
        users: store.count('users'),
        anonymous: store.count('anons'),
        tombstones: store.count('tombstones'),
        rejections: store.count('rejections'),
        triggerRuns: store.count('runs'),
        seenMessages: store.count('seen'),
      },
      outbox: deps.outbox?.stats() ?? null,
      deliveries: deps.webhooks?.stats() ?? null,
      uptimeSec: Math.round((deps.clock.nowMs() - (deps.startedAtMs ?? deps.clock.nowMs())) / 1000),
    };
  });

  router.get('/v1/outbox', auth, (ctx: Context) => {
    const status = optionalStatus(ctx, ['pending', 'dead'] as const);
    const entries: OutboxEntry[] = [];
    for (const entry of store.values('outbox')) {
      if (status === undefined || entry.status === status) entries.push(entry);
      if (entries.length >= LIST_LIMIT) break;
    }
    ctx.body = { entries };
  });

  router.post('/v1/outbox/retry', auth, async (ctx: Context) => {
    const ids = await optionalIds(ctx, deps.config.bodyLimitBytes);
    const retried = deps.outbox?.retryDead(ids) ?? 0;
    await store.commit();
    deps.outbox?.kick();
    ctx.body = { retried };
  });

  router.get('/v1/deliveries', auth, (ctx: Context) => {
    const status = optionalStatus(ctx, ['pending', 'failed', 'delivered'] as const);
    const deliveries: WebhookDelivery[] = listDeliveries({ store, limit: LIST_LIMIT, ...(status ? { status } : {}) });
    ctx.body = { deliveries };
  });

  router.post('/v1/deliveries/retry', auth, async (ctx: Context) => {
    const ids = await optionalIds(ctx, deps.config.bodyLimitBytes);
    const retried = deps.webhooks ? await deps.webhooks.retryFailed(ids) : [];
    ctx.body = { retried: retried.length, ids: retried };
  });
}

function optionalStatus<T extends string>(ctx: Context, allowed: readonly T[]): T | undefined {
  const value = ctx.query['status'];
  if (value === undefined || value === '') return undefined;
  if (typeof value === 'string' && (allowed as readonly string[]).includes(value)) return value as T;
  throw new ValidationError(`status must be one of ${allowed.join(', ')}`, [{ path: 'query.status', message: `got ${JSON.stringify(value)}` }]);
}

async function optionalIds(ctx: Context, limitBytes: number): Promise<string[] | undefined> {
  if (!ctx.request.length && !ctx.get('content-type')) return undefined;
  const { json } = await readJsonBody(ctx, { limitBytes });
  const ids = (json as { ids?: unknown } | null)?.ids;
  if (ids === undefined) return undefined;
  if (!Array.isArray(ids) || !ids.every((id) => typeof id === 'string')) {
    throw new ValidationError('ids must be an array of strings', [{ path: '/ids', message: 'expected an array of strings' }]);
  }
  return ids as string[];
}
