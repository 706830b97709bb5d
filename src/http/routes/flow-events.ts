/** POST /v1/flow-events: the product reports its flow events; 202 once they are durably in the outbox. */
import type { Router } from '@koa/router';
import type { Context } from 'koa';
import { ValidationError } from '../../errors.ts';
import { parseFlowEvents } from '../../domain/flow-events.ts';
import { flowEventPlanViolations } from '../../domain/flow-event-plan.ts';
import { enqueueFlowEvents } from '../../services/outbox.ts';
import { requireApiKey } from '../auth.ts';
import { readJsonBody } from '../read-json-body.ts';
import type { AppDeps } from '../app-deps.ts';

export function registerFlowEventRoutes(router: Router, deps: AppDeps): void {
  router.post('/v1/flow-events', requireApiKey(deps.config.secrets.apiKey), async (ctx: Context) => {
    const { json } = await readJsonBody(ctx, { limitBytes: deps.config.bodyLimitBytes, timeoutMs: deps.bodyTimeoutMs });
    const now = new Date(deps.clock.nowMs());
    const parsed = parseFlowEvents(json, { now });
    if (!parsed.ok) throw new ValidationError('invalid flow event', parsed.errors, 'invalid_flow_event');
    const planned = flowEventPlanViolations({ plan: deps.config.trackingPlan, events: parsed.events, settings: deps.config.events, isArray: Array.isArray(json) });
    if (planned?.action === 'reject') throw new ValidationError('flow event violates the tracking plan', planned.violations, 'tracking_plan_violation');
    if (planned) {
      deps.log.warn({ violations: planned.violations }, 'flow events violate the tracking plan (flagged, sent anyway)');
      deps.emitter.emit('tracking_plan_violation', { messageId: null, action: 'flag', source: 'product' });
    }
    const result = await enqueueFlowEvents({ store: deps.store, config: deps.config, events: parsed.events, now });
    deps.emitter.emit('flow_events_queued', { queued: result.queued, disabled: result.disabled });
    deps.outbox?.kick();
    ctx.status = 202;
    ctx.body = {
      queued: result.queued,
      duplicates: result.duplicates,
      disabled: result.disabled,
      messageIds: result.entries.map((entry) => entry.messageId),
    };
  });
}
