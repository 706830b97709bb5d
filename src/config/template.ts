/**
 * What `init <env>` writes to `environments/<env>.json`: a minimal, valid environment with
 * the defaults spelled out so they are easy to find and change. Secrets are not in it;
 * `init` generates them into `.env`.
 */
import { FLOW_EVENT_CATALOG } from './environment-schema.ts';

/** The JSON text (2-space indent, trailing newline) of a new environment file. */
export function renderTemplate(options: { name: string; port: number }): string {
  const { name, port } = options;
  const file = {
    name,
    port,
    host: '127.0.0.1',
    publicUrl: `http://127.0.0.1:${port}`,
    dataDir: `data/${name}`,
    segment: { region: 'us', flushAt: 15, flushIntervalMs: 1000 },
    events: Object.fromEntries(FLOW_EVENT_CATALOG.map((event) => [event, {}])),
    triggers: [],
    dedupeWindowDays: 7,
    bodyLimitBytes: 524288,
    historyLimit: 50,
  };
  return `${JSON.stringify(file, null, 2)}\n`;
}
