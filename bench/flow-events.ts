/**
 * The flow events of the delivery benchmark, shared by the bridge side (POSTed to
 * /v1/flow-events) and the analytics-node-alone side (tracked directly), so both send the
 * same events: same names, users, properties and messageIds shape.
 */
import { benchUserId } from './messages.ts';

export interface BenchFlowEvent {
  event: 'Flow Step Completed';
  userId: string;
  messageId: string;
  timestamp: string;
  properties: { flow_id: string; step_id: string; step_index: number; locale: string };
}

/** Event number `index` of a run (`runTag` keeps messageIds unique across runs). */
export function benchFlowEvent(options: { index: number; users: number; runTag: string }): BenchFlowEvent {
  const { index, users, runTag } = options;
  return {
    event: 'Flow Step Completed',
    userId: benchUserId(index % users),
    messageId: `flow-${runTag}-${index}`,
    timestamp: new Date().toISOString(),
    properties: { flow_id: `onboarding-${index % 7}`, step_id: `step-${index % 5}`, step_index: index % 5, locale: 'en-US' },
  };
}
