/**
 * A profile's flow history with each entry's current delivery status. The profile stores
 * what the product reported (`queued`, or `disabled` for events never sent); whether an event
 * is still queued, dead, or delivered is read from the outbox, where an entry stays until
 * Segment acknowledged it. Deriving it keeps delivery from rewriting the whole profile for
 * every event (see bench/RESULTS.md: that rewrite was the largest cost of delivery).
 */
import type { BridgeStore } from '../domain/bridge-schema.ts';
import type { FlowHistoryEntry, Profile } from '../domain/records.ts';

export function currentFlowHistory(store: BridgeStore, profile: Profile): FlowHistoryEntry[] {
  return profile.flowHistory.map((entry) => {
    if (entry.status === 'disabled') return entry;
    const queued = store.get('outbox', entry.messageId);
    const status: FlowHistoryEntry['status'] = queued === undefined ? 'delivered' : queued.status === 'dead' ? 'dead' : 'queued';
    return status === entry.status ? entry : { ...entry, status };
  });
}
