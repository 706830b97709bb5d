/**
 * The typed, frozen configuration of one environment, built once at start-up from
 * `environments/<name>.json` (validated by src/config/environment-schema.ts), CLI flags
 * and the process environment (secrets). Deep code receives it; nothing reads
 * `process.env` after start-up.
 */
import type { JsonValue } from '../domain/json.ts';
import type { TrackingPlanConfig } from '../domain/tracking-plan.ts';

export type SegmentRegion = 'us' | 'eu';

export interface EventSetting {
  /** Name sent to Segment instead of the catalog name. */
  rename?: string;
  /** Accepted from the product but not sent. Default false. */
  disabled?: boolean;
}

export type WhereValue = JsonValue;

export interface TriggerConfig {
  id: string;
  event: string;
  /** Which events may fire it. Default `any`. */
  source: 'segment' | 'custom' | 'any';
  where: { properties?: Record<string, WhereValue>; traits?: Record<string, WhereValue> };
  flow: { id: string; url: string };
  frequency: { perUser: 'once' | { max: number; windowDays: number } } | undefined;
  webhook: { url: string; secretEnv: string } | undefined;
}

export interface EnvSecrets {
  /** SEGMENT_WRITE_KEY_<ENV>: the dedicated HTTP API source's write key. */
  writeKey: string | undefined;
  /** SEGMENT_SHARED_SECRET_<ENV>: signs/authenticates Segment's webhook calls. */
  sharedSecret: string | undefined;
  /** BRIDGE_API_KEY_<ENV>: the product's bearer token. */
  apiKey: string | undefined;
  /** Webhook signing secrets by variable name (each trigger's `webhook.secretEnv`). */
  webhookSecrets: Record<string, string>;
}

export interface EnvConfig {
  name: string;
  /** Where the settings came from (file path). */
  source: string;
  host: string;
  port: number;
  /** Absolute path of the environment's store directory. Default `data/<name>`. */
  dataDir: string;
  /** Base URL Segment calls (`<publicUrl>/v1/segment`). */
  publicUrl: string;
  segment: {
    region: SegmentRegion;
    /** Resolved host: `segment.host` if set, else the region's host. No `/v1`. */
    host: string;
    /** Per-event flush settings for analytics-node. */
    flushAt: number;
    flushIntervalMs: number;
  };
  events: Record<string, EventSetting>;
  triggers: TriggerConfig[];
  dedupeWindowDays: number;
  /** Largest accepted request body in bytes. Default 512 KB. */
  bodyLimitBytes: number;
  /** Recent events kept per profile. Default 50. */
  historyLimit: number;
  /** Optional tracking plan checked on inbound Segment messages and outbound flow events. */
  trackingPlan?: TrackingPlanConfig | undefined;
  /** Whether this environment is production (strict secrets, staging-first bootstrap). */
  isProduction: boolean;
  secrets: EnvSecrets;
}

export const REGION_HOSTS: Record<SegmentRegion, string> = {
  us: 'https://api.segment.io',
  eu: 'https://events.eu1.segmentapis.com',
};
