/**
 * The JSON Schema (draft-07, ajv 8) of `environments/<name>.json`, and the shape a file
 * has once it passed validation (`EnvironmentFile`, defaults filled in by ajv's
 * `useDefaults`). `additionalProperties: false` everywhere so a typo is an error instead
 * of a silently ignored setting. Defaults live here, in `default`, and nowhere else
 * (except the two that depend on the name: `dataDir` and `production`).
 *
 * The file also turns ajv's errors into messages a person can act on (unknown event ->
 * the catalog, unknown operator -> the allowed ones, a secret-looking key -> where secrets
 * go, a typo -> "did you mean"); that wording depends on the schema's structure, which is
 * why it lives here and the file is a little over 300 lines.
 */
import type { ErrorObject, ValidateFunction } from 'ajv';
import { createAjv } from '../domain/ajv.ts';
import { isJsonObject } from '../domain/json.ts';
import { FLOW_EVENT_NAMES } from '../domain/flow-events.ts';
import { isBridgeSecretVariable } from './secrets.ts';
import type { SegmentRegion, WhereValue } from './types.ts';
import type { TrackingPlanConfig } from '../domain/tracking-plan.ts';


/** Flow events the product may report (SPEC §3); the keys allowed in `events`. One catalog: the domain's. */
export const FLOW_EVENT_CATALOG = FLOW_EVENT_NAMES;

/** Operators a `where` object value may use (SPEC §5). */
export const WHERE_OPERATORS = ['$in', '$nin', '$ne', '$gt', '$gte', '$lt', '$lte', '$exists'] as const;

/** Environment names: lowercase, they become file names and `<ENV>` in variable names. */
export const ENV_NAME_PATTERN = '^[a-z][a-z0-9-]{0,30}$';

/** Variable names a webhook secret may be read from. */
export const ENV_VAR_PATTERN = '^[A-Z][A-Z0-9_]*$';

/** An absolute http(s) URL. `format: uri` alone would also accept `mailto:`. */
const httpUrl = { type: 'string', format: 'uri', pattern: '^https?://' } as const;

/** A `where` value: anything compared by equality, or an operator object. */
const whereValue = {
  if: { type: 'object' },
  then: {
    type: 'object',
    minProperties: 1,
    additionalProperties: false,
    properties: {
      $in: { type: 'array' },
      $nin: { type: 'array' },
      $ne: {},
      $gt: { type: ['number', 'string'] },
      $gte: { type: ['number', 'string'] },
      $lt: { type: ['number', 'string'] },
      $lte: { type: ['number', 'string'] },
      $exists: { type: 'boolean' },
    },
  },
} as const;

const whereMap = { type: 'object', additionalProperties: { $ref: '#/definitions/whereValue' } } as const;

const eventSetting = {
  type: 'object',
  additionalProperties: false,
  properties: {
    rename: { type: 'string', minLength: 1, maxLength: 200 },
    disabled: { type: 'boolean', default: false },
  },
} as const;

const trigger = {
  type: 'object',
  additionalProperties: false,
  required: ['id', 'event', 'flow'],
  properties: {
    id: { type: 'string', pattern: '^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$' },
    event: { type: 'string', minLength: 1, maxLength: 200 },
    source: { enum: ['segment', 'custom', 'any'], default: 'any' },
    where: {
      type: 'object',
      default: {},
      additionalProperties: false,
      properties: { properties: whereMap, traits: whereMap },
    },
    flow: {
      type: 'object',
      additionalProperties: false,
      required: ['id', 'url'],
      properties: {
        id: { type: 'string', minLength: 1, maxLength: 200 },
        // A template (`{userId}`, `{runId}`), so not a strict URI: braces are not allowed there.
        url: { type: 'string', pattern: '^https?://' },
      },
    },
    frequency: {
      type: 'object',
      additionalProperties: false,
      required: ['perUser'],
      properties: {
        perUser: {
          if: { type: 'string' },
          then: { const: 'once' },
          else: {
            type: 'object',
            additionalProperties: false,
            required: ['max', 'windowDays'],
            properties: {
              max: { type: 'integer', minimum: 1 },
              windowDays: { type: 'number', exclusiveMinimum: 0 },
            },
          },
        },
      },
    },
    webhook: {
      type: 'object',
      additionalProperties: false,
      required: ['url', 'secretEnv'],
      properties: { url: httpUrl, secretEnv: { type: 'string', pattern: ENV_VAR_PATTERN } },
    },
  },
} as const;

/** The schema every environment file is validated against on every load. */
export const environmentSchema = {
  $schema: 'http://json-schema.org/draft-07/schema#',
  $id: 'https://segment-bridge.local/environment.schema.json',
  title: 'segment-bridge environment',
  type: 'object',
  additionalProperties: false,
  required: ['name', 'port', 'publicUrl'],
  definitions: { whereValue },
  properties: {
    name: { type: 'string', pattern: ENV_NAME_PATTERN },
    port: { type: 'integer', minimum: 0, maximum: 65535 },
    host: { type: 'string', minLength: 1, default: '127.0.0.1' },
    dataDir: { type: 'string', minLength: 1 },
    publicUrl: httpUrl,
    segment: {
      type: 'object',
      default: {},
      additionalProperties: false,
      properties: {
        region: { enum: ['us', 'eu'], default: 'us' },
        host: httpUrl,
        flushAt: { type: 'integer', minimum: 1, default: 15 },
        flushIntervalMs: { type: 'integer', minimum: 1, default: 1000 },
      },
    },
    events: {
      type: 'object',
      default: {},
      additionalProperties: false,
      properties: Object.fromEntries(FLOW_EVENT_CATALOG.map((name) => [name, eventSetting])),
    },
    triggers: { type: 'array', default: [], items: trigger },
    dedupeWindowDays: { type: 'number', exclusiveMinimum: 0, default: 7 },
    bodyLimitBytes: { type: 'integer', minimum: 1, default: 524288 },
    historyLimit: { type: 'integer', minimum: 0, default: 50 },
    production: { type: 'boolean' },
    trackingPlan: {
      type: 'object',
      additionalProperties: false,
      required: ['track'],
      properties: {
        violations: { enum: ['reject', 'flag'], default: 'reject' },
        unplannedEvents: { enum: ['allow', 'reject'], default: 'allow' },
        track: { type: 'object', additionalProperties: { type: 'object' } },
        identify: { type: 'object' },
      },
    },
  },
} as const;

/** A trigger as written in the file, after validation and defaults. */
export interface TriggerFileEntry {
  id: string;
  event: string;
  source: 'segment' | 'custom' | 'any';
  where: { properties?: Record<string, WhereValue>; traits?: Record<string, WhereValue> };
  flow: { id: string; url: string };
  frequency?: { perUser: 'once' | { max: number; windowDays: number } };
  webhook?: { url: string; secretEnv: string };
}

/** An environment file after validation, with ajv's defaults applied. */
export interface EnvironmentFile {
  name: string;
  port: number;
  host: string;
  dataDir?: string;
  publicUrl: string;
  segment: { region: SegmentRegion; host?: string; flushAt: number; flushIntervalMs: number };
  events: Record<string, { rename?: string; disabled: boolean }>;
  triggers: TriggerFileEntry[];
  dedupeWindowDays: number;
  bodyLimitBytes: number;
  historyLimit: number;
  production?: boolean;
  trackingPlan?: TrackingPlanConfig;
}

// --- validation ---------------------------------------------------------------------

/** One problem in an environment file, located by JSON pointer (RFC 6901). */
export interface SchemaProblem {
  pointer: string;
  message: string;
}

let compiled: ValidateFunction | undefined;

function getValidator(): ValidateFunction {
  if (compiled === undefined) {
    // strict: a mistake in the schema itself throws here (and in the tests), never a log line.
    const ajv = createAjv({ allErrors: true, strict: true, allowUnionTypes: true, useDefaults: true, verbose: true, formatNames: ['uri'] });
    compiled = ajv.compile(environmentSchema);
  }
  return compiled;
}

/**
 * Validates parsed JSON against the schema (filling in defaults, so `data` is mutated),
 * then checks what a schema cannot say: unique trigger ids, `name` equal to the file's
 * environment name, no bridge secret reused as a webhook secret. Returns every problem.
 */
export function validateEnvironmentData(data: unknown, options: { expectedName: string | undefined }): SchemaProblem[] {
  const validate = getValidator();
  validate(data);
  const problems = (validate.errors ?? []).flatMap((error) => describeError(error));
  if (!isJsonObject(data)) return problems;

  const { expectedName } = options;
  const name = data['name'];
  if (expectedName !== undefined && typeof name === 'string' && name !== expectedName) {
    problems.push({ pointer: '/name', message: `is "${name}" but must be "${expectedName}", the file's environment name (or load the file with --config)` });
  }
  const triggers = data['triggers'];
  const firstIndexById = new Map<string, number>();
  (Array.isArray(triggers) ? triggers : []).forEach((trigger, index) => {
    if (!isJsonObject(trigger)) return;
    const id = trigger['id'];
    if (typeof id === 'string') {
      const first = firstIndexById.get(id);
      if (first === undefined) firstIndexById.set(id, index);
      else problems.push({ pointer: `/triggers/${index}/id`, message: `duplicate trigger id "${id}" (first used at /triggers/${first}/id)` });
    }
    const webhook = trigger['webhook'];
    const secretEnv = isJsonObject(webhook) ? webhook['secretEnv'] : undefined;
    if (typeof secretEnv === 'string' && isBridgeSecretVariable(secretEnv)) {
      problems.push({ pointer: `/triggers/${index}/webhook/secretEnv`, message: `must name a dedicated variable, not the bridge's own secret ${secretEnv}` });
    }
  });
  return problems;
}

/** RFC 6901 escaping of one reference token. */
function escapeToken(token: string): string {
  return token.replace(/~/g, '~0').replace(/\//g, '~1');
}

const SECRET_LIKE = /secret|write_?key|api_?key|password|token|credential/i;
const OPERATOR_PARENT = /^\/triggers\/\d+\/where\/(properties|traits)\/[^/]+$/;

function describeError(error: ErrorObject): SchemaProblem[] {
  const at = error.instancePath;
  const params = error.params as Record<string, unknown>;
  switch (error.keyword) {
    case 'if':
      return []; // the failing `then` / `else` branch has its own, more precise, error
    case 'required':
      return [{ pointer: `${at}/${escapeToken(String(params['missingProperty']))}`, message: 'is required' }];
    case 'additionalProperties': {
      const key = String(params['additionalProperty']);
      const known = Object.keys((error.parentSchema?.['properties'] ?? {}) as object);
      return [{ pointer: `${at}/${escapeToken(key)}`, message: describeUnknownKey({ at, key, known }) }];
    }
    case 'enum':
      return [{ pointer: at, message: `must be one of ${(params['allowedValues'] as unknown[]).map((v) => JSON.stringify(v)).join(', ')}` }];
    case 'const':
    case 'type':
      if (at.endsWith('/frequency/perUser')) {
        return [{ pointer: at, message: 'must be "once" or { "max": <integer >= 1>, "windowDays": <number > 0> }' }];
      }
      return [{ pointer: at, message: error.message ?? 'is invalid' }];
    case 'pattern':
      return [{ pointer: at, message: describePattern(at, String(params['pattern'])) }];
    case 'minProperties':
      if (OPERATOR_PARENT.test(at)) return [{ pointer: at, message: `an operator object needs at least one of ${WHERE_OPERATORS.join(' ')}` }];
      return [{ pointer: at, message: error.message ?? 'is invalid' }];
    default:
      return [{ pointer: at, message: error.message ?? 'is invalid' }];
  }
}

function describeUnknownKey(options: { at: string; key: string; known: string[] }): string {
  const { at, key, known } = options;
  if (SECRET_LIKE.test(key) && key !== 'secretEnv') {
    const where = at.endsWith('/webhook')
      ? 'name the variable that holds it in "secretEnv"'
      : 'set SEGMENT_WRITE_KEY_<ENV>, SEGMENT_SHARED_SECRET_<ENV> or BRIDGE_API_KEY_<ENV> there (.env works)';
    return `"${key}" looks like a secret: secrets belong in the process environment, never in environment files; ${where}`;
  }
  if (at === '/events') return `unknown event "${key}"; the catalog is: ${FLOW_EVENT_CATALOG.join(', ')}`;
  if (OPERATOR_PARENT.test(at)) {
    return `unknown operator "${key}": an object value is an operator object using only ${WHERE_OPERATORS.join(' ')}`;
  }
  const suggestion = known.find((candidate) => isNearMiss(key, candidate));
  return `unknown setting "${key}"${suggestion === undefined ? '' : ` (did you mean "${suggestion}"?)`}`;
}

function describePattern(at: string, pattern: string): string {
  if (at === '/name') return 'must be lowercase letters, digits and "-", starting with a letter (at most 31 characters)';
  if (pattern === ENV_VAR_PATTERN) return 'must be an environment variable name (A-Z, 0-9, _), e.g. ONBOARDING_WEBHOOK_SECRET';
  if (pattern === '^https?://') return 'must be an http:// or https:// URL';
  return `must match ${pattern}`;
}

/** Same letters ignoring case, or at most two edits apart: probably a typo. */
function isNearMiss(a: string, b: string): boolean {
  if (a.toLowerCase() === b.toLowerCase()) return true;
  if (Math.abs(a.length - b.length) > 2) return false;
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      current[j] = Math.min((previous[j] ?? 0) + 1, (current[j - 1] ?? 0) + 1, (previous[j - 1] ?? 0) + cost);
    }
    previous = current;
  }
  return (previous[b.length] ?? Infinity) <= 2;
}
