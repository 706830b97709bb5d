/**
 * Tracking plans, in the spirit of Segment Protocols: a JSON Schema (draft-07) per track
 * event for its `properties`, and one for identify `traits`. The same plan checks what
 * Segment sends us and what the product sends to Segment through us, so a plan written for
 * a workspace can be enforced at the bridge.
 *
 * - `violations: "reject"` (default): a violating message is rejected like any invalid
 *   message (alone in a batch, 400 when sent alone); `"flag"`: accepted, and the violation
 *   is reported (rejections log entry marked `flagged`, metrics).
 * - `unplannedEvents: "allow"` (default) or `"reject"`: a track event the plan does not name.
 *
 * Validators are compiled once per plan object (memoized) with ajv.
 */
import type { ErrorObject, ValidateFunction } from 'ajv';
import { createAjv } from './ajv.ts';
import type { JsonObject } from './json.ts';

export interface TrackingPlanConfig {
  /** What happens to a message that violates the plan. Default `reject`. */
  violations: 'reject' | 'flag';
  /** Track events not named in `track`. Default `allow`. */
  unplannedEvents: 'allow' | 'reject';
  /** Event name -> JSON Schema of its `properties`. */
  track: Record<string, JsonObject>;
  /** JSON Schema of identify `traits`. */
  identify?: JsonObject | undefined;
}

export interface PlanViolation {
  path: string;
  message: string;
}

export type PlanVerdict = { ok: true } | { ok: false; action: 'reject' | 'flag'; violations: PlanViolation[] };

export interface CompiledTrackingPlan {
  checkTrack(event: string, properties: JsonObject): PlanVerdict;
  checkIdentify(traits: JsonObject): PlanVerdict;
}

const compiled = new WeakMap<TrackingPlanConfig, CompiledTrackingPlan>();

/** Compiles (once per plan object) and returns the plan's checks. Throws on an invalid schema. */
export function compileTrackingPlan(plan: TrackingPlanConfig): CompiledTrackingPlan {
  const cached = compiled.get(plan);
  if (cached) return cached;
  const ajv = createAjv({ allErrors: true, strict: false });
  const trackValidators = new Map<string, ValidateFunction>();
  for (const [event, schema] of Object.entries(plan.track)) trackValidators.set(event, ajv.compile(schema));
  const identifyValidator = plan.identify ? ajv.compile(plan.identify) : undefined;
  const result: CompiledTrackingPlan = {
    checkTrack(event, properties) {
      const validate = trackValidators.get(event);
      if (!validate) {
        return plan.unplannedEvents === 'reject'
          ? { ok: false, action: plan.violations, violations: [{ path: '/event', message: `"${event}" is not in the tracking plan` }] }
          : { ok: true };
      }
      return verdict({ validate, value: properties, prefix: '/properties', action: plan.violations });
    },
    checkIdentify(traits) {
      return identifyValidator ? verdict({ validate: identifyValidator, value: traits, prefix: '/traits', action: plan.violations }) : { ok: true };
    },
  };
  compiled.set(plan, result);
  return result;
}

/** Schema problems of a plan, located by JSON pointer inside the plan (for config loading). */
export function trackingPlanProblems(plan: TrackingPlanConfig): PlanViolation[] {
  const ajv = createAjv({ allErrors: true, strict: false });
  const problems: PlanViolation[] = [];
  const schemas: Array<[string, JsonObject]> = [
    ...Object.entries(plan.track).map(([event, schema]): [string, JsonObject] => [`/track/${escapePointer(event)}`, schema]),
    ...(plan.identify ? [['/identify', plan.identify] as [string, JsonObject]] : []),
  ];
  for (const [pointer, schema] of schemas) {
    try {
      ajv.compile(schema);
    } catch (error) {
      problems.push({ path: pointer, message: `is not a valid JSON Schema: ${(error as Error).message}` });
    }
  }
  return problems;
}

function verdict(options: { validate: ValidateFunction; value: JsonObject; prefix: string; action: 'reject' | 'flag' }): PlanVerdict {
  const { validate, value, prefix, action } = options;
  if (validate(value)) return { ok: true };
  return { ok: false, action, violations: (validate.errors ?? []).map((error) => toViolation(error, prefix)) };
}

function toViolation(error: ErrorObject, prefix: string): PlanViolation {
  const missing = error.keyword === 'required' ? `/${escapePointer(String(error.params['missingProperty']))}` : '';
  const path = `${prefix}${error.instancePath}${missing}`;
  const message = error.keyword === 'required' ? 'is required by the tracking plan' : `${error.message ?? 'is invalid'} (tracking plan)`;
  return { path, message };
}

function escapePointer(segment: string): string {
  return segment.replaceAll('~', '~0').replaceAll('/', '~1');
}
