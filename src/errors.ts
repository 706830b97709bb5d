/**
 * The few error classes of the project. Each carries a stable `code`, an HTTP `status`
 * and `expose` (whether the message may be shown to the caller). One Koa middleware
 * (src/http/middleware/errors.ts) maps them to `{error, message, details}` bodies;
 * anything else becomes a generic 500. Messages never contain secrets.
 */
export interface ErrorDetail {
  /** Where the problem is: a JSON pointer (`/properties/flow_id`), `[3]/userId`, a file, a header. */
  path: string;
  message: string;
}

export class AppError extends Error {
  override name = 'AppError';
  readonly code: string;
  readonly status: number;
  readonly expose: boolean;
  readonly details: ErrorDetail[];
  constructor(options: { code: string; status: number; message: string; details?: ErrorDetail[]; expose?: boolean; cause?: unknown }) {
    super(options.message, { cause: options.cause });
    this.code = options.code;
    this.status = options.status;
    this.expose = options.expose ?? options.status < 500;
    this.details = options.details ?? [];
  }
}

/** 400: the input is not what the contract says. */
export class ValidationError extends AppError {
  override name = 'ValidationError';
  constructor(message: string, details: ErrorDetail[] = [], code = 'invalid_request') {
    super({ code, status: 400, message, details });
  }
}

/** 401: missing or wrong credentials. The reason is short and never echoes the secret. */
export class AuthError extends AppError {
  override name = 'AuthError';
  constructor(message: string, code = 'unauthorized') {
    super({ code, status: 401, message });
  }
}

/** 404 */
export class NotFoundError extends AppError {
  override name = 'NotFoundError';
  constructor(message: string) {
    super({ code: 'not_found', status: 404, message });
  }
}

/** 503: the store cannot be written; the caller (Segment) retries. Nothing was half-applied. */
export class StoreUnavailableError extends AppError {
  override name = 'StoreUnavailableError';
  constructor(message = 'the store cannot be written right now; retry later', cause?: unknown) {
    super({ code: 'store_unavailable', status: 503, message, expose: true, cause });
  }
}

/** Config problems: stop start-up with exit code 2 and every problem listed. */
export class ConfigError extends Error {
  override name = 'ConfigError';
  readonly problems: ErrorDetail[];
  constructor(message: string, problems: ErrorDetail[] = []) {
    super(message);
    this.problems = problems;
  }
}

/** Normalizes anything thrown into an Error. */
export function toError(value: unknown): Error {
  return value instanceof Error ? value : new Error(typeof value === 'string' ? value : JSON.stringify(value));
}
