/**
 * A small HTTP client for a running instance. CLI commands that read or change a live
 * environment go through its HTTP API, never through the store: only one process may own
 * an environment's store (the instance).
 */
import { secretVariableNames } from '../config/secrets.ts';
import { signLikeSegment } from './replay-sign.ts';

export type FetchFn = typeof fetch;

/** Nothing answers at the URL (connection refused, DNS, reset): exit 1 with a hint. */
export class InstanceUnreachableError extends Error {
  override name = 'InstanceUnreachableError';
  readonly url: string;
  constructor(options: { url: string; environment: string; cause?: unknown }) {
    super(`no instance answers at ${options.url}: start it with \`npm run bridge -- serve --env ${options.environment}\``, { cause: options.cause });
    this.url = options.url;
  }
}

/** The instance answered with an error status. The message is the instance's (never a secret). */
export class ApiResponseError extends Error {
  override name = 'ApiResponseError';
  readonly status: number;
  readonly code: string | undefined;
  constructor(options: { status: number; code: string | undefined; message: string }) {
    super(options.message);
    this.status = options.status;
    this.code = options.code;
  }
}

export interface ApiResult {
  status: number;
  /** Parsed JSON body; `undefined` when the body is empty or not JSON. */
  json: unknown;
}

export interface ApiClientOptions {
  /** Base URL of the instance, e.g. `http://127.0.0.1:4100` (no trailing slash needed). */
  baseUrl: string;
  /** BRIDGE_API_KEY_<ENV>, sent as `Authorization: Bearer`; none for an open staging API. */
  apiKey: string | undefined;
  /** Environment name, for the "start it with" hint. */
  environment: string;
  /** Per-request timeout. Default 10 000 ms. */
  timeoutMs?: number;
  fetch?: FetchFn;
}

export interface RequestOptions {
  method?: 'GET' | 'POST';
  path: string;
  /** Sent as JSON unless `rawBody` is given. */
  body?: unknown;
  /** Exact bytes to send (signed requests); `headers` must then carry the content type. */
  rawBody?: string;
  headers?: Record<string, string>;
  /** Send the API key. Default true. */
  auth?: boolean;
}

export class ApiClient {
  readonly baseUrl: string;
  readonly #apiKey: string | undefined;
  readonly #environment: string;
  readonly #timeoutMs: number;
  readonly #fetch: FetchFn;

  constructor(options: ApiClientOptions) {
    this.baseUrl = options.baseUrl.replace(/\/+$/, '');
    this.#apiKey = options.apiKey;
    this.#environment = options.environment;
    this.#timeoutMs = options.timeoutMs ?? 10_000;
    this.#fetch = options.fetch ?? fetch;
  }

  /** Any status is returned; only a network failure throws (InstanceUnreachableError). */
  async request(options: RequestOptions): Promise<ApiResult> {
    const headers: Record<string, string> = { accept: 'application/json', ...options.headers };
    let body: string | undefined = options.rawBody;
    if (body === undefined && options.body !== undefined) {
      body = JSON.stringify(options.body);
      headers['content-type'] = 'application/json';
    }
    if (options.auth !== false && this.#apiKey !== undefined) headers['authorization'] = `Bearer ${this.#apiKey}`;
    const url = `${this.baseUrl}${options.path}`;
    let response: Response;
    try {
      response = await this.#fetch(url, {
        method: options.method ?? (body === undefined ? 'GET' : 'POST'),
        headers,
        body,
        signal: AbortSignal.timeout(this.#timeoutMs),
      });
    } catch (error) {
      if (error instanceof Error && error.name === 'TimeoutError') {
        throw new Error(`the instance at ${this.baseUrl} did not answer within ${this.#timeoutMs} ms`, { cause: error });
      }
      throw new InstanceUnreachableError({ url: this.baseUrl, environment: this.#environment, cause: error });
    }
    const text = await response.text();
    let json: unknown;
    try {
      json = text === '' ? undefined : (JSON.parse(text) as unknown);
    } catch {
      json = undefined;
    }
    return { status: response.status, json };
  }

  /**
   * POSTs a payload to /v1/segment signed as Segment signs it (see replay-sign.ts), with
   * the exact bytes that were signed. No API key: /v1/segment authenticates Segment.
   */
  postSegment(options: { payload: unknown; sharedSecret: string | undefined }): Promise<ApiResult> {
    const signed = signLikeSegment({ payload: options.payload, secret: options.sharedSecret });
    return this.request({ method: 'POST', path: '/v1/segment', rawBody: signed.body, headers: signed.headers, auth: false });
  }

  /** Like `request`, but a non-2xx answer throws ApiResponseError with the instance's message. */
  async requestOk(options: RequestOptions): Promise<unknown> {
    const result = await this.request(options);
    if (result.status >= 200 && result.status < 300) return result.json;
    throw responseError(result, this.#environment);
  }
}

/** An ApiResponseError for a non-2xx result, with hints for the common cases. */
export function responseError(result: ApiResult, environment: string): ApiResponseError {
  const body = isRecord(result.json) ? result.json : {};
  const code = typeof body['error'] === 'string' ? body['error'] : undefined;
  const given = typeof body['message'] === 'string' ? body['message'] : `HTTP ${result.status}`;
  const hint = result.status === 401
    ? ` (check ${secretVariableNames(environment).apiKey}: the instance refused it)`
    : '';
  return new ApiResponseError({ status: result.status, code, message: `the instance answered ${result.status}: ${given}${hint}` });
}

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
