import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { deepEqual, lookupPath, matchesWhere } from '../src/domain/trigger-match.ts';
import type { JsonObject, JsonValue } from '../src/domain/json.ts';

const props = (properties: JsonObject) => ({ properties, traits: {} });
const onProperty = (condition: JsonValue, properties: JsonObject): boolean => matchesWhere({ properties: { field: condition } }, props(properties));

// ---
const equality = suite('matchesWhere: equality');

equality('scalars match by strict equality', () => {
  assert.ok(onProperty('pro', { field: 'pro' }));
  assert.ok(onProperty(3, { field: 3 }));
  assert.ok(onProperty(true, { field: true }));
  assert.ok(onProperty(null, { field: null }));
  assert.not.ok(onProperty('pro', { field: 'free' }));
  assert.not.ok(onProperty(3, { field: '3' }), 'no type coercion');
  assert.not.ok(onProperty(false, { field: 0 }));
  assert.not.ok(onProperty(null, { field: false }));
});

equality('arrays and plain objects match deeply, object key order ignored', () => {
  assert.ok(onProperty(['a', 'b'], { field: ['a', 'b'] }));
  assert.not.ok(onProperty(['a', 'b'], { field: ['b', 'a'] }), 'array order matters');
  assert.not.ok(onProperty(['a'], { field: ['a', 'b'] }));
  assert.ok(onProperty({ plan: 'pro', seats: [1, { x: 2 }] }, { field: { seats: [1, { x: 2 }], plan: 'pro' } }));
  assert.not.ok(onProperty({ plan: 'pro' }, { field: { plan: 'pro', seats: 2 } }), 'extra key');
  assert.not.ok(onProperty({ plan: 'pro' }, { field: 'pro' }));
});

equality('an object mixing $ and plain keys is a literal, not operators', () => {
  assert.ok(onProperty({ $gt: 1, plain: 2 }, { field: { $gt: 1, plain: 2 } }));
  assert.not.ok(onProperty({ $gt: 1, plain: 2 }, { field: 5 }));
});

equality('an empty object is a literal', () => {
  assert.ok(onProperty({}, { field: {} }));
  assert.not.ok(onProperty({}, { field: 1 }));
});

equality('all keys must match (AND), properties and traits alike', () => {
  const where = { properties: { a: 1, b: 2 }, traits: { plan: 'pro' } };
  assert.ok(matchesWhere(where, { properties: { a: 1, b: 2 }, traits: { plan: 'pro' } }));
  assert.not.ok(matchesWhere(where, { properties: { a: 1, b: 3 }, traits: { plan: 'pro' } }));
  assert.not.ok(matchesWhere(where, { properties: { a: 1, b: 2 }, traits: { plan: 'free' } }));
  assert.not.ok(matchesWhere(where, { properties: { a: 1, b: 2, plan: 'pro' }, traits: {} }), 'traits are not read from properties');
});

equality('an empty filter matches everything', () => {
  assert.ok(matchesWhere({}, { properties: {}, traits: {} }));
  assert.ok(matchesWhere({ properties: {}, traits: {} }, { properties: { a: 1 }, traits: {} }));
});

equality.run();

// ---
const operators = suite('matchesWhere: operators');

const table: Array<[string, JsonValue, JsonValue, boolean]> = [
  ['$in hit', { $in: ['pro', 'team'] }, 'team', true],
  ['$in miss', { $in: ['pro', 'team'] }, 'free', false],
  ['$in deep element', { $in: [{ a: 1 }] }, { a: 1 }, true],
  ['$in non-array operand', { $in: 'pro' }, 'pro', false],
  ['$nin hit', { $nin: ['free'] }, 'pro', true],
  ['$nin miss', { $nin: ['free'] }, 'free', false],
  ['$nin non-array operand', { $nin: 'free' }, 'pro', false],
  ['$ne different', { $ne: 'free' }, 'pro', true],
  ['$ne equal', { $ne: 'free' }, 'free', false],
  ['$ne deep equal', { $ne: [1, 2] }, [1, 2], false],
  ['$gt number above', { $gt: 10 }, 11, true],
  ['$gt number equal', { $gt: 10 }, 10, false],
  ['$gte number equal', { $gte: 10 }, 10, true],
  ['$gte number below', { $gte: 10 }, 9.5, false],
  ['$lt number below', { $lt: 10 }, 2, true],
  ['$lt numeric not lexical', { $lt: 10 }, 9, true],
  ['$lt number equal', { $lt: 10 }, 10, false],
  ['$lte number equal', { $lte: 10 }, 10, true],
  ['$lte number above', { $lte: 10 }, 11, false],
  ['$gt string lexical', { $gt: 'b' }, 'c', true],
  ['$gt string lexical miss', { $gt: 'b' }, 'a', false],
  ['$gte ISO date after', { $gte: '2024-01-01T00:00:00.000Z' }, '2024-06-01T12:00:00.000Z', true],
  ['$lt ISO date after', { $lt: '2024-01-01T00:00:00.000Z' }, '2024-06-01T12:00:00.000Z', false],
  ['$gt mixed number/string', { $gt: 1 }, '2', false],
  ['$lt mixed string/number', { $lt: 'z' }, 1, false],
  ['$gt null', { $gt: 0 }, null, false],
  ['$gt boolean', { $gt: 0 }, true, false],
  ['$exists true on present', { $exists: true }, 'x', true],
  ['$exists true on null', { $exists: true }, null, true],
  ['$exists false on present', { $exists: false }, 'x', false],
  ['$exists non-boolean operand', { $exists: 1 }, 'x', false],
  ['range (AND of operators) inside', { $gte: 18, $lt: 65 }, 30, true],
  ['range (AND of operators) outside', { $gte: 18, $lt: 65 }, 70, false],
  ['unknown operator fails closed', { $regex: '.*' }, 'anything', false],
  ['unknown operator with a valid one fails closed', { $regex: '.*', $exists: true }, 'x', false],
];

for (const [name, condition, value, expected] of table) {
  operators(name, () => {
    assert.is(onProperty(condition, { field: value }), expected);
  });
}

operators.run();

// ---
const missing = suite('matchesWhere: missing fields');

const missingTable: Array<[string, JsonValue, boolean]> = [
  ['equality', 'pro', false],
  ['equality with null', null, false],
  ['$exists: false', { $exists: false }, true],
  ['$exists: true', { $exists: true }, false],
  ['$ne', { $ne: 'pro' }, true],
  ['$nin', { $nin: ['pro'] }, true],
  ['$in', { $in: ['pro'] }, false],
  ['$gt', { $gt: 0 }, false],
  ['$gte', { $gte: 0 }, false],
  ['$lt', { $lt: 0 }, false],
  ['$lte', { $lte: 0 }, false],
];

for (const [name, condition, expected] of missingTable) {
  missing(`a missing field vs ${name}`, () => {
    assert.is(onProperty(condition, { other: 1 }), expected);
    assert.is(matchesWhere({ traits: { field: condition } }, { properties: { field: 'pro' }, traits: {} }), expected, 'traits missing while property exists');
  });
}

missing.run();

// ---
const paths = suite('matchesWhere: dotted paths');

paths('reach into nested objects', () => {
  const traits: JsonObject = { address: { country: 'FR', geo: { lat: 48.8 } } };
  assert.ok(matchesWhere({ traits: { 'address.country': 'FR' } }, { properties: {}, traits }));
  assert.not.ok(matchesWhere({ traits: { 'address.country': 'DE' } }, { properties: {}, traits }));
  assert.ok(matchesWhere({ traits: { 'address.geo.lat': { $gt: 40 } } }, { properties: {}, traits }));
  assert.ok(matchesWhere({ traits: { 'address.city': { $exists: false } } }, { properties: {}, traits }));
  assert.not.ok(matchesWhere({ traits: { 'address.country.code': { $exists: true } } }, { properties: {}, traits }), 'through a string');
});

paths('numeric segments index arrays', () => {
  const properties: JsonObject = { items: [{ sku: 'a' }, { sku: 'b' }] };
  assert.ok(matchesWhere({ properties: { 'items.1.sku': 'b' } }, props(properties)));
  assert.not.ok(matchesWhere({ properties: { 'items.2.sku': { $exists: true } } }, props(properties)));
  assert.not.ok(matchesWhere({ properties: { 'items.first.sku': { $exists: true } } }, props(properties)));
});

paths('a literal dotted key wins over the nested path', () => {
  const properties: JsonObject = { 'a.b': 1, a: { b: 2 } };
  assert.is(lookupPath(properties, 'a.b'), 1);
  assert.ok(matchesWhere({ properties: { 'a.b': 1 } }, props(properties)));
  assert.is(lookupPath({ a: { b: 2 } }, 'a.b'), 2);
});

paths('inherited names are not fields', () => {
  assert.is(lookupPath({}, 'constructor'), undefined);
  assert.is(lookupPath({ a: {} }, 'a.toString'), undefined);
  assert.ok(matchesWhere({ properties: { constructor: { $exists: false } } }, props({})));
});

paths.run();

// ---
const equal = suite('deepEqual');

equal('compares JSON structurally', () => {
  assert.ok(deepEqual({ a: [1, { b: null }] }, { a: [1, { b: null }] }));
  assert.not.ok(deepEqual({ a: 1 }, { b: 1 }));
  assert.not.ok(deepEqual([1], { 0: 1 }));
  assert.ok(deepEqual({ a: 1, b: 2 }, { b: 2, a: 1 }));
  assert.not.ok(deepEqual({ a: 1, b: 2 }, { a: 1, c: 2 }));
});

equal.run();
