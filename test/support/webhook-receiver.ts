/**
 * A real HTTP receiver for trigger webhooks on 127.0.0.1 (port 0). It verifies every
 * request's Standard Webhooks signature with its own implementation (node:crypto
 * HMAC-SHA256 over `${id}.${timestamp}.${body}`), independent of the `standardwebhooks`
 * package the bridge signs with, and answers with programmed statuses or hangs.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface ReceivedWebhook {
  headers: IncomingHttpHeaders;
  body: string;
  id: string | undefined;
  timestamp: string | undefined;
  /** True when one of the `v1,` signatures matches the expected HMAC. */
  signatureValid: boolean;
}

/** An HTTP answer, or `hang`: never answer (the sender times out). */
export type ReceiverAnswer = { status: number; headers?: Record<string, string> } | 'hang';

export interface WebhookReceiver {
  url: string;
  requests: ReceivedWebhook[];
  /** Answers for the next requests, in order; after they run out, `defaultAnswer`. */
  program(...answers: ReceiverAnswer[]): void;
  close(): Promise<void>;
}

/** The key bytes a receiver derives from a secret: `whsec_<base64>` decoded, else UTF-8 bytes. */
export function receiverKey(secret: string): Buffer {
  return secret.startsWith('whsec_') ? Buffer.from(secret.slice('whsec_'.length), 'base64') : Buffer.from(secret, 'utf8');
}

/** Independent Standard Webhooks check of one request. */
export function verifyStandardWebhook(options: { secret: string; headers: IncomingHttpHeaders; body: string }): boolean {
  const { secret, headers, body } = options;
  const id = headerValue(headers['webhook-id']);
  const timestamp = headerValue(headers['webhook-timestamp']);
  const signatures = headerValue(headers['webhook-signature']);
  if (!id || !timestamp || !signatures || !/^\d+$/.test(timestamp)) return false;
  const expected = createHmac('sha256', receiverKey(secret)).update(`${id}.${timestamp}.${body}`).digest();
  return signatures.split(' ').some((entry) => {
    const [version, signature] = entry.split(',');
    if (version !== 'v1' || signature === undefined) return false;
    const given = Buffer.from(signature, 'base64');
    return given.length === expected.length && timingSafeEqual(given, expected);
  });
}

export async function startWebhookReceiver(options: { secret: string; defaultAnswer?: ReceiverAnswer }): Promise<WebhookReceiver> {
  const queue: ReceiverAnswer[] = [];
  const requests: ReceivedWebhook[] = [];
  const defaultAnswer = options.defaultAnswer ?? { status: 200 };
  const server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      const { headers } = request;
      requests.push({
        headers,
        body,
        id: headerValue(headers['webhook-id']),
        timestamp: headerValue(headers['webhook-timestamp']),
        signatureValid: verifyStandardWebhook({ secret: options.secret, headers, body }),
      });
      const answer = queue.shift() ?? defaultAnswer;
      if (answer === 'hang') return;
      response.writeHead(answer.status, { 'content-type': 'text/plain', ...answer.headers });
      response.end('ok');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/hooks`,
    requests,
    program: (...answers) => queue.push(...answers),
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

function headerValue(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}
