/**
 * Builders for valid Segment messages as they arrive on the wire (plain JSON), with
 * overrides. Each call gets a fresh messageId. An override set to `undefined` removes the
 * field, so a negative test can break exactly one thing: `buildTrack({ event: undefined })`.
 */
import type { JsonObject, JsonValue } from '../../src/domain/json.ts';
import { parseSegmentMessage, type SegmentMessage } from '../../src/domain/segment-message.ts';
import type { ProfileMessage } from '../../src/domain/profile.ts';

export const USER_ID = 'user_8c1f2a';
export const ANONYMOUS_ID = 'anon_4b7e0c93-d5a1-4e62-9f08-3a1c7be25d40';
export const BASE_TIMESTAMP = '2025-03-10T09:15:00.000Z';

export type Overrides = Record<string, JsonValue | undefined>;

let sequence = 0;

/** A messageId unique within the test process (deterministic: a counter, no clock). */
export function nextMessageId(prefix = 'test'): string {
  sequence += 1;
  return `${prefix}-${String(sequence).padStart(6, '0')}`;
}

/** ISO timestamp `minutes` after BASE_TIMESTAMP (negative for earlier). */
export function at(minutes: number): string {
  return new Date(Date.parse(BASE_TIMESTAMP) + minutes * 60_000).toISOString();
}

function build(base: JsonObject, overrides: Overrides): JsonObject {
  const out: JsonObject = {
    messageId: nextMessageId(String(base['type'])),
    timestamp: BASE_TIMESTAMP,
    channel: 'server',
    context: { library: { name: '@segment/analytics-node', version: '3.1.0' } },
    integrations: {},
    version: 2,
    ...base,
  };
  for (const [key, value] of Object.entries(overrides)) {
    if (value === undefined) delete out[key];
    else out[key] = value;
  }
  return out;
}

export const buildIdentify = (overrides: Overrides = {}): JsonObject =>
  build({ type: 'identify', userId: USER_ID, traits: { email: 'dana.reyes@example.com', plan: 'free' } }, overrides);
export const buildTrack = (overrides: Overrides = {}): JsonObject =>
  build({ type: 'track', userId: USER_ID, event: 'Signed Up', properties: { plan: 'pro' } }, overrides);
export const buildPage = (overrides: Overrides = {}): JsonObject =>
  build({ type: 'page', userId: USER_ID, name: 'Pricing', properties: { path: '/pricing' } }, overrides);
export const buildScreen = (overrides: Overrides = {}): JsonObject =>
  build({ type: 'screen', userId: USER_ID, name: 'Dashboard', properties: {} }, overrides);
export const buildGroup = (overrides: Overrides = {}): JsonObject =>
  build({ type: 'group', userId: USER_ID, groupId: 'grp_acme_01', traits: { name: 'Acme Inc', plan: 'pro' } }, overrides);
export const buildAlias = (overrides: Overrides = {}): JsonObject =>
  build({ type: 'alias', userId: USER_ID, previousId: 'legacy_user_4471' }, overrides);
export const buildDelete = (overrides: Overrides = {}): JsonObject =>
  build({ type: 'delete', userId: USER_ID }, overrides);

/** Parses a wire message; throws (failing the test) when it is invalid. */
export function parsed(wire: unknown): SegmentMessage {
  const result = parseSegmentMessage(wire);
  if (!result.ok) throw new Error(`test message invalid: ${JSON.stringify(result.errors)}`);
  return result.message;
}

/** Parses a wire message that changes a profile (anything but delete). */
export function profileMessage(wire: unknown): ProfileMessage {
  const message = parsed(wire);
  if (message.type === 'delete') throw new Error('delete messages do not apply to profiles');
  return message;
}
