import type { ShardData } from './shard-files.ts';

/** Default size of one chunk of shard text. */
export const SHARD_CHUNK_CHARS = 256 * 1024;

/**
 * A shard as compact JSON (`{"seq":N,"records":{collection:{key:value}}}`) in chunks of about
 * `chunkChars` characters, serialised one record at a time. Written chunk by chunk, a shard
 * never exists as one string: a single `JSON.stringify` of a shard (~25 MB at a million
 * profiles) blocked the event loop for over 100 ms and produced two shard-sized garbage
 * strings (text, then its UTF-8 buffer) per shard. Record values are immutable once put
 * (RecordStore contract), so a captured `data` stays consistent while the chunks are written.
 */
export function* shardJsonChunks(data: ShardData, chunkChars = SHARD_CHUNK_CHARS): Generator<string> {
  let parts: string[] = [`{"seq":${JSON.stringify(data.seq)},"records":{`];
  let size = 0;
  let firstCollection = true;
  for (const collection of Object.keys(data.records)) {
    const records = data.records[collection] ?? {};
    parts.push(`${firstCollection ? '' : ','}${JSON.stringify(collection)}:{`);
    firstCollection = false;
    let firstRecord = true;
    for (const key of Object.keys(records)) {
      const value = JSON.stringify(records[key]);
      if (value === undefined) continue; // not JSON (never put by a well-behaved caller): skipped as JSON.stringify would
      const part = `${firstRecord ? '' : ','}${JSON.stringify(key)}:${value}`;
      firstRecord = false;
      parts.push(part);
      size += part.length;
      if (size >= chunkChars) {
        yield parts.join('');
        parts = [];
        size = 0;
      }
    }
    parts.push('}');
  }
  parts.push('}}');
  yield parts.join('');
}
