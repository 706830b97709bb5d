import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { hasHostileKeys, jsonBytesUpperBound, nestsDeeperThan, oversizeJsonBytes } from '../src/domain/json-bounds.ts';

const exactBytes = (value: unknown): number => Buffer.byteLength(JSON.stringify(value), 'utf8');

const UpperBound = suite('jsonBytesUpperBound: never below the real size');

const samples: unknown[] = [
  {},
  [],
  { a: 1, b: 'two', c: [true, false, null], d: { e: -1.2345678901234567e-308 } },
  { big: 1e21, small: 5e-324, neg: -0 },
  { control: '\u0000\u0001\u001f\n\t"\\', emoji: '😀😀', accents: 'éèà', cjk: '漢字' },
  { nested: [[[{ deep: ['x'] }]]] },
  { 'key with "quotes" and \u0000': 'v' },
  Array.from({ length: 50 }, (_, index) => ({ index, name: `item-${index}`, tags: ['a', 'b'] })),
];

UpperBound('is at least the UTF-8 size of JSON.stringify for varied values', () => {
  for (const value of samples) {
    const bound = jsonBytesUpperBound(value, Number.MAX_SAFE_INTEGER);
    assert.ok(bound >= exactBytes(value), `bound ${bound} < ${exactBytes(value)} for ${JSON.stringify(value).slice(0, 60)}`);
  }
});

UpperBound('holds for strings made only of characters JSON escapes to six bytes', () => {
  const value = { s: '\u0001'.repeat(1000) };
  assert.ok(jsonBytesUpperBound(value, Number.MAX_SAFE_INTEGER) >= exactBytes(value));
});

UpperBound('is Infinity as soon as the bound passes the limit', () => {
  const value = { text: 'x'.repeat(10_000) };
  assert.is(jsonBytesUpperBound(value, 1_000), Number.POSITIVE_INFINITY);
  assert.ok(Number.isFinite(jsonBytesUpperBound(value, 100_000)));
});

UpperBound('stays within a small factor of the real size for ordinary messages', () => {
  const value = { event: 'Product Viewed', properties: { price: 49, currency: 'USD', product_id: 'sku-12' } };
  const bound = jsonBytesUpperBound(value, Number.MAX_SAFE_INTEGER);
  assert.ok(bound < exactBytes(value) * 8, `bound ${bound} is too loose to save work`);
});

UpperBound.run();

const Oversize = suite('oversizeJsonBytes: the exact size over the limit, else 0');

Oversize('0 within the limit, including exactly at it and where only the bound is over', () => {
  const value = { text: 'é'.repeat(100) };
  const exact = exactBytes(value);
  assert.is(oversizeJsonBytes(value, exact), 0, 'exactly at the limit');
  assert.is(oversizeJsonBytes(value, exact + 1), 0);
  assert.ok(jsonBytesUpperBound(value, exact) > exact, 'the bound alone would have called it too big');
});

Oversize('the exact UTF-8 size when over the limit', () => {
  const value = { text: '\u0001é😀'.repeat(50) };
  assert.is(oversizeJsonBytes(value, 10), exactBytes(value));
  assert.is(oversizeJsonBytes(value, exactBytes(value) - 1), exactBytes(value));
});

Oversize.run();

const Hostile = suite('hasHostileKeys');

Hostile('finds __proto__, constructor and prototype at any depth, in objects and arrays', () => {
  assert.ok(hasHostileKeys(JSON.parse('{"__proto__": {"polluted": true}}')));
  assert.ok(hasHostileKeys({ a: { b: [{ constructor: 1 }] } }));
  assert.ok(hasHostileKeys([[{ prototype: 'x' }]]));
});

Hostile('is false for clean values, and for hostile words used as values', () => {
  assert.not.ok(hasHostileKeys({ a: 'constructor', b: ['__proto__'], c: { d: 'prototype' } }));
  assert.not.ok(hasHostileKeys('__proto__'));
  assert.not.ok(hasHostileKeys(null));
});

Hostile.run();

const Depth = suite('nestsDeeperThan');

const nested = (depth: number): unknown => {
  let value: unknown = 1;
  for (let level = 0; level < depth; level += 1) value = level % 2 === 0 ? [value] : { k: value };
  return value;
};

Depth('counts the value itself as depth 1; scalars have no depth', () => {
  assert.not.ok(nestsDeeperThan(nested(100), 100));
  assert.ok(nestsDeeperThan(nested(101), 100));
  assert.not.ok(nestsDeeperThan('text', 0));
});

Depth('handles inputs far deeper than the limit without overflowing the stack', () => {
  const deep = JSON.parse(`${'['.repeat(50_000)}${']'.repeat(50_000)}`) as unknown;
  assert.ok(nestsDeeperThan(deep, 100));
});

Depth.run();
