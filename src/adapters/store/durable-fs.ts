import { randomUUID } from 'node:crypto';
import { open, unlink } from 'node:fs/promises';
import { join } from 'node:path';

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
    return true;
  } catch {
    await unlink(path).catch(() => undefined);
    return false;
  }
}
