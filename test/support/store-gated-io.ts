import type { FileHandle } from 'node:fs/promises';
import { nodeJournalIo } from '../../src/adapters/store/journal-writer.ts';
import type { JournalIo } from '../../src/adapters/store/journal-writer.ts';

/**
 * A JournalIo a test can break: while `failing`, an append writes half of its bytes (a torn
 * write, as a full disk would leave) and then throws, after `started` resolved and `release()` was called.
 */
export function gatedJournalIo(): {
  io: JournalIo;
  fail: () => { started: Promise<void>; release: () => void };
  heal: () => void;
} {
  let gate: { started: () => void; released: Promise<void> } | undefined;
  const io: JournalIo = {
    async append(handle: FileHandle, bytes: Uint8Array) {
      if (!gate) return nodeJournalIo.append(handle, bytes);
      gate.started();
      await gate.released;
      await handle.write(bytes, 0, Math.floor(bytes.length / 2));
      throw new Error('simulated EIO');
    },
    sync: (handle) => nodeJournalIo.sync(handle),
  };
  return {
    io,
    fail() {
      let started = (): void => undefined;
      let release = (): void => undefined;
      const startedPromise = new Promise<void>((resolve) => (started = resolve));
      const released = new Promise<void>((resolve) => (release = resolve));
      gate = { started, released };
      return { started: startedPromise, release };
    },
    heal() {
      gate = undefined;
    },
  };
}
