/**
 * The environment's rejections log: every message refused by validation is kept (bounded)
 * in the store with its errors and a preview, so an operator can see what Segment sent.
 */
import type { BridgeStore } from '../domain/bridge-schema.ts';

/** How many rejections are kept; the oldest go first. */
export const REJECTIONS_KEPT = 10_000;
const PREVIEW_CHARS = 2_000;
let sequence = 0;

export function recordRejection(options: {
  store: BridgeStore;
  rejection: { index: number; messageId: string | null; errors: Array<{ path: string; message: string }> };
  item: unknown;
  receivedAt: string;
  /** A tracking-plan violation accepted anyway. */
  flagged?: boolean;
}): void {
  const { store, rejection, item, receivedAt, flagged } = options;
  sequence = (sequence + 1) % 1_000_000;
  const key = `${receivedAt}#${String(sequence).padStart(6, '0')}`;
  store.put('rejections', key, { receivedAt, ...rejection, preview: preview(item), ...(flagged ? { flagged } : {}) });
  if (store.count('rejections') > REJECTIONS_KEPT) {
    const oldest = store.entries('rejections').next();
    if (!oldest.done) store.remove('rejections', oldest.value[0]);
  }
}

function preview(item: unknown): string {
  let text: string;
  try {
    text = JSON.stringify(item) ?? String(item);
  } catch {
    text = String(item);
  }
  return text.length > PREVIEW_CHARS ? `${text.slice(0, PREVIEW_CHARS)}…` : text;
}
