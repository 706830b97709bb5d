/**
 * Reads a request body as raw bytes (kept for signature checks) and parses it as JSON,
 * with the statuses of SPEC §2: 415 not JSON, 413 over the limit, 400 malformed, not UTF-8 or
 * nested deeper than MAX_JSON_DEPTH.
 */
import type { Context } from 'koa';
import getRawBody from 'raw-body';
import { AppError, ValidationError } from '../errors.ts';
import { nestsDeeperThan } from '../domain/json-bounds.ts';

export interface JsonBody {
  raw: Buffer;
  json: unknown;
}

const JSON_TYPE = /^application\/(?:[\w.+-]+\+)?json$/i;
const utf8 = new TextDecoder('utf-8', { fatal: true });

export async function readJsonBody(ctx: Context, options: { limitBytes: number; timeoutMs?: number }): Promise<JsonBody> {
  const raw = await readRawJsonBody(ctx, options);
  return { raw, json: parseJsonBody(raw) };
}

/** Checks the content type and reads the bytes (no parsing: signatures are checked first). */
export async function readRawJsonBody(ctx: Context, options: { limitBytes: number; timeoutMs?: number }): Promise<Buffer> {
  const contentType = (ctx.get('content-type').split(';')[0] ?? '').trim();
  if (!JSON_TYPE.test(contentType)) {
    throw new AppError({
      code: 'unsupported_media_type',
      status: 415,
      message: `expected Content-Type application/json, got ${contentType === '' ? 'none' : JSON.stringify(contentType.slice(0, 60))}`,
    });
  }
  return readRaw(ctx, options);
}

/** Parses raw bytes as UTF-8 JSON: 400 with the parser's reason when it is not. */
export function parseJsonBody(raw: Buffer): unknown {
  let text: string;
  try {
    text = utf8.decode(raw);
  } catch {
    throw new ValidationError('request body is not valid UTF-8', [], 'invalid_encoding');
  }
  let json: unknown;
  try {
    json = JSON.parse(text) as unknown;
  } catch (error) {
    const reason = error instanceof Error ? error.message : 'unparseable';
    throw new ValidationError('request body is not valid JSON', [{ path: '', message: reason.slice(0, 200) }], 'malformed_json');
  }
  if (nestsDeeperThan(json, MAX_JSON_DEPTH)) {
    throw new ValidationError(`request body is nested deeper than ${MAX_JSON_DEPTH} levels`, [{ path: '', message: `objects and arrays may nest at most ${MAX_JSON_DEPTH} levels deep` }], 'too_deeply_nested');
  }
  return json;
}

/**
 * Deepest object/array nesting a body may have. JSON.parse copes with any depth, but the
 * recursive code after it (JSON.stringify for size checks and the journal, key sanitizing)
 * overflows the stack at a few thousand levels: a 200 KB `[[[[...]]]]` must be a 400, not a 500.
 * Real Segment payloads nest a handful of levels.
 */
export const MAX_JSON_DEPTH = 100;

async function readRaw(ctx: Context, options: { limitBytes: number; timeoutMs?: number }): Promise<Buffer> {
  const declared = Number(ctx.get('content-length'));
  if (Number.isFinite(declared) && declared > options.limitBytes) throw tooLarge(ctx, options.limitBytes);
  try {
    return await withTimeout(getRawBody(ctx.req, { limit: options.limitBytes }), options.timeoutMs ?? 10_000, ctx);
  } catch (error) {
    if (error instanceof AppError) throw error;
    const type = (error as { type?: string }).type;
    if (type === 'entity.too.large') throw tooLarge(ctx, options.limitBytes);
    throw new AppError({ code: 'bad_body', status: 400, message: 'request body could not be read' });
  }
}

function tooLarge(ctx: Context, limitBytes: number): AppError {
  // The rest of the body stays unread: close the connection after the 413 rather than
  // read (or, once raw-body paused it, hold) an attacker's megabytes on a kept-alive socket.
  ctx.set('Connection', 'close');
  return new AppError({ code: 'payload_too_large', status: 413, message: `request body is over the limit of ${limitBytes} bytes` });
}

/** A slow-loris body must not hold a connection forever. */
function withTimeout<T>(promise: Promise<T>, timeoutMs: number, ctx: Context): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => {
      reject(new AppError({ code: 'request_timeout', status: 408, message: `request body not received within ${timeoutMs} ms` }));
      ctx.req.destroy();
    }, timeoutMs);
    timer.unref();
    promise.then(
      (value) => { clearTimeout(timer); resolve(value); },
      (error: unknown) => { clearTimeout(timer); reject(error); },
    );
  });
}
