/**
 * The verification marker: `<dataDir>/verified.json`, written by a successful `bootstrap`
 * and read by `bootstrap production` (which refuses until staging has one) and by the
 * instance's status. Written atomically (temp file, fsync, rename, fsync of the directory)
 * so a crash never leaves a torn marker. It holds no secret.
 */
import { mkdir, open, readFile, rename, rm } from 'node:fs/promises';
import path from 'node:path';
import { randomBytes } from 'node:crypto';

export const VERIFICATION_FILE = 'verified.json';

export interface VerificationMarker {
  environment: string;
  /** ISO time of the successful bootstrap. */
  verifiedAt: string;
  /** The checks that passed, in order. */
  checks: Array<{ id: string; name: string; status: 'ok' }>;
}

export function verificationPath(dataDir: string): string {
  return path.join(dataDir, VERIFICATION_FILE);
}

/**
 * The marker in `dataDir`, or `undefined` when there is none. A file that is not a valid
 * marker counts as none (`reason` says why) rather than as verified.
 */
export async function readVerification(dataDir: string): Promise<{ marker: VerificationMarker } | { marker: undefined; reason: string }> {
  let text: string;
  try {
    text = await readFile(verificationPath(dataDir), 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    return { marker: undefined, reason: code === 'ENOENT' ? 'no verification marker' : `the marker cannot be read (${code ?? 'error'})` };
  }
  try {
    const parsed = JSON.parse(text) as unknown;
    if (isMarker(parsed)) return { marker: parsed };
  } catch {
    // fall through: a torn or hand-edited file is not a verification
  }
  return { marker: undefined, reason: 'the marker file is not a valid verification record' };
}

/** Writes the marker atomically, creating `dataDir` if needed. */
export async function writeVerification(options: { dataDir: string; marker: VerificationMarker }): Promise<string> {
  const { dataDir, marker } = options;
  await mkdir(dataDir, { recursive: true });
  const target = verificationPath(dataDir);
  const temp = `${target}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  try {
    const handle = await open(temp, 'wx', 0o644);
    try {
      await handle.writeFile(`${JSON.stringify(marker, null, 2)}\n`);
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(temp, target);
  } catch (error) {
    await rm(temp, { force: true });
    throw error;
  }
  await syncDirectory(dataDir);
  return target;
}

async function syncDirectory(dir: string): Promise<void> {
  const handle = await open(dir, 'r');
  try {
    await handle.sync();
  } catch {
    // Some platforms/filesystems refuse fsync on a directory; the rename is still atomic.
  } finally {
    await handle.close();
  }
}

function isMarker(value: unknown): value is VerificationMarker {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const record = value as Record<string, unknown>;
  return typeof record['environment'] === 'string' && typeof record['verifiedAt'] === 'string' && Array.isArray(record['checks']);
}
