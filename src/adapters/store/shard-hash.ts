/**
 * Which shard file a record lives in. The hash is part of the on-disk format (store.json
 * `hash: "fnv1a32"`): changing it, or the shard count, would strand records in the wrong file.
 */
const FNV_OFFSET = 0x811c9dc5;
const FNV_PRIME = 0x01000193;

/** 32-bit FNV-1a over UTF-16 code units; `seed` continues a previous hash (so no string concatenation). */
export function fnv1a32(text: string, seed: number = FNV_OFFSET): number {
  let hash = seed;
  for (let i = 0; i < text.length; i += 1) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, FNV_PRIME);
  }
  return hash >>> 0;
}

/** The shard of a record: `fnv1a32(collection + "\u0000" + key) % shardCount`. */
export function shardIndex(options: { collection: string; key: string; shardCount: number }): number {
  const { collection, key, shardCount } = options;
  return fnv1a32(key, fnv1a32('\u0000', fnv1a32(collection))) % shardCount;
}
