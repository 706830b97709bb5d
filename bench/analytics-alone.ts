/**
 * The delivery baseline, run as its own process: @segment/analytics-node alone tracks the
 * same flow events the bridge sends (same users, properties, messageIds shape, context
 * marker, flushAt and flushInterval) to the same Segment stand-in, then flushes.
 *
 * Protocol: prints `ready` once constructed, starts on a `go` line on stdin, prints `done`
 * after closeAndFlush(). Settings come from the environment (see `readSettings`).
 *
 * The baseline is the library with its defaults (global fetch). `BENCH_ALONE_HTTP=keep-alive`
 * gives it the bridge sink's node:http client instead (src/adapters/keep-alive-http-client.ts),
 * to see how much of the difference is the HTTP client alone; `npm run bench` measures both and
 * reports the comparison (defaults) and this stricter one side by side.
 */
import { createInterface } from 'node:readline';
import { Analytics } from '@segment/analytics-node';
import { benchFlowEvent } from './flow-events.ts';
import { KeepAliveHttpClient } from '../src/adapters/keep-alive-http-client.ts';

interface Settings {
  host: string;
  writeKey: string;
  flushAt: number;
  flushIntervalMs: number;
  events: number;
  users: number;
  runTag: string;
  environment: string;
}

function readSettings(env: NodeJS.ProcessEnv): Settings {
  const need = (name: string): string => {
    const value = env[name];
    if (value === undefined || value === '') throw new Error(`${name} is required`);
    return value;
  };
  return {
    host: need('BENCH_SEGMENT_HOST'),
    writeKey: need('BENCH_WRITE_KEY'),
    flushAt: Number(need('BENCH_FLUSH_AT')),
    flushIntervalMs: Number(need('BENCH_FLUSH_INTERVAL_MS')),
    events: Number(need('BENCH_EVENTS')),
    users: Number(need('BENCH_USERS')),
    runTag: need('BENCH_RUN_TAG'),
    environment: need('BENCH_ENVIRONMENT'),
  };
}

async function main(): Promise<void> {
  const settings = readSettings(process.env);
  const httpClient = process.env['BENCH_ALONE_HTTP'] === 'keep-alive' ? { httpClient: new KeepAliveHttpClient() } : {};
  const analytics = new Analytics({ writeKey: settings.writeKey, host: settings.host, flushAt: settings.flushAt, flushInterval: settings.flushIntervalMs, ...httpClient });
  process.stdout.write('ready\n');
  const lines = createInterface({ input: process.stdin });
  for await (const line of lines) {
    if (line.trim() === 'go') break;
  }
  lines.close();
  for (let index = 0; index < settings.events; index += 1) {
    const event = benchFlowEvent({ index, users: settings.users, runTag: settings.runTag });
    analytics.track({
      userId: event.userId,
      event: event.event,
      messageId: event.messageId,
      timestamp: new Date(event.timestamp),
      properties: { ...event.properties, environment: settings.environment },
      context: { segmentBridge: { origin: 'segment-bridge', environment: settings.environment } },
    });
  }
  await analytics.closeAndFlush({ timeout: 120_000 });
  process.stdout.write('done\n');
}

await main();
