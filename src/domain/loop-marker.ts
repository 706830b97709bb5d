/**
 * The loop guard's marker. Every message the bridge sends to Segment carries
 * `context.segmentBridge = { origin: 'segment-bridge', environment }`; when the customer's
 * Webhooks destination echoes one of them back to /v1/segment it is recognised by this
 * marker (not by event name, which a customer may legitimately reuse) and ignored.
 */
import { isJsonObject, type JsonObject } from './json.ts';

export const LOOP_MARKER_KEY = 'segmentBridge';
export const LOOP_MARKER_ORIGIN = 'segment-bridge';

export function loopMarker(environment: string): JsonObject {
  return { origin: LOOP_MARKER_ORIGIN, environment };
}

/** True when a message carries our marker in `context`. */
export function isBridgeEcho(message: { context?: unknown }): boolean {
  const context = message.context;
  if (!isJsonObject(context)) return false;
  const marker = context[LOOP_MARKER_KEY];
  return isJsonObject(marker) && marker['origin'] === LOOP_MARKER_ORIGIN;
}
