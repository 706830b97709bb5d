/**
 * The ingest floor: the bare Koa baseline plus only what SPEC §2 requires before a 200 and
 * that no store design can skip: the HMAC check of the raw bytes, JSON parse, Segment-spec
 * validation of every message, and a durable (O_DSYNC, group-committed) append of the raw
 * body. No profiles, no dedupe, no triggers, no logging, no metrics. It shows how much of
 * the gap between the instance and the bare baseline belongs to the store and how much to
 * work any correct implementation does.
 *
 *   node --import tsx bench/floor-server.ts <dir>   -> prints `listening on http://127.0.0.1:PORT`
 *
 * `FLOOR_SKIP=hmac,validate,append` (any of them) leaves steps out, to price each one.
 */
import { constants } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import Koa from 'koa';
import { Router } from '@koa/router';
import getRawBody from 'raw-body';
import { extractMessages, parseSegmentMessage } from '../src/domain/segment-message.ts';
import { verifySegmentRequest } from '../src/domain/segment-signature.ts';
import { BENCH_SECRETS } from './bench-config.ts';

/** Appends batches with one write each; callers wait for the write their bytes went in. */
class GroupAppender {
  #pending: Buffer[] = [];
  #waiters: Array<() => void> = [];
  #writing = false;
  readonly #handle: FileHandle;
  constructor(handle: FileHandle) {
    this.#handle = handle;
  }

  append(bytes: Buffer): Promise<void> {
    return new Promise((resolve) => {
      this.#pending.push(bytes, NEWLINE);
      this.#waiters.push(resolve);
      if (!this.#writing) void this.#flush();
    });
  }

  async #flush(): Promise<void> {
    this.#writing = true;
    while (this.#pending.length > 0) {
      const bytes = Buffer.concat(this.#pending);
      const waiters = this.#waiters;
      this.#pending = [];
      this.#waiters = [];
      await this.#handle.write(bytes);
      for (const resolve of waiters) resolve();
    }
    this.#writing = false;
  }
}

const NEWLINE = Buffer.from('\n');

const skip = new Set((process.env['FLOOR_SKIP'] ?? '').split(',').filter((step) => step !== ''));

async function main(dir: string): Promise<void> {
  const handle = await open(join(dir, 'floor.jsonl'), constants.O_WRONLY | constants.O_CREAT | constants.O_APPEND | constants.O_DSYNC);
  const appender = new GroupAppender(handle);
  const app = new Koa();
  const router = new Router();
  router.post('/v1/segment', async (ctx) => {
    const raw = await getRawBody(ctx.req, { limit: 512 * 1024 });
    const verdict = skip.has('hmac') ? { ok: true } : verifySegmentRequest({
      rawBody: raw,
      signatureHeader: ctx.get('x-signature') || undefined,
      authorizationHeader: ctx.get('authorization') || undefined,
      secret: BENCH_SECRETS.sharedSecret,
      isArrayBody: raw[0] === 0x5b,
    });
    if (!verdict.ok) {
      ctx.status = 401;
      return;
    }
    const extracted = extractMessages(JSON.parse(raw.toString('utf8')));
    if (!extracted.ok) {
      ctx.status = 400;
      return;
    }
    const receivedAt = new Date().toISOString();
    let accepted = 0;
    for (const item of extracted.items) if (skip.has('validate') || parseSegmentMessage(item, { receivedAt }).ok) accepted += 1;
    if (!skip.has('append')) await appender.append(raw);
    ctx.status = 200;
    ctx.body = { accepted, duplicates: 0, ignored: 0, rejected: [] };
  });
  app.use(router.routes());
  const server = createServer(app.callback());
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  process.stdout.write(`listening on http://127.0.0.1:${(server.address() as AddressInfo).port}\n`);
  process.once('SIGTERM', () => server.close(() => process.exit(0)));
}

const dir = process.argv[2];
if (dir === undefined) throw new Error('usage: floor-server.ts <dir>');
await main(dir);
