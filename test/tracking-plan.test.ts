/**
 * Tracking plans: the domain checks, config validation of the plan's schemas, and
 * enforcement on /v1/segment (inbound) and /v1/flow-events (outbound) over real HTTP.
 */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { compileTrackingPlan, type TrackingPlanConfig } from '../src/domain/tracking-plan.ts';
import { loadEnvironment } from '../src/config/load-environment.ts';
import { ConfigError } from '../src/errors.ts';
import { startTestInstance, type TestInstance } from './support/instance.ts';
import { tempDir } from './support/config.ts';
import { buildIdentify, buildTrack } from './support/build-message.ts';

function plan(overrides: Partial<TrackingPlanConfig> = {}): TrackingPlanConfig {
  return {
    violations: 'reject',
    unplannedEvents: 'allow',
    track: {
      'Signed Up': { type: 'object', required: ['plan'], properties: { plan: { enum: ['free', 'pro', 'enterprise'] } } },
      'Flow Completed': { type: 'object', required: ['flow_id'], properties: { flow_id: { type: 'string', pattern: '^[a-z-]+$' } } },
    },
    identify: { type: 'object', properties: { email: { type: 'string', format: 'email' } } },
    ...overrides,
  };
}

// ---
const checks = suite('compileTrackingPlan');

checks('passes a conforming event, names the field of a violation, allows or rejects unplanned events', () => {
  const compiled = compileTrackingPlan(plan());
  assert.equal(compiled.checkTrack('Signed Up', { plan: 'pro' }), { ok: true });
  const missing = compiled.checkTrack('Signed Up', {});
  assert.equal(missing, { ok: false, action: 'reject', violations: [{ path: '/properties/plan', message: 'is required by the tracking plan' }] });
  const wrong = compiled.checkTrack('Signed Up', { plan: 'gold' });
  assert.is(wrong.ok, false);
  assert.is(!wrong.ok && wrong.violations[0]?.path, '/properties/plan');
  assert.equal(compiled.checkTrack('Something Else', {}), { ok: true });
  const strict = compileTrackingPlan(plan({ unplannedEvents: 'reject' }));
  assert.is(strict.checkTrack('Something Else', {}).ok, false);
  assert.is(compiled.checkIdentify({ email: 'not-an-email' }).ok, false);
  assert.is(compiled.checkIdentify({ email: 'a@example.com' }).ok, true);
});

checks.run();

// ---
const config = suite('tracking plan in environment files');

config('an invalid JSON Schema in the plan is a config problem located by pointer', async () => {
  const cwd = await tempDir();
  await mkdir(join(cwd, 'environments'));
  const file = { name: 'staging', port: 4100, publicUrl: 'http://127.0.0.1:4100', trackingPlan: { track: { 'Signed Up': { type: 'no-such-type' } } } };
  await writeFile(join(cwd, 'environments', 'staging.json'), JSON.stringify(file));
  try {
    loadEnvironment({ env: 'staging', cwd, processEnv: {} });
    assert.unreachable('should have thrown');
  } catch (error) {
    assert.instance(error, ConfigError);
    assert.ok((error as ConfigError).problems.some((problem) => problem.path === 'environments/staging.json#/trackingPlan/track/Signed Up'), JSON.stringify((error as ConfigError).problems));
  }
  file.trackingPlan.track['Signed Up'] = { type: 'object' };
  await writeFile(join(cwd, 'environments', 'staging.json'), JSON.stringify(file));
  const loaded = loadEnvironment({ env: 'staging', cwd, processEnv: {} });
  assert.is(loaded.trackingPlan?.violations, 'reject', 'defaults applied');
  assert.is(loaded.trackingPlan?.unplannedEvents, 'allow');
});

config.run();

// ---
const http = suite('enforcement over HTTP');
let instance: TestInstance;
http.after(async () => { await instance.close(); });

http('reject mode: a violating message is rejected alone in a batch, 400 alone, and logged', async () => {
  instance = await startTestInstance({ trackingPlan: plan() });
  const good = buildTrack({ userId: 'plan-user', event: 'Signed Up', properties: { plan: 'pro' } });
  const bad = buildTrack({ userId: 'plan-user', event: 'Signed Up', properties: { plan: 'gold' } });
  const res = await instance.postSegment([good, bad]);
  assert.is(res.json['accepted'], 1);
  const rejected = res.json['rejected'] as Array<{ index: number; errors: Array<{ path: string }> }>;
  assert.is(rejected[0]?.index, 1);
  assert.is(rejected[0]?.errors[0]?.path, '/properties/plan');
  const alone = await instance.postSegment(buildIdentify({ userId: 'plan-user', traits: { email: 'nope' } }));
  assert.is(alone.status, 400);
  assert.ok([...instance.store.values('rejections')].some((rejection) => rejection.messageId === bad['messageId'] && !rejection.flagged));
  const flow = await instance.api('/v1/flow-events', { body: [{ event: 'Flow Completed', userId: 'plan-user', properties: { flow_id: 'Not Valid!' } }] });
  assert.is(flow.status, 400);
  assert.equal((flow.json['details'] as Array<{ path: string }>).map((detail) => detail.path), ['/0/properties/flow_id']);
  await instance.close();
});

http('flag mode: violations are accepted, logged as flagged and counted in metrics', async () => {
  instance = await startTestInstance({ trackingPlan: plan({ violations: 'flag' }) });
  const bad = buildTrack({ userId: 'flag-user', event: 'Signed Up', properties: {} });
  const res = await instance.postSegment(bad);
  assert.equal(res.json, { accepted: 1, duplicates: 0, ignored: 0, rejected: [] });
  const logged = [...instance.store.values('rejections')].find((rejection) => rejection.messageId === bad['messageId']);
  assert.is(logged?.flagged, true);
  const flow = await instance.api('/v1/flow-events', { body: { event: 'Flow Completed', userId: 'flag-user', properties: { flow_id: 'Not Valid!' } } });
  assert.is(flow.status, 202);
  const metrics = await (await fetch(`${instance.url}/metrics`)).text();
  assert.match(metrics, /segment_bridge_tracking_plan_violations_total\{source="segment",environment="staging"\} 1/);
  assert.match(metrics, /segment_bridge_tracking_plan_violations_total\{source="product",environment="staging"\} 1/);
});

http.run();
