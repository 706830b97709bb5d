/** A trigger matched an event for a user: the product should start `flowId` for `userId`. */
export interface TriggerRun {
  id: string;
  triggerId: string;
  userId: string;
  /** The messageId of the event that fired it. */
  sourceMessageId: string;
  source: 'segment' | 'custom';
  event: string;
  flowId: string;
  /** Invite URL built from the trigger's `flow.url` template. */
  inviteUrl: string;
  createdAt: string;
  /** Set when the trigger has a webhook. */
  deliveryId?: string;
}

/** A signed webhook on its way to a customer endpoint (Standard Webhooks). The id is kept across retries. */
export interface WebhookDelivery {
  id: string;
  runId: string;
  triggerId: string;
  userId: string;
  url: string;
  /** Name of the process env variable holding the signing secret (never the secret itself). */
  secretEnv: string;
  /** Exact body that is signed and sent. */
  body: string;
  status: 'pending' | 'delivered' | 'failed';
  attempts: number;
  nextAttemptAtMs: number;
  createdAt: string;
  lastError?: string;
  lastStatus?: number;
  deliveredAt?: string;
  failedAt?: string;
}

/**
 * Per-user index of trigger runs (collection `runIndex`, keyed by the canonical userId), so
 * frequency checks and per-user listings never scan `runs`. Entries whose run was erased are
 * ignored by readers; erasing a user removes the whole entry.
 */
export interface UserRunIndex {
  userId: string;
  /** Oldest first. `atMs`: when the run was created (epoch ms). */
  runs: Array<{ id: string; triggerId: string; atMs: number }>;
}
