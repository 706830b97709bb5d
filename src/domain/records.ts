/**
 * The records an environment's store holds, one interface per collection.
 * Values are plain JSON and are replaced, never mutated, when they change.
 */
import type { JsonObject } from './json.ts';

/** One entry of a profile's bounded history (newest first). */
export interface RecentEvent {
  messageId: string;
  type: 'identify' | 'track' | 'page' | 'screen' | 'group' | 'alias';
  /** track: event name; page/screen: name; group: groupId. */
  name?: string;
  timestamp: string;
  properties?: JsonObject;
}

export interface GroupMembership {
  groupId: string;
  traits: JsonObject;
  /** ISO timestamp of the message that last set each group trait. */
  traitTimes: Record<string, string>;
  firstSeenAt: string;
  lastSeenAt: string;
}

/** What the product reported to Segment for this user (see src/domain/flow-events.ts). */
export interface FlowHistoryEntry {
  messageId: string;
  /** Catalog name, e.g. `Flow Completed` (before any per-environment rename). */
  event: string;
  flowId: string;
  timestamp: string;
  /**
   * Stored: `queued` (or `disabled`: accepted, never sent). `delivered` and `dead` are derived
   * from the outbox when the profile is read (src/services/flow-history.ts).
   */
  status: 'queued' | 'delivered' | 'disabled' | 'dead';
}

/** A person, keyed by the shared userId (collection `users`) or by anonymousId (collection `anons`). */
export interface Profile {
  /** The shared user ID (users) or the anonymousId (anons). */
  id: string;
  kind: 'user' | 'anonymous';
  traits: JsonObject;
  /** ISO timestamp of the message that last set each trait: later timestamp wins, whatever the arrival order. */
  traitTimes: Record<string, string>;
  anonymousIds: string[];
  /** Previous userIds merged into this one by alias calls. */
  aliases: string[];
  groups: Record<string, GroupMembership>;
  firstSeenAt: string;
  lastSeenAt: string;
  counts: {
    total: number;
    byType: Record<string, number>;
    /** track events by name. */
    byEvent: Record<string, number>;
  };
  recentEvents: RecentEvent[];
  flowHistory: FlowHistoryEntry[];
}

/** anonymousId (or a previous userId) -> canonical userId. */
export interface IdentityLink {
  userId: string;
  kind: 'anonymous' | 'alias';
  linkedAt: string;
}

/** A messageId seen within the dedupe window. */
export interface SeenMessage {
  /** Epoch ms when first accepted. */
  atMs: number;
  outcome: 'accepted' | 'ignored';
}

/** Left behind by a delete: messages about this user older than `deletedAt` are ignored. */
export interface Tombstone {
  userId: string;
  deletedAt: string;
  anonymousIds: string[];
}

/** One message of a batch that failed validation (the environment's rejections log). */
export interface Rejection {
  receivedAt: string;
  index: number;
  messageId: string | null;
  errors: Array<{ path: string; message: string }>;
  /** The message as received, truncated to a preview. */
  preview: string;
  /** True for a tracking-plan violation that was accepted anyway (`violations: "flag"`). */
  flagged?: boolean;
}

export interface BridgeMeta {
  value: unknown;
  updatedAt: string;
}
