import type { BridgeMeta, IdentityLink, Profile, Rejection, SeenMessage, Tombstone } from './records.ts';
import type { OutboxEntry } from './outbox-entry.ts';
import type { TriggerRun, UserRunIndex, WebhookDelivery } from './trigger-run.ts';
import type { RecordStore } from '../ports/record-store.ts';

/** Every collection of an environment's store and the record type it holds. */
export interface BridgeSchema {
  [collection: string]: unknown;
  /** Profiles by shared userId. */
  users: Profile;
  /** Profiles of people known only by anonymousId, until a call links them to a userId. */
  anons: Profile;
  /** anonymousId -> userId. */
  anonLinks: IdentityLink;
  /** previous userId -> userId (alias calls). */
  aliases: IdentityLink;
  /** messageId -> when first seen (dedupe window). */
  seen: SeenMessage;
  /** userId -> tombstone left by a delete. */
  tombstones: Tombstone;
  rejections: Rejection;
  /** messageId -> outbound flow event. */
  outbox: OutboxEntry;
  /** run id -> trigger run. */
  runs: TriggerRun;
  /** userId -> ids and times of that user's runs (see UserRunIndex). */
  runIndex: UserRunIndex;
  /** delivery id -> webhook delivery. */
  deliveries: WebhookDelivery;
  /** Small named values: verification state, counters. */
  meta: BridgeMeta;
}

export type BridgeStore = RecordStore<BridgeSchema>;
