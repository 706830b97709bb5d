/**
 * Prometheus metrics (prom-client) for one instance, on its own registry so several instances
 * in one process (tests) never mix. Counters follow the event map (src/events.ts); gauges are
 * read from the workers at scrape time.
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { BridgeEmitter } from '../events.ts';

export interface GaugeSources {
  outbox(): { pending: number; dead: number; oldestPendingAgeSec: number | undefined };
  deliveries(): { pending: number; failed: number };
}

export interface BridgeMetrics {
  registry: Registry;
  observeRequest(labels: { method: string; route: string; status: number; durationMs: number }): void;
}

export function createMetrics(options: { emitter: BridgeEmitter; environment: string; gauges: GaugeSources; defaultMetrics?: boolean }): BridgeMetrics {
  const { emitter, gauges } = options;
  const registry = new Registry();
  registry.setDefaultLabels({ environment: options.environment });
  if (options.defaultMetrics ?? true) collectDefaultMetrics({ register: registry, prefix: 'segment_bridge_' });

  const requests = new Counter({ name: 'segment_bridge_http_requests_total', help: 'HTTP requests by route and status', labelNames: ['method', 'route', 'status'], registers: [registry] });
  const latency = new Histogram({
    name: 'segment_bridge_http_request_duration_seconds',
    help: 'HTTP request latency by route',
    labelNames: ['method', 'route'],
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
    registers: [registry],
  });
  const messages = new Counter({ name: 'segment_bridge_inbound_messages_total', help: 'Segment messages by outcome', labelNames: ['outcome'], registers: [registry] });
  const accepted = new Counter({ name: 'segment_bridge_inbound_accepted_total', help: 'Accepted Segment messages by call type', labelNames: ['type'], registers: [registry] });
  const ingestLatency = new Histogram({ name: 'segment_bridge_inbound_commit_seconds', help: 'Time from receipt to durable commit of a webhook body', buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1], registers: [registry] });
  const runs = new Counter({ name: 'segment_bridge_trigger_runs_total', help: 'Trigger runs fired', labelNames: ['trigger', 'source'], registers: [registry] });
  const outboxDeliveries = new Counter({ name: 'segment_bridge_outbox_deliveries_total', help: 'Flow event delivery attempts to Segment by result', labelNames: ['result'], registers: [registry] });
  const webhookAttempts = new Counter({ name: 'segment_bridge_webhook_attempts_total', help: 'Trigger webhook attempts by result', labelNames: ['result'], registers: [registry] });
  const planViolations = new Counter({ name: 'segment_bridge_tracking_plan_violations_total', help: 'Messages accepted despite tracking-plan violations (violations: flag)', labelNames: ['source'], registers: [registry] });
  const storeErrors = new Counter({ name: 'segment_bridge_store_errors_total', help: 'Failed store commits', registers: [registry] });

  new Gauge({ name: 'segment_bridge_outbox_depth', help: 'Flow events waiting for Segment', labelNames: ['status'], registers: [registry], collect() {
    const stats = gauges.outbox();
    this.set({ status: 'pending' }, stats.pending);
    this.set({ status: 'dead' }, stats.dead);
  } });
  new Gauge({ name: 'segment_bridge_outbox_oldest_pending_age_seconds', help: 'Age of the oldest undelivered flow event', registers: [registry], collect() {
    this.set(gauges.outbox().oldestPendingAgeSec ?? 0);
  } });
  new Gauge({ name: 'segment_bridge_webhook_queue_depth', help: 'Trigger webhooks not yet delivered', labelNames: ['status'], registers: [registry], collect() {
    const stats = gauges.deliveries();
    this.set({ status: 'pending' }, stats.pending);
    this.set({ status: 'failed' }, stats.failed);
  } });

  // Label children are resolved once, not hashed from a labels object on every request
  // (this listener and observeRequest run per webhook; prom-client's lookups showed in profiles).
  const byOutcome = {
    accepted: messages.labels({ outcome: 'accepted' }),
    duplicate: messages.labels({ outcome: 'duplicate' }),
    ignored: messages.labels({ outcome: 'ignored' }),
    rejected: messages.labels({ outcome: 'rejected' }),
  };
  const acceptedBy = keyedChildCache<ReturnType<typeof accepted.labels>>();
  emitter.on('inbound_processed', (event) => {
    if (event.accepted > 0) byOutcome.accepted.inc(event.accepted);
    if (event.duplicates > 0) byOutcome.duplicate.inc(event.duplicates);
    if (event.ignored > 0) byOutcome.ignored.inc(event.ignored);
    if (event.rejected > 0) byOutcome.rejected.inc(event.rejected);
    for (const type in event.byType) {
      const count = event.byType[type];
      if (count !== undefined && count > 0) acceptedBy(type, () => accepted.labels({ type })).inc(count);
    }
    ingestLatency.observe(event.durationMs / 1000);
  });
  emitter.on('trigger_fired', (event) => runs.inc({ trigger: event.triggerId, source: event.source }));
  emitter.on('outbox_delivery', (event) => outboxDeliveries.inc({ result: event.result }));
  emitter.on('webhook_attempt', (event) => webhookAttempts.inc({ result: event.result }));
  emitter.on('store_error', () => storeErrors.inc());
  emitter.on('tracking_plan_violation', (event) => planViolations.inc({ source: event.source }));

  const requestsBy = keyedChildCache<ReturnType<typeof requests.labels>>();
  const latencyBy = keyedChildCache<ReturnType<typeof latency.labels>>();
  return {
    registry,
    observeRequest({ method, route, status, durationMs }) {
      requestsBy(`${method} ${route} ${status}`, () => requests.labels({ method, route, status: String(status) })).inc();
      latencyBy(`${method} ${route}`, () => latency.labels({ method, route })).observe(durationMs / 1000);
    },
  };
}

/** Most label combinations a cache keeps; past it (a client inventing methods) lookups go to prom-client. */
const MAX_CACHED_CHILDREN = 1_000;

/** Caches prom-client label children by a key built from their label values. */
function keyedChildCache<C>(): (key: string, make: () => C) => C {
  const children = new Map<string, C>();
  return (key, make) => {
    let child = children.get(key);
    if (child === undefined) {
      child = make();
      if (children.size < MAX_CACHED_CHILDREN) children.set(key, child);
    }
    return child;
  };
}
