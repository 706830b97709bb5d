import { randomUUID } from 'node:crypto';
import { open, rename, unlink } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';

/**
 * fsync helpers. steno (lowdb's writer) renames a temp file into place but never fsyncs,
 * so before the journal that a shard replaces is deleted we flush the file and its directory.
 */
export async function fsyncFile(path: string): Promise<void> {
  const handle = await open(path, 'r');
  try {
    await handle.datasync();
  } finally {
    await handle.close();
  }
}

/** Makes renames, creations and unlinks inside `dir` durable (POSIX: fsync the directory). */
export async function fsyncDir(dir: string): Promise<void> {
  const handle = await open(dir, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/** Writes, fsyncs and deletes a small file in `dir`: true if the disk accepts writes right now. */
export async function probeDirWritable(dir: string): Promise<boolean> {
  return (await probeDirWrite(dir)) === undefined;
}

/** Like probeDirWritable, but says why not: the error code (`EACCES`, `ENOSPC`, ...) or undefined when writable. */
export async function probeDirWrite(dir: string): Promise<string | undefined> {
  const path = join(dir, `.probe-${randomUUID()}`);
  try {
    const handle = await open(path, 'w');
    try {
      await handle.writeFile('probe');
      await handle.datasync();
    } finally {
      await handle.close();
    }
    await unlink(path);
    return undefined;
  } catch (error) {
    await unlink(path).catch(() => undefined);
    return (error as NodeJS.ErrnoException).code ?? 'error';
  }
}

/**
 * Replaces `path` atomically with the concatenated `chunks`: writes `.<name>.tmp` beside it
 * chunk by chunk (each write awaits, so the event loop keeps serving), fdatasyncs it when
 * `fsync` is on, then renames it over `path`. A crash leaves the old file or the new one,
 * never a torn one. Syncing *before* the rename (steno renames first) also keeps the rename's
 * filesystem transaction light: on ext4 a rename over a file whose data is not yet on disk
 * makes the next fsync of any file, here the journal's, wait for that data too.
 * The caller makes the rename itself durable with `fsyncDir`.
 */
export async function writeFileAtomically(options: { path: string; chunks: Iterable<string>; fsync: boolean }): Promise<number> {
  const { path, chunks, fsync } = options;
  const temp = join(dirname(path), `.${basename(path)}.tmp`);
  const handle = await open(temp, 'w');
  let chars = 0;
  try {
    for (const chunk of chunks) {
      const bytes = Buffer.from(chunk, 'utf8');
      let offset = 0;
      while (offset < bytes.length) offset += (await handle.write(bytes, offset, bytes.length - offset)).bytesWritten;
      chars += chunk.length;
    }
    if (fsync) await handle.datasync();
  } finally {
    await handle.close();
  }
  await rename(temp, path);
  return chars;
}
