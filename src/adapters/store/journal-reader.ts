import { readFile, truncate } from 'node:fs/promises';
import { basename } from 'node:path';
import { isJsonObject } from '../../domain/json.ts';
import { listSegments } from './journal-writer.ts';
import { isRecordPatch, type RecordPatch } from './record-patch.ts';

/** One group commit as read back: full values (`null` = removed), or patches (record-patch.ts). */
export interface JournalEntry {
  seq: number;
  ops: Array<[collection: string, key: string, value: unknown, patch?: RecordPatch]>;
}

export interface JournalReplay {
  segments: number;
  lines: number;
  /** Highest seq seen (0 for an empty journal). */
  lastSeq: number;
  /** Bytes of a torn final line (crash mid-append) cut off a segment. */
  tornBytesTruncated: number;
}

/**
 * Reads every journal segment in seq order and hands each entry to `onEntry`. A final line
 * without its newline is a torn append: it is ignored and truncated away. Anything else that
 * does not parse, or a seq that does not increase, stops recovery with the file and line.
 */
export async function replayJournal(options: { dir: string; onEntry: (entry: JournalEntry) => void }): Promise<JournalReplay> {
  const result: JournalReplay = { segments: 0, lines: 0, lastSeq: 0, tornBytesTruncated: 0 };
  for (const segment of await listSegments(options.dir)) {
    result.segments += 1;
    const bytes = await readFile(segment.path);
    let start = 0;
    for (let lineNumber = 1; start < bytes.length; lineNumber += 1) {
      const end = bytes.indexOf(0x0a, start);
      if (end === -1) {
        await truncate(segment.path, start);
        result.tornBytesTruncated += bytes.length - start;
        break;
      }
      const where = `journal ${basename(segment.path)} line ${lineNumber}`;
      const entry = parseEntry(bytes.toString('utf8', start, end), where);
      if (entry.seq <= result.lastSeq) throw new Error(`${where}: seq ${entry.seq} does not follow ${result.lastSeq}`);
      options.onEntry(entry);
      result.lastSeq = entry.seq;
      result.lines += 1;
      start = end + 1;
    }
  }
  return result;
}

function parseEntry(text: string, where: string): JournalEntry {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new Error(`${where}: not valid JSON (${(error as Error).message})`);
  }
  if (!isJsonObject(parsed)) throw new Error(`${where}: not an object`);
  const { seq, ops } = parsed;
  if (typeof seq !== 'number' || !Number.isSafeInteger(seq) || seq < 1) throw new Error(`${where}: bad seq`);
  if (!Array.isArray(ops)) throw new Error(`${where}: ops is not an array`);
  for (const [index, op] of ops.entries()) {
    if (!Array.isArray(op) || (op.length !== 3 && op.length !== 4) || typeof op[0] !== 'string' || typeof op[1] !== 'string') {
      throw new Error(`${where}: op ${index} is not [collection, key, value] or [collection, key, null, patch]`);
    }
    if (op.length === 4 && (op[2] !== null || !isRecordPatch(op[3]))) throw new Error(`${where}: op ${index} has a malformed patch`);
  }
  return { seq, ops: ops as JournalEntry['ops'] };
}
