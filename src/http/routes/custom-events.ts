/** POST /v1/events: custom trigger events from the product's code (API key). Answers with the runs fired. */
import type { Router } from '@koa/router';
import type { Context } from 'koa';
import { randomUUID } from 'node:crypto';
import { ValidationError } from '../../errors.ts';
import { parseCustomEvents } from '../../domain/custom-event.ts';
import { ingestCustomEvents } from '../../services/custom-events.ts';
import { requireApiKey } from '../auth.ts';
import { readJsonBody } from '../read-json-body.ts';
import type { AppDeps } from '../app-deps.ts';

export function registerCustomEventRoutes(router: Router, deps: AppDeps): void {
  router.post('/v1/events', requireApiKey(deps.config.secrets.apiKey), async (ctx: Context) => {
    const { json } = await readJsonBody(ctx, { limitBytes: deps.config.bodyLimitBytes, timeoutMs: deps.bodyTimeoutMs });
    const nowMs = deps.clock.nowMs();
    const parsed = parseCustomEvents(json, { nowMs, newMessageId: () => `sb-custom-${randomUUID()}` });
    if (!parsed.ok) throw new ValidationError('invalid custom event', parsed.errors, 'invalid_event');
    const result = await ingestCustomEvents({ ...deps, events: parsed.events, nowMs });
    ctx.status = 200;
    ctx.body = {
      accepted: result.accepted,
      duplicates: result.duplicates,
      runs: result.runs.map((run) => ({ id: run.id, triggerId: run.triggerId, userId: run.userId, flowId: run.flowId, inviteUrl: run.inviteUrl })),
    };
  });
}
