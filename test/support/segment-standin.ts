/**
 * A stand-in for Segment's HTTP Tracking API (SEGMENT-FACTS §3), on a real `node:http`
 * server at 127.0.0.1 with a free port. Point analytics-node (or the bridge's
 * `segment.host`) at `standin.url`.
 *
 * What it does, like Segment:
 * - `POST /v1/batch` (`{"batch": [...], "writeKey"?}`) and the single forms
 *   `/v1/track`, `/v1/identify`, `/v1/page`, `/v1/screen`, `/v1/group`, `/v1/alias`;
 * - authenticates with `Authorization: Basic base64(writeKey:)` or a body `writeKey`
 *   against the accepted write keys, else `401`;
 * - refuses a batch request over 500 KB, a single-form request or any event over 32 KB,
 *   and invalid JSON, with `400`;
 * - answers `200 {"success":true}` and records every event it accepted (duplicates too:
 *   Segment dedupes later, on messageId).
 *
 * Faults to program, applied before any check, in this order:
 * - `setDown(true)`: every connection is destroyed without an answer (a network error);
 * - `hangNext(n)`: the next n requests never get an answer (the client times out);
 * - `failNext(n, status, headers)`: the next n requests get `status` (e.g. 500, or 429
 *   with `{ 'Retry-After': '7' }`).
 *
 * @example
 * const segment = await SegmentStandin.start({ writeKeys: ['wk_test'] });
 * // new SegmentEventSink({ writeKey: 'wk_test', host: segment.url })
 * await segment.waitFor(3, 2000);
 * await segment.close();
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export type StandinMessage = Record<string, unknown> & { messageId?: string; type?: string };

/** Every request the stand-in saw, including refused ones. */
export interface StandinRequest {
  path: string;
  /** What it answered; `undefined` when it hung up or never answered. */
  status: number | undefined;
  /** The write key the request authenticated with (Basic auth first, then body), if any. */
  writeKey: string | undefined;
  authorization: string | undefined;
  userAgent: string | undefined;
  /** messageIds in the body (whether accepted or not). */
  messageIds: string[];
}

export interface SegmentStandinOptions {
  /** Write keys that authenticate. Default `['standin-write-key']`. */
  writeKeys?: string[];
  /** Default 500 KB, Segment's limit for `/v1/batch`. */
  maxBatchBytes?: number;
  /** Default 32 KB, Segment's limit per event and per single-form request. */
  maxEventBytes?: number;
}

const SINGLE_FORMS = new Set(['track', 'identify', 'page', 'screen', 'group', 'alias']);

export class SegmentStandin {
  /** Base URL without `/v1`, e.g. `http://127.0.0.1:54321`: analytics-node's `host`. */
  readonly url: string;
  readonly #server: Server;
  #writeKeys: Set<string>;
  readonly #maxBatchBytes: number;
  readonly #maxEventBytes: number;
  readonly #events: StandinMessage[] = [];
  readonly #requests: StandinRequest[] = [];
  readonly #waiters = new Set<() => void>();
  readonly #hanging = new Set<ServerResponse>();
  #failures: Array<{ status: number; headers: Record<string, string> }> = [];
  #hangCount = 0;
  #down = false;

  private constructor(options: { server: Server; url: string; standin: SegmentStandinOptions }) {
    this.#server = options.server;
    this.url = options.url;
    this.#writeKeys = new Set(options.standin.writeKeys ?? ['standin-write-key']);
    this.#maxBatchBytes = options.standin.maxBatchBytes ?? 500 * 1024;
    this.#maxEventBytes = options.standin.maxEventBytes ?? 32 * 1024;
  }

  /** Starts listening on 127.0.0.1 with a free port. */
  static async start(options: SegmentStandinOptions = {}): Promise<SegmentStandin> {
    // The server exists before the instance that handles its requests.
    const ref: { standin?: SegmentStandin } = {};
    const server = createServer((req, res) => void ref.standin?.handle(req, res));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => resolve());
    });
    const { port } = server.address() as AddressInfo;
    ref.standin = new SegmentStandin({ server, url: `http://127.0.0.1:${port}`, standin: options });
    return ref.standin;
  }

  /** Events accepted so far, in order of arrival (a retried event appears once per delivery). */
  events(): StandinMessage[] {
    return [...this.#events];
  }

  /** Distinct messageIds accepted so far. */
  messageIds(): Set<string> {
    return new Set(this.#events.map((event) => String(event.messageId)));
  }

  requests(): StandinRequest[] {
    return [...this.#requests];
  }

  /** Replaces the accepted write keys (e.g. a key rotated in the workspace). */
  setWriteKeys(keys: string[]): void {
    this.#writeKeys = new Set(keys);
  }

  /** The next `count` requests are answered `status` with `headers`, whatever they carry. */
  failNext(count: number, status: number, headers: Record<string, string> = {}): void {
    for (let i = 0; i < count; i += 1) this.#failures.push({ status, headers });
  }

  /** The next `count` requests are read and never answered (until `close`). */
  hangNext(count: number): void {
    this.#hangCount += count;
  }

  /** While down, every connection is destroyed without an answer. */
  setDown(down: boolean): void {
    this.#down = down;
  }

  /** Clears recorded events/requests and pending faults. */
  reset(): void {
    this.#events.length = 0;
    this.#requests.length = 0;
    this.#failures = [];
    this.#hangCount = 0;
    this.#down = false;
  }

  /** Resolves with the events once at least `count` were accepted; rejects after `timeoutMs`. */
  waitFor(count: number, timeoutMs = 5_000): Promise<StandinMessage[]> {
    if (this.#events.length >= count) return Promise.resolve(this.events());
    return new Promise((resolve, reject) => {
      const check = (): void => {
        if (this.#events.length < count) return;
        clearTimeout(timer);
        this.#waiters.delete(check);
        resolve(this.events());
      };
      const timer = setTimeout(() => {
        this.#waiters.delete(check);
        reject(new Error(`segment stand-in: expected ${count} events within ${timeoutMs} ms, got ${this.#events.length}`));
      }, timeoutMs);
      this.#waiters.add(check);
    });
  }

  async close(): Promise<void> {
    for (const res of this.#hanging) res.destroy();
    this.#hanging.clear();
    this.#server.closeAllConnections();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const raw = await readBody(req);
    const record: StandinRequest = {
      path: req.url ?? '',
      status: undefined,
      writeKey: undefined,
      authorization: req.headers.authorization,
      userAgent: req.headers['user-agent'],
      messageIds: [],
    };
    this.#requests.push(record);
    const answer = (status: number, body: object, headers: Record<string, string> = {}): void => {
      record.status = status;
      res.writeHead(status, { 'content-type': 'application/json', ...headers }).end(JSON.stringify(body));
    };
    const form = /^\/v1\/([a-z]+)$/.exec(record.path)?.[1];
    const body = parseObject(raw);
    const messages: StandinMessage[] =
      body === undefined ? [] : form === 'batch' ? (Array.isArray(body['batch']) ? (body['batch'] as StandinMessage[]) : []) : [{ type: form, ...body }];
    record.messageIds = messages.map((message) => message.messageId).filter((id): id is string => typeof id === 'string');

    if (this.#down) {
      req.socket.destroy();
      return;
    }
    if (this.#hangCount > 0) {
      this.#hangCount -= 1;
      this.#hanging.add(res);
      return;
    }
    const failure = this.#failures.shift();
    if (failure) return answer(failure.status, { success: false, error: 'programmed failure' }, failure.headers);

    if (req.method !== 'POST' || form === undefined || (form !== 'batch' && !SINGLE_FORMS.has(form))) return answer(404, { error: 'not found' });
    if (body === undefined) return answer(400, { error: 'invalid JSON' });
    record.writeKey = basicAuthUser(req.headers.authorization) ?? (typeof body['writeKey'] === 'string' ? body['writeKey'] : undefined);
    if (record.writeKey === undefined || !this.#writeKeys.has(record.writeKey)) return answer(401, { error: 'Unauthorized' });

    const limit = form === 'batch' ? this.#maxBatchBytes : this.#maxEventBytes;
    if (raw.length > limit) return answer(400, { error: `request over ${limit} bytes` });
    if (messages.some((message) => Buffer.byteLength(JSON.stringify(message)) > this.#maxEventBytes)) {
      return answer(400, { error: `event over ${this.#maxEventBytes} bytes` });
    }
    this.#events.push(...messages);
    answer(200, { success: true });
    for (const waiter of [...this.#waiters]) waiter();
  }
}

function parseObject(raw: Buffer): Record<string, unknown> | undefined {
  try {
    const parsed: unknown = JSON.parse(raw.toString('utf8'));
    return typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed) ? (parsed as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

/** The user part of `Authorization: Basic base64(user:)`, which is how the write key travels. */
function basicAuthUser(header: string | undefined): string | undefined {
  const match = /^Basic\s+(\S+)$/i.exec(header ?? '');
  if (!match?.[1]) return undefined;
  const decoded = Buffer.from(match[1], 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  return colon === -1 ? undefined : decoded.slice(0, colon);
}
