/**
 * Structured JSON logs (pino). Every line passes through the secret redactor before it is
 * written, so a secret can never reach a log even if some code puts it in a message.
 */
import { pino, type Logger } from 'pino';

export type { Logger };

export function createLogger(options: { level?: string; redact?: (text: string) => string; name?: string; destination?: NodeJS.WritableStream }): Logger {
  const redact = options.redact ?? ((text: string) => text);
  return pino(
    {
      level: options.level ?? 'info',
      base: options.name ? { env: options.name } : {},
      timestamp: pino.stdTimeFunctions.isoTime,
      hooks: { streamWrite: redact },
    },
    options.destination ?? pino.destination({ dest: 2, sync: false }),
  );
}

/** A logger that writes nothing (tests, CLI one-shots). */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}
