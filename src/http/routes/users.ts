/** GET /v1/users/:userId: a user's profile as the store knows it (API key). */
import type { Router } from '@koa/router';
import type { Context } from 'koa';
import { NotFoundError } from '../../errors.ts';
import { toPublicProfile } from '../../domain/profile.ts';
import { resolveUserId } from '../../services/identity.ts';
import { listRuns } from '../../services/triggers.ts';
import { currentFlowHistory } from '../../services/flow-history.ts';
import { requireApiKey } from '../auth.ts';
import type { AppDeps } from '../app-deps.ts';

export function registerUserRoutes(router: Router, deps: AppDeps): void {
  router.get('/v1/users/:userId', requireApiKey(deps.config.secrets.apiKey), (ctx: Context) => {
    const requested = String((ctx as Context & { params: Record<string, string> }).params['userId'] ?? '');
    const userId = resolveUserId(deps.store, requested);
    const profile = deps.store.get('users', userId);
    if (!profile) throw new NotFoundError(`no user with userId ${JSON.stringify(requested.slice(0, 100))} in ${deps.config.name}`);
    const runs = listRuns({ store: deps.store, userId });
    ctx.body = { ...toPublicProfile({ ...profile, flowHistory: currentFlowHistory(deps.store, profile) }), triggerRuns: runs };
  });
}
