/**
 * Trait merging by timestamp (SPEC §4): for each trait key, the value from the message with
 * the later timestamp wins, whatever the order in which messages arrive. `traitTimes[key]`
 * remembers the timestamp of the message that set the current value. Values are whole:
 * a nested object such as `address` or `company` is replaced, not deep-merged, because
 * Segment sends the object as the client knew it at that moment.
 */
import type { JsonObject } from './json.ts';
import { compareTimes } from './event-time.ts';
import { copyRecord, getOwn, sanitizeJson, setOwn } from './safe-keys.ts';

export interface TraitState {
  traits: JsonObject;
  traitTimes: Record<string, string>;
}

/**
 * Applies the traits of one message stamped `at`. On the same instant the message being
 * applied wins (it arrived later). Returns new objects; the inputs are not touched.
 */
export function applyTraits(state: TraitState, options: { incoming: JsonObject; at: string }): TraitState {
  const traits = copyRecord(state.traits);
  const traitTimes = copyRecord(state.traitTimes);
  for (const key of Object.keys(options.incoming)) {
    const value = options.incoming[key];
    if (value === undefined) continue;
    if (compareTimes(options.at, getOwn(traitTimes, key)) >= 0) {
      setOwn(traits, key, sanitizeJson(value));
      setOwn(traitTimes, key, options.at);
    }
  }
  return { traits, traitTimes };
}

/**
 * Merges two trait sets whose arrival order is unknown (profile merge): per key the later
 * time wins and on the same instant `target` keeps its value (it is the canonical profile).
 */
export function mergeTraitStates(target: TraitState, source: TraitState): TraitState {
  const traits = copyRecord(target.traits);
  const traitTimes = copyRecord(target.traitTimes);
  for (const key of Object.keys(source.traits)) {
    const value = source.traits[key];
    if (value === undefined) continue;
    const sourceAt = getOwn(source.traitTimes, key) ?? '';
    if (!Object.hasOwn(traits, key) || compareTimes(sourceAt, getOwn(traitTimes, key)) > 0) {
      setOwn(traits, key, sanitizeJson(value));
      setOwn(traitTimes, key, sourceAt);
    }
  }
  return { traits, traitTimes };
}
