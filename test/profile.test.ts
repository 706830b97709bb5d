import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import type { Profile } from '../src/domain/records.ts';
import {
  applyMessage,
  emptyProfile,
  mergeProfiles,
  toPublicProfile,
  type ProfileMessage,
} from '../src/domain/profile.ts';
import {
  ANONYMOUS_ID,
  at,
  buildAlias,
  buildGroup,
  buildIdentify,
  buildPage,
  buildScreen,
  buildTrack,
  profileMessage,
  USER_ID,
} from './support/build-message.ts';

const historyLimit = 50;

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null) {
    for (const child of Object.values(value)) deepFreeze(child);
    Object.freeze(value);
  }
  return value;
}

/** Applies messages in the given order to a fresh profile; every input profile is frozen. */
function applyAll(messages: ProfileMessage[], options: { id?: string; kind?: Profile['kind']; limit?: number } = {}): Profile {
  let profile = emptyProfile({ id: options.id ?? USER_ID, kind: options.kind ?? 'user', at: '' });
  for (const message of messages) profile = applyMessage(deepFreeze(profile), message, { historyLimit: options.limit ?? historyLimit });
  return profile;
}

const identify = (minutes: number, traits: Record<string, string | number | object>) =>
  profileMessage(buildIdentify({ timestamp: at(minutes), traits: traits as never }));
const track = (minutes: number, event = 'Signed Up', extra: Record<string, unknown> = {}) =>
  profileMessage(buildTrack({ timestamp: at(minutes), event, ...(extra as object) }));

// ---
const traits = suite('traits: later timestamp wins, whatever the arrival order');

traits('identify merges traits key by key', () => {
  const profile = applyAll([identify(0, { email: 'a@example.com', plan: 'free' }), identify(1, { plan: 'pro' })]);
  assert.equal(profile.traits, { email: 'a@example.com', plan: 'pro' });
  assert.equal(profile.traitTimes, { email: at(0), plan: at(1) });
});

traits('an older identify arriving later does not overwrite a newer value, but fills keys it alone has', () => {
  const newer = identify(10, { plan: 'pro' });
  const older = identify(5, { plan: 'free', firstName: 'Dana' });
  const profile = applyAll([newer, older]);
  assert.equal(profile.traits, { plan: 'pro', firstName: 'Dana' });
  assert.equal(applyAll([older, newer]).traits, profile.traits, 'same result in either order');
});

traits('same timestamp: the later arrival wins', () => {
  assert.is(applyAll([identify(3, { plan: 'free' }), identify(3, { plan: 'pro' })]).traits['plan'], 'pro');
  assert.is(applyAll([identify(3, { plan: 'pro' }), identify(3, { plan: 'free' })]).traits['plan'], 'free');
});

traits('nested objects are whole values, not deep-merged', () => {
  const profile = applyAll([
    identify(0, { company: { name: 'Acme', plan: 'free', employees: 10 } }),
    identify(1, { company: { name: 'Acme Inc' } }),
  ]);
  assert.equal(profile.traits['company'], { name: 'Acme Inc' });
});

traits('context.traits on a track call are not merged', () => {
  const message = profileMessage(buildTrack({ timestamp: at(9), context: { traits: { plan: 'stale-cache' } } }));
  const profile = applyAll([identify(1, { plan: 'pro' }), message]);
  assert.is(profile.traits['plan'], 'pro');
});

traits('the input profile is never mutated', () => {
  const before = applyAll([identify(0, { plan: 'free' })]);
  const snapshot = JSON.stringify(before);
  applyMessage(deepFreeze(before), identify(1, { plan: 'pro' }), { historyLimit }); // frozen: a mutation would throw
  assert.is(JSON.stringify(before), snapshot);
});

traits.run();

// ---
const groups = suite('groups: group id and traits recorded on the user');

groups('group traits merge by timestamp per group', () => {
  const profile = applyAll([
    profileMessage(buildGroup({ groupId: 'grp_1', timestamp: at(5), traits: { name: 'Acme Inc', plan: 'pro' } })),
    profileMessage(buildGroup({ groupId: 'grp_1', timestamp: at(1), traits: { plan: 'free', employees: 120 } })),
    profileMessage(buildGroup({ groupId: 12, timestamp: at(2), traits: { name: 'Other' } })),
  ]);
  assert.equal(Object.keys(profile.groups).sort(), ['12', 'grp_1']);
  const acme = profile.groups['grp_1'];
  assert.equal(acme?.traits, { name: 'Acme Inc', plan: 'pro', employees: 120 });
  assert.is(acme?.firstSeenAt, at(1));
  assert.is(acme?.lastSeenAt, at(5));
  assert.equal(profile.traits, {}, 'group traits are not user traits');
});

groups.run();

// ---
const history = suite('history and counts');

history('recent events are newest first by timestamp, not by arrival', () => {
  const profile = applyAll([track(5, 'B'), track(1, 'A'), track(9, 'C'), profileMessage(buildPage({ timestamp: at(3) }))]);
  assert.equal(profile.recentEvents.map((entry) => entry.timestamp), [at(9), at(5), at(3), at(1)]);
  assert.equal(profile.recentEvents.map((entry) => entry.name), ['C', 'B', 'Pricing', 'A']);
});

history('history is bounded; counts keep everything', () => {
  const messages = [0, 1, 2, 3, 4, 5].map((minute) => track(minute, minute % 2 === 0 ? 'Even' : 'Odd'));
  const profile = applyAll([...messages.slice(3), ...messages.slice(0, 3)], { limit: 3 });
  assert.equal(profile.recentEvents.map((entry) => entry.timestamp), [at(5), at(4), at(3)]);
  assert.equal(profile.counts, { total: 6, byType: { track: 6 }, byEvent: { Even: 3, Odd: 3 } });
});

history('counts by type for every call; byEvent for track only', () => {
  const profile = applyAll([
    track(1, 'Plan Upgraded'),
    identify(2, { plan: 'pro' }),
    profileMessage(buildPage({ timestamp: at(3) })),
    profileMessage(buildScreen({ timestamp: at(4) })),
    profileMessage(buildGroup({ timestamp: at(5) })),
    profileMessage(buildAlias({ timestamp: at(6) })),
    track(7, 'Plan Upgraded'),
  ]);
  assert.equal(profile.counts, {
    total: 7,
    byType: { track: 2, identify: 1, page: 1, screen: 1, group: 1, alias: 1 },
    byEvent: { 'Plan Upgraded': 2 },
  });
  assert.is(profile.recentEvents.length, 7);
});

history('the same messageId applied twice counts once', () => {
  const message = track(1);
  const once = applyAll([message]);
  const twice = applyMessage(once, message, { historyLimit });
  assert.is(twice.counts.total, 1);
  assert.is(twice.recentEvents.length, 1);
});

history('properties over 2 KB are dropped from history; the name stays', () => {
  const big = track(1, 'Big', { properties: { blob: 'x'.repeat(3000) } });
  const small = track(2, 'Small', { properties: { plan: 'pro' } });
  const profile = applyAll([big, small]);
  const [smallEntry, bigEntry] = profile.recentEvents;
  assert.equal(smallEntry?.properties, { plan: 'pro' });
  assert.is(bigEntry?.name, 'Big');
  assert.is(bigEntry?.properties, undefined);
});

history('firstSeenAt / lastSeenAt do not depend on arrival order', () => {
  const messages = [track(4), identify(-30, { plan: 'free' }), profileMessage(buildPage({ timestamp: at(90) })), track(0)];
  const forward = applyAll(messages);
  const backward = applyAll([...messages].reverse());
  assert.is(forward.firstSeenAt, at(-30));
  assert.is(forward.lastSeenAt, at(90));
  assert.is(backward.firstSeenAt, forward.firstSeenAt);
  assert.is(backward.lastSeenAt, forward.lastSeenAt);
  assert.equal(backward.recentEvents, forward.recentEvents);
});

history('anonymousIds are recorded once; alias records the previous id', () => {
  const profile = applyAll([
    profileMessage(buildTrack({ anonymousId: ANONYMOUS_ID, timestamp: at(1) })),
    profileMessage(buildIdentify({ anonymousId: ANONYMOUS_ID, timestamp: at(2) })),
    profileMessage(buildAlias({ previousId: 'legacy_user_4471', timestamp: at(3) })),
  ]);
  assert.equal(profile.anonymousIds, [ANONYMOUS_ID]);
  assert.equal(profile.aliases, ['legacy_user_4471']);
});

history.run();

// ---
const merge = suite('mergeProfiles: anonymous history into the user');

function anonProfile(): Profile {
  const anon = (wire: Record<string, unknown>) => profileMessage({ ...wire, userId: undefined, anonymousId: ANONYMOUS_ID });
  return applyAll(
    [
      anon(buildTrack({ event: 'Pricing Viewed', timestamp: at(-10) })),
      anon(buildPage({ timestamp: at(-8) })),
      anon(buildIdentify({ traits: { plan: 'trial', utm_source: 'ads' }, timestamp: at(-5) })),
      anon(buildGroup({ groupId: 'grp_1', traits: { plan: 'free' }, timestamp: at(-4) })),
    ],
    { id: ANONYMOUS_ID, kind: 'anonymous' },
  );
}

function userProfile(): Profile {
  const profile = applyAll([
    identify(0, { plan: 'pro', email: 'dana@example.com' }),
    track(1, 'Pricing Viewed'),
    profileMessage(buildGroup({ groupId: 'grp_1', traits: { name: 'Acme Inc' }, timestamp: at(2) })),
  ]);
  return { ...profile, flowHistory: [{ messageId: 'flow-1', event: 'Flow Completed', flowId: 'f1', timestamp: at(3), status: 'delivered' }] };
}

merge('counts summed, history ordered by timestamp, anonymousIds unioned, seen range widened', () => {
  const target = deepFreeze(userProfile());
  const source = deepFreeze(anonProfile());
  const merged = mergeProfiles(target, source, { historyLimit });
  assert.is(merged.id, USER_ID);
  assert.is(merged.kind, 'user');
  assert.is(merged.counts.total, 7);
  assert.equal(merged.counts.byEvent, { 'Pricing Viewed': 2 });
  assert.equal(merged.counts.byType, { identify: 2, track: 2, group: 2, page: 1 });
  assert.equal(merged.recentEvents.map((entry) => entry.timestamp), [at(2), at(1), at(0), at(-4), at(-5), at(-8), at(-10)]);
  assert.equal(merged.anonymousIds, [ANONYMOUS_ID]);
  assert.is(merged.firstSeenAt, at(-10));
  assert.is(merged.lastSeenAt, at(2));
  assert.is(merged.flowHistory.length, 1);
});

merge('traits per key by traitTimes: the newer user value wins, keys only the anon had are kept', () => {
  const merged = mergeProfiles(userProfile(), anonProfile(), { historyLimit });
  assert.equal(merged.traits, { plan: 'pro', email: 'dana@example.com', utm_source: 'ads' });
  assert.is(merged.traitTimes['utm_source'], at(-5));
  const newerAnon = mergeProfiles(
    userProfile(),
    applyAll([profileMessage(buildIdentify({ userId: undefined, anonymousId: ANONYMOUS_ID, traits: { plan: 'enterprise' }, timestamp: at(30) }))], {
      id: ANONYMOUS_ID,
      kind: 'anonymous',
    }),
    { historyLimit },
  );
  assert.is(newerAnon.traits['plan'], 'enterprise');
});

merge('groups merge per group; history is bounded and deduped by messageId', () => {
  const user = userProfile();
  const anon = anonProfile();
  const shared = { ...anon, recentEvents: [...anon.recentEvents, ...user.recentEvents.slice(0, 1)] };
  const merged = mergeProfiles(user, shared, { historyLimit: 5 });
  assert.equal(merged.groups['grp_1']?.traits, { name: 'Acme Inc', plan: 'free' });
  assert.is(merged.groups['grp_1']?.firstSeenAt, at(-4));
  assert.is(merged.recentEvents.length, 5);
  assert.is(new Set(merged.recentEvents.map((entry) => entry.messageId)).size, 5);
});

merge('merging a previous user (alias) records its id in aliases', () => {
  const previous = applyAll([track(1)], { id: 'legacy_user_4471' });
  const merged = mergeProfiles(userProfile(), previous, { historyLimit });
  assert.equal(merged.aliases, ['legacy_user_4471']);
  assert.equal(merged.anonymousIds, []);
});

merge.run();

// ---
const publicShape = suite('toPublicProfile');

publicShape('the GET /v1/users/:userId shape, detached from the stored profile', () => {
  const profile = mergeProfiles(userProfile(), anonProfile(), { historyLimit });
  const view = toPublicProfile(profile);
  assert.equal(Object.keys(view).sort(), [
    'aliases', 'anonymousIds', 'counts', 'firstSeenAt', 'flowHistory', 'groups', 'lastSeenAt', 'recentEvents', 'traits', 'userId',
  ]);
  assert.is(view.userId, USER_ID);
  assert.equal(view.groups, [{ groupId: 'grp_1', traits: { name: 'Acme Inc', plan: 'free' }, firstSeenAt: at(-4), lastSeenAt: at(2) }]);
  view.traits['plan'] = 'changed';
  assert.is(profile.traits['plan'], 'pro');
});

publicShape.run();

// ---
const hostile = suite('hostile keys: no prototype pollution, no broken counts');

hostile('__proto__ / constructor / prototype traits and properties are dropped', () => {
  const wire = JSON.parse(
    `{"type":"identify","messageId":"h1","userId":"u1","timestamp":"2025-03-10T09:15:00Z",
      "traits":{"__proto__":{"polluted":true},"constructor":{"prototype":{"polluted":true}},"prototype":1,"plan":"pro",
                "address":{"__proto__":{"polluted":true},"city":"Lyon"}}}`,
  ) as unknown;
  // Build the message by hand (not through the parser, which also strips) to test the profile's own guard.
  const message = { ...(wire as object), timestamp: '2025-03-10T09:15:00.000Z' } as ProfileMessage;
  const profile = applyAll([message]);
  assert.equal(Object.keys(profile.traits).sort(), ['address', 'plan']);
  assert.equal(Object.keys(profile.traitTimes).sort(), ['address', 'plan']);
  assert.equal(profile.traits['address'], { city: 'Lyon' });
  assert.equal(Object.keys(profile.recentEvents[0]?.properties ?? {}).sort(), ['address', 'plan']);
  assert.is(({} as Record<string, unknown>)['polluted'], undefined);
  assert.is(Object.getPrototypeOf(profile.traits), Object.prototype);
});

hostile('event names and group ids that shadow Object.prototype members count correctly', () => {
  const profile = applyAll([
    track(1, 'toString'),
    track(2, 'toString'),
    track(3, 'constructor'),
    profileMessage(buildGroup({ groupId: '__proto__', timestamp: at(4) })),
    identify(5, { hasOwnProperty: 'yes' }),
  ]);
  assert.is(profile.counts.byEvent['toString'], 2);
  assert.not.ok(Object.hasOwn(profile.counts.byEvent, 'constructor'));
  assert.equal(Object.keys(profile.groups), []);
  assert.is(profile.traits['hasOwnProperty'], 'yes');
  assert.is(Object.getPrototypeOf(profile.groups), Object.prototype);
  assert.is(({} as Record<string, unknown>)['groupId'], undefined);
});

hostile('merging profiles carrying hostile keys (e.g. loaded from disk) drops them', () => {
  const source = anonProfile();
  const tainted: Profile = JSON.parse(
    JSON.stringify(source).replace('"traits":{', '"traits":{"__proto__":{"polluted":true},'),
  ) as Profile;
  assert.ok(Object.hasOwn(tainted.traits, '__proto__'), 'the fixture really carries the key');
  const merged = mergeProfiles(userProfile(), tainted, { historyLimit });
  assert.not.ok(Object.hasOwn(merged.traits, '__proto__'));
  assert.is(Object.getPrototypeOf(merged.traits), Object.prototype, 'not turned into a prototype setter either');
  assert.is(({} as Record<string, unknown>)['polluted'], undefined);
});

hostile.run();
