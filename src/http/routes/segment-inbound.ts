/**
 * POST /v1/segment: Segment's Webhooks destination calls this (SPEC §2).
 * Order: content type and size (415/413) -> authentication on the raw bytes (401) ->
 * JSON (400) -> body shape (400) -> per-message validation, dedupe, apply, durable commit.
 */
import type { Router } from '@koa/router';
import type { Context } from 'koa';
import { AuthError, ValidationError } from '../../errors.ts';
import { extractMessages } from '../../domain/segment-message.ts';
import { verifySegmentRequest } from '../../domain/segment-signature.ts';
import { ingestSegmentMessages } from '../../services/ingest-segment.ts';
import { parseJsonBody, readRawJsonBody } from '../read-json-body.ts';
import type { AppDeps } from '../app-deps.ts';

export function registerSegmentInboundRoutes(router: Router, deps: AppDeps): void {
  router.post('/v1/segment', async (ctx: Context) => {
    const { config } = deps;
    const raw = await readRawJsonBody(ctx, { limitBytes: config.bodyLimitBytes, timeoutMs: deps.bodyTimeoutMs });
    authenticate(ctx, raw, config.secrets.sharedSecret);
    const extracted = extractMessages(parseJsonBody(raw));
    if (!extracted.ok) throw new ValidationError(extracted.error.message, [extracted.error]);
    const { store, clock, emitter, onRunsCommitted } = deps;
    const result = await ingestSegmentMessages({ store, config, clock, emitter, onRunsCommitted, items: extracted.items });
    const single = extracted.kind === 'single' ? result.rejected[0] : undefined;
    if (single) throw new ValidationError('the message violates the Segment spec', single.errors, 'invalid_message');
    ctx.status = 200;
    ctx.body = { accepted: result.accepted, duplicates: result.duplicates, ignored: result.ignored, rejected: result.rejected };
  });
}

function authenticate(ctx: Context, raw: Buffer, secret: string | undefined): void {
  if (secret === undefined) return;
  const verdict = verifySegmentRequest({
    rawBody: raw,
    signatureHeader: ctx.get('x-signature') || undefined,
    authorizationHeader: ctx.get('authorization') || undefined,
    secret,
    isArrayBody: firstByte(raw) === 0x5b,
  });
  if (!verdict.ok) throw new AuthError(verdict.reason, 'bad_signature');
  ctx.state['authenticatedVia'] = verdict.via;
}

/** The first non-whitespace byte: `[` means a batched (array) body. */
function firstByte(raw: Buffer): number | undefined {
  for (const byte of raw) {
    if (byte !== 0x20 && byte !== 0x09 && byte !== 0x0a && byte !== 0x0d) return byte;
  }
  return undefined;
}
