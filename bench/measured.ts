/** One load measurement on a child server, with what it cost the server in CPU time. */
import type { ChildServer } from './child.ts';
import { runLoad, type LoadOptions, type LoadResult } from './load.ts';
import { MessageFactory } from './messages.ts';

/** A load result with what it cost the server: CPU time (all threads) per message. */
export interface Measured extends LoadResult {
  messagesPerRequest: number;
  /** 2xx answers × messages per request / second. */
  messagesPerSec: number;
  serverCpuUsPerMessage: number;
  /** CPU time the load generator (this process) used per answered request, µs. */
  loadCpuUsPerRequest: number;
}

export async function measured(options: { server: ChildServer; messagesPerRequest: number; load: Omit<LoadOptions, 'url'> }): Promise<Measured> {
  const { server, messagesPerRequest } = options;
  const cpuBeforeMs = await server.cpuMs();
  const loadCpuBefore = process.cpuUsage();
  const result = await runLoad({ ...options.load, url: server.url });
  const loadCpu = process.cpuUsage(loadCpuBefore);
  const cpuMs = (await server.cpuMs()) - cpuBeforeMs;
  const requests = result.ok + result.non2xx;
  const messages = result.ok * messagesPerRequest;
  return {
    ...result,
    messagesPerRequest,
    messagesPerSec: result.rps * messagesPerRequest,
    serverCpuUsPerMessage: messages === 0 ? 0 : (cpuMs * 1000) / messages,
    loadCpuUsPerRequest: requests === 0 ? 0 : (loadCpu.user + loadCpu.system) / requests,
  };
}

let runCounter = 0;

/** Messages for `users` users with messageIds unique to this run (and to this process). */
export function factoryFor(users: number): MessageFactory {
  runCounter += 1;
  return new MessageFactory({ users, runTag: `${Date.now().toString(36)}-${runCounter}`, seed: 0x9e3779b9 + runCounter });
}
