import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { constants } from 'node:fs';
import { mkdtemp, readdir, readFile, readlink, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { JournalWriter, nodeJournalIo, type JournalIo } from '../src/adapters/store/journal-writer.ts';

const durable = suite('journal appends are durable before they resolve');

/** The open flags of this process's descriptor for `path` (Linux /proc), or undefined elsewhere. */
async function openFlagsOf(path: string): Promise<number | undefined> {
  if (process.platform !== 'linux') return undefined;
  for (const fd of await readdir('/proc/self/fd')) {
    const target = await readlink(`/proc/self/fd/${fd}`).catch(() => '');
    if (target !== path) continue;
    const info = await readFile(`/proc/self/fdinfo/${fd}`, 'utf8');
    const flags = /^flags:\s+([0-7]+)$/m.exec(info)?.[1];
    return flags === undefined ? undefined : Number.parseInt(flags, 8);
  }
  return undefined;
}

/** nodeJournalIo with every sync counted. */
function countingIo(base: JournalIo): { io: JournalIo; syncs: () => number } {
  let syncs = 0;
  return {
    io: { ...base, sync: async (handle) => { syncs += 1; await base.sync(handle); } },
    syncs: () => syncs,
  };
}

/** Opens a writer on a fresh temp dir, runs `fn`, closes and deletes it. */
async function withWriter(options: { io: JournalIo; fsync: boolean }, fn: (writer: JournalWriter, dir: string) => Promise<void>): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'sb-journal-'));
  const writer = await JournalWriter.open({ dir, firstSeq: 1, ...options });
  try {
    await fn(writer, dir);
  } finally {
    await writer.close();
    await rm(dir, { recursive: true, force: true });
  }
}

const hasDsync = (flags: number | undefined): boolean | undefined => (flags === undefined || constants.O_DSYNC === undefined ? undefined : (flags & constants.O_DSYNC) !== 0);

durable('the default io opens segments with O_DSYNC and never needs a separate fdatasync', async () => {
  const counting = countingIo(nodeJournalIo);
  await withWriter({ io: counting.io, fsync: true }, async (writer, dir) => {
    await writer.append('{"seq":1,"ops":[]}\n');
    await writer.append('{"seq":2,"ops":[]}\n');
    assert.is(counting.syncs(), 0);
    assert.is(writer.fsyncs, 2, 'each durable append is counted');
    assert.not.equal(hasDsync(await openFlagsOf(join(dir, '0000000000000001.jsonl'))), false, 'the segment lacks O_DSYNC');
    assert.is(await readFile(join(dir, '0000000000000001.jsonl'), 'utf8'), '{"seq":1,"ops":[]}\n{"seq":2,"ops":[]}\n');
  });
});

durable('an io without writeThrough gets one fdatasync per append, on a plain append descriptor', async () => {
  const counting = countingIo({ append: nodeJournalIo.append, sync: nodeJournalIo.sync });
  await withWriter({ io: counting.io, fsync: true }, async (writer, dir) => {
    await writer.append('{"seq":1,"ops":[]}\n');
    await writer.append('{"seq":2,"ops":[]}\n');
    assert.is(counting.syncs(), 2);
    assert.not.equal(hasDsync(await openFlagsOf(join(dir, '0000000000000001.jsonl'))), true);
  });
});

durable('with fsync off nothing is synced and segments are plain', async () => {
  const counting = countingIo(nodeJournalIo);
  await withWriter({ io: counting.io, fsync: false }, async (writer, dir) => {
    await writer.append('{"seq":1,"ops":[]}\n');
    assert.is(counting.syncs(), 0);
    assert.is(writer.fsyncs, 0);
    assert.not.equal(hasDsync(await openFlagsOf(join(dir, '0000000000000001.jsonl'))), true);
  });
});

durable('rotation opens the new segment the same way', async () => {
  await withWriter({ io: nodeJournalIo, fsync: true }, async (writer, dir) => {
    await writer.append('{"seq":1,"ops":[]}\n');
    await writer.rotate(2);
    await writer.append('{"seq":2,"ops":[]}\n');
    assert.not.equal(hasDsync(await openFlagsOf(join(dir, '0000000000000002.jsonl'))), false);
    assert.is(await readFile(join(dir, '0000000000000002.jsonl'), 'utf8'), '{"seq":2,"ops":[]}\n');
  });
});

durable.run();
