/**
 * Identity resolution over the store: the shared userId is the key; anonymousIds and
 * previous userIds (alias) point at it. Linking merges the anonymous (or aliased)
 * profile into the user's, so history recorded before sign-up follows the person.
 */
import type { BridgeStore } from '../domain/bridge-schema.ts';
import type { Profile } from '../domain/records.ts';
import { emptyProfile, mergeProfiles } from '../domain/profile.ts';

/** Alias chains longer than this are treated as a loop and cut. */
const MAX_ALIAS_HOPS = 16;

/** The canonical userId for a userId that may have been aliased to another one. */
export function resolveUserId(store: BridgeStore, userId: string): string {
  let current = userId;
  for (let hop = 0; hop < MAX_ALIAS_HOPS; hop += 1) {
    const link = store.get('aliases', current);
    if (!link || link.userId === current) return current;
    current = link.userId;
  }
  return current;
}

/** The canonical userId an anonymousId is linked to, if any. */
export function resolveAnonymousId(store: BridgeStore, anonymousId: string): string | undefined {
  const link = store.get('anonLinks', anonymousId);
  return link ? resolveUserId(store, link.userId) : undefined;
}

/**
 * Links `anonymousId` to `userId`: an anonymous profile under that id is merged into the
 * user's profile and removed. Returns the (possibly merged) profile to apply the message to.
 * A later call with another userId re-links the anonymousId (shared devices: the latest
 * sign-in wins for future anonymous events; history already merged stays where it is).
 */
export function linkAnonymousId(options: { store: BridgeStore; profile: Profile; anonymousId: string; at: string; historyLimit: number }): Profile {
  const { store, anonymousId, at, historyLimit } = options;
  let profile = options.profile;
  const anonymous = store.get('anons', anonymousId);
  if (anonymous) {
    profile = mergeProfiles(profile, anonymous, { historyLimit });
    store.remove('anons', anonymousId);
  }
  const existing = store.get('anonLinks', anonymousId);
  if (!existing || existing.userId !== profile.id) {
    store.put('anonLinks', anonymousId, { userId: profile.id, kind: 'anonymous', linkedAt: at });
  }
  return profile;
}

/**
 * alias(previousId -> userId): whatever is known under previousId (a user profile, an
 * anonymous profile, or nothing yet) now belongs to userId, and future calls using
 * previousId as userId or anonymousId resolve to it.
 */
export function applyAliasLinks(options: { store: BridgeStore; profile: Profile; previousId: string; at: string; historyLimit: number }): Profile {
  const { store, previousId, at, historyLimit } = options;
  let profile = options.profile;
  const previousCanonical = resolveUserId(store, previousId);
  if (previousCanonical !== profile.id) {
    const previous = store.get('users', previousCanonical);
    if (previous) {
      profile = mergeProfiles(profile, previous, { historyLimit });
      profile = { ...profile, aliases: unique([...profile.aliases, previousCanonical, ...previous.aliases]) };
      store.remove('users', previousCanonical);
      store.put('aliases', previousCanonical, { userId: profile.id, kind: 'alias', linkedAt: at });
    }
  }
  if (previousId !== profile.id) {
    store.put('aliases', previousId, { userId: profile.id, kind: 'alias', linkedAt: at });
    profile = { ...profile, aliases: unique([...profile.aliases, previousId]) };
  }
  return linkAnonymousId({ store, profile, anonymousId: previousId, at, historyLimit });
}

/** The stored profile for a canonical userId, or a new one. */
export function loadUserProfile(store: BridgeStore, userId: string, at: string): Profile {
  return store.get('users', userId) ?? emptyProfile({ id: userId, kind: 'user', at });
}

function unique(values: string[]): string[] {
  return [...new Set(values)];
}
