/**
 * Triggers end to end over real HTTP: Segment events and custom events fire runs that show in
 * the user's profile, and a webhook signed with Standard Webhooks reaches a real receiver.
 */
import { suite } from 'uvu';
import { waitFor } from './support/wait-for.ts';
import * as assert from 'uvu/assert';
import type { TriggerConfig } from '../src/config/types.ts';
import { startTestInstance, type TestInstance } from './support/instance.ts';
import { startWebhookReceiver, type WebhookReceiver } from './support/webhook-receiver.ts';
import { at, buildIdentify, buildTrack } from './support/build-message.ts';

const WEBHOOK_SECRET = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';

function triggers(receiverUrl: string): TriggerConfig[] {
  return [
    {
      id: 'pro-signup', event: 'Signed Up', source: 'segment',
      where: { properties: { plan: 'pro' }, traits: { role: { $in: ['admin', 'owner'] } } },
      flow: { id: 'onboarding-pro', url: 'https://app.example.com/flows/onboarding-pro?user={userId}&run={runId}' },
      frequency: { perUser: 'once' },
      webhook: { url: `${receiverUrl}/hooks/flows`, secretEnv: 'FLOW_WEBHOOK_SECRET' },
    },
    {
      id: 'nps-custom', event: 'Project Shipped', source: 'custom',
      where: { properties: { projects: { $gte: 3 } } },
      flow: { id: 'nps', url: 'https://app.example.com/i/{flowId}?u={userId}' },
      frequency: { perUser: { max: 2, windowDays: 30 } },
      webhook: undefined,
    },
  ];
}

// ---
const segmentTriggers = suite('triggers on Segment events');
let instance: TestInstance;
let receiver: WebhookReceiver;
segmentTriggers.before(async () => {
  receiver = await startWebhookReceiver({ secret: WEBHOOK_SECRET });
  instance = await startTestInstance({ triggers: triggers(receiver.url), secrets: { webhookSecrets: { FLOW_WEBHOOK_SECRET: WEBHOOK_SECRET } } });
});
segmentTriggers.after(async () => {
  await instance.close();
  await receiver.close();
});

segmentTriggers('identify first, then a matching track fires one run and one signed webhook', async () => {
  await instance.postSegment(buildIdentify({ userId: 'u-admin', traits: { role: 'admin' }, timestamp: at(0) }));
  const track = buildTrack({ userId: 'u-admin', event: 'Signed Up', properties: { plan: 'pro' }, timestamp: at(1) });
  assert.is((await instance.postSegment(track)).json['accepted'], 1);
  await waitFor(() => receiver.requests.length === 1);
  const request = receiver.requests[0]!;
  assert.ok(request.signatureValid, 'the receiver verified the signature independently');
  const body = JSON.parse(request.body) as { type: string; userId: string; flow: { id: string; inviteUrl: string }; event: { messageId: string } };
  assert.is(body.type, 'trigger.fired');
  assert.is(body.userId, 'u-admin');
  assert.is(body.flow.id, 'onboarding-pro');
  assert.match(body.flow.inviteUrl, /^https:\/\/app\.example\.com\/flows\/onboarding-pro\?user=u-admin&run=run_/);
  assert.is(body.event.messageId, track['messageId']);

  const profile = await instance.api('/v1/users/u-admin');
  const runs = profile.json['triggerRuns'] as Array<{ triggerId: string; sourceMessageId: string }>;
  assert.is(runs.length, 1);
  assert.is(runs[0]?.sourceMessageId, track['messageId']);

  await instance.postSegment(track);
  await instance.postSegment(buildTrack({ userId: 'u-admin', event: 'Signed Up', properties: { plan: 'pro' }, timestamp: at(2) }));
  await instance.webhooks.runOnce();
  assert.is(receiver.requests.length, 1, 'a duplicate and a second match (frequency once) fire nothing');
});

segmentTriggers('trait and property filters that do not match fire nothing and leave no history', async () => {
  await instance.postSegment(buildIdentify({ userId: 'u-viewer', traits: { role: 'viewer' } }));
  await instance.postSegment(buildTrack({ userId: 'u-viewer', event: 'Signed Up', properties: { plan: 'pro' } }));
  await instance.postSegment(buildTrack({ userId: 'u-admin-2', event: 'Signed Up', properties: { plan: 'free' } }));
  await instance.postSegment(buildTrack({ userId: 'u-admin-2', event: 'Not Allowlisted' }));
  assert.is(instance.store.get('runIndex', 'u-viewer'), undefined);
  assert.is(instance.store.get('runIndex', 'u-admin-2'), undefined);
});

segmentTriggers('an echo of our own event never fires a trigger', async () => {
  await instance.postSegment(buildIdentify({ userId: 'u-echo', traits: { role: 'owner' } }));
  const echo = buildTrack({ userId: 'u-echo', event: 'Signed Up', properties: { plan: 'pro' }, context: { segmentBridge: { origin: 'segment-bridge', environment: 'staging' } } });
  assert.is((await instance.postSegment(echo)).json['ignored'], 1);
  assert.is(instance.store.get('runIndex', 'u-echo'), undefined);
});

segmentTriggers.run();

// ---
const custom = suite('POST /v1/events');
custom.before(async () => {
  receiver = await startWebhookReceiver({ secret: WEBHOOK_SECRET });
  instance = await startTestInstance({ triggers: triggers(receiver.url), secrets: { webhookSecrets: { FLOW_WEBHOOK_SECRET: WEBHOOK_SECRET } } });
});
custom.after(async () => {
  await instance.close();
  await receiver.close();
});

custom('a custom event fires its trigger and answers with the invite URL', async () => {
  const res = await instance.api('/v1/events', { body: { event: 'Project Shipped', userId: 'u-maker', properties: { projects: 3 }, messageId: 'proj-1' } });
  assert.is(res.status, 200, JSON.stringify(res.json));
  const runs = res.json['runs'] as Array<{ flowId: string; inviteUrl: string }>;
  assert.is(runs.length, 1);
  assert.is(runs[0]?.inviteUrl, 'https://app.example.com/i/nps?u=u-maker');
  const again = await instance.api('/v1/events', { body: { event: 'Project Shipped', userId: 'u-maker', properties: { projects: 3 }, messageId: 'proj-1' } });
  assert.equal({ accepted: again.json['accepted'], duplicates: again.json['duplicates'] }, { accepted: 0, duplicates: 1 });
});

custom('frequency max 2 per window caps custom runs', async () => {
  const fired: number[] = [];
  for (let i = 0; i < 4; i += 1) {
    const res = await instance.api('/v1/events', { body: { event: 'Project Shipped', userId: 'u-capped', properties: { projects: 5 } } });
    fired.push((res.json['runs'] as unknown[]).length);
  }
  assert.equal(fired, [1, 1, 0, 0]);
});

custom('a Segment-only trigger is not fired by a custom event, and bad bodies are 400 with paths, no key 401', async () => {
  const res = await instance.api('/v1/events', { body: { event: 'Signed Up', userId: 'u-x', properties: { plan: 'pro' } } });
  assert.equal(res.json['runs'], []);
  const bad = await instance.api('/v1/events', { body: [{ event: 'Project Shipped' }] });
  assert.is(bad.status, 400);
  assert.ok((bad.json['details'] as Array<{ path: string }>).some((detail) => detail.path === '/0/userId'));
  const noKey = await instance.api('/v1/events', { body: { event: 'Project Shipped', userId: 'u' }, token: null });
  assert.is(noKey.status, 401);
});

custom.run();
