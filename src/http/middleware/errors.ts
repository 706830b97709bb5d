/**
 * Maps thrown errors to `{error, message, details}` bodies (SPEC §2). AppErrors keep their
 * status and (when `expose`) message; anything else is a generic 500 and is logged.
 */
import type { Context, Next } from 'koa';
import { AppError, toError } from '../../errors.ts';
import type { Logger } from '../../adapters/logger.ts';

/**
 * `redact` (the environment's secret redactor) is a safety net for bodies that echo the
 * caller's input (a userId, a path, a parser snippet): a secret pasted there is not sent back.
 */
export function errorMiddleware(log: Logger, redact: (text: string) => string = (text) => text) {
  return async function handleErrors(ctx: Context, next: Next): Promise<void> {
    try {
      await next();
      if (ctx.status === 404 && ctx.body === undefined) {
        ctx.status = 404;
        ctx.body = { error: 'not_found', message: redact(`no route for ${ctx.method} ${ctx.path}`), details: [] };
      }
    } catch (thrown) {
      const error = toError(thrown);
      if (error instanceof AppError) {
        ctx.status = error.status;
        ctx.body = {
          error: error.code,
          message: error.expose ? redact(error.message) : 'internal error',
          details: error.expose ? error.details.map((detail) => ({ ...detail, path: redact(detail.path), message: redact(detail.message) })) : [],
        };
        if (error.status >= 500) log.error({ err: { message: error.message, code: error.code }, requestId: ctx.state['requestId'] }, 'request failed');
        return;
      }
      log.error({ err: { message: error.message, stack: error.stack }, requestId: ctx.state['requestId'] }, 'unexpected error');
      ctx.status = 500;
      ctx.body = { error: 'internal_error', message: 'internal error', details: [] };
    }
  };
}
