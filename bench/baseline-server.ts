/**
 * The ingest baseline: a bare Koa server on the same machine that reads and parses the same
 * JSON body as POST /v1/segment and answers 200, storing nothing (no signature check, no
 * validation, no logging, no fsync). Run as its own process so that, like the instance, it
 * does not share a CPU core's event loop with the load generator:
 *
 *   node --import tsx bench/baseline-server.ts   -> prints `listening on http://127.0.0.1:PORT`
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { pathToFileURL } from 'node:url';
import Koa from 'koa';
import { Router } from '@koa/router';
import getRawBody from 'raw-body';

export function createBaselineApp(): Koa {
  const app = new Koa();
  const router = new Router();
  router.post('/v1/segment', async (ctx) => {
    const raw = await getRawBody(ctx.req, { limit: 512 * 1024 });
    const parsed: unknown = JSON.parse(raw.toString('utf8'));
    ctx.status = 200;
    ctx.body = { accepted: Array.isArray(parsed) ? parsed.length : 1, duplicates: 0, ignored: 0, rejected: [] };
  });
  app.use(router.routes());
  return app;
}

export async function startBaselineServer(port = 0): Promise<{ server: Server; url: string }> {
  const server = createServer(createBaselineApp().callback());
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve());
  });
  const { port: actual } = server.address() as AddressInfo;
  return { server, url: `http://127.0.0.1:${actual}` };
}

const isMain = process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href;
if (isMain) {
  const { server, url } = await startBaselineServer();
  process.stdout.write(`listening on ${url}\n`);
  process.once('SIGTERM', () => server.close(() => process.exit(0)));
}
