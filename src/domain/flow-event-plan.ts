/**
 * Outbound flow events against the environment's tracking plan, under the name they will
 * have in Segment (after a rename). Violations in `reject` mode are the product's 400;
 * in `flag` mode the events go out and the violations are reported.
 */
import type { EventSetting } from '../config/types.ts';
import { resolveOutboundName, type FlowEventInput } from './flow-events.ts';
import { compileTrackingPlan, type PlanViolation, type TrackingPlanConfig } from './tracking-plan.ts';

export function flowEventPlanViolations(options: {
  plan: TrackingPlanConfig | undefined;
  events: readonly FlowEventInput[];
  settings: Readonly<Record<string, EventSetting>>;
  /** True when the body was an array (paths get an index). */
  isArray: boolean;
}): { action: 'reject' | 'flag'; violations: PlanViolation[] } | undefined {
  const { plan, events, settings, isArray } = options;
  if (!plan) return undefined;
  const compiled = compileTrackingPlan(plan);
  const violations: PlanViolation[] = [];
  events.forEach((event, index) => {
    const name = resolveOutboundName(event.event, settings);
    if (name.disabled) return;
    const verdict = compiled.checkTrack(name.sentAs, event.properties);
    if (verdict.ok) return;
    const prefix = isArray ? `/${index}` : '';
    violations.push(...verdict.violations.map((violation) => ({ path: `${prefix}${violation.path}`, message: violation.message })));
  });
  return violations.length === 0 ? undefined : { action: plan.violations, violations };
}
