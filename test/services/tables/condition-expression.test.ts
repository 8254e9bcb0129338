// Unit tests of the condition expression parser/evaluator, the key encodings and the update syntax.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { conditionHolds, parseCondition } from '../../../src/services/tables/condition-expression.js';
import { applyUpdate, compileUpdate } from '../../../src/services/tables/item-update.js';
import { decodeNumber, encodeNumber, prefixSuccessor } from '../../../src/services/tables/key-encoding.js';
import { installLeakGuard } from '../../helpers/leak-guard.js';

installLeakGuard();

const item = { id: 'a1', n: 5, s: 'hello', tags: ['x', 'y'], m: { deep: { v: 2 } }, flag: true, nil: null };
const holds = (expr: string, values: Record<string, unknown> = {}, names: Record<string, string> = {}) =>
  conditionHolds(expr, { values, names }, item);

test('comparisons on numbers and strings', () => {
  assert.equal(holds('n = :v', { ':v': 5 }), true);
  assert.equal(holds('n <> :v', { ':v': 5 }), false);
  assert.equal(holds('n < :v', { ':v': 6 }), true);
  assert.equal(holds('n <= :v', { ':v': 5 }), true);
  assert.equal(holds('n > :v', { ':v': 5 }), false);
  assert.equal(holds('n >= :v', { ':v': 5 }), true);
  assert.equal(holds('s < :v', { ':v': 'world' }), true);
  // A type mismatch is false for ordering, and a missing attribute is <> anything.
  assert.equal(holds('n < :v', { ':v': 'x' }), false);
  assert.equal(holds('missing <> :v', { ':v': 1 }), true);
  assert.equal(holds('missing = :v', { ':v': 1 }), false);
  assert.equal(holds('m = :v', { ':v': { deep: { v: 2 } } }), true);
});

test('functions, BETWEEN, IN, size, nested paths and #names', () => {
  assert.equal(holds('attribute_exists(id)'), true);
  assert.equal(holds('attribute_not_exists(id)'), false);
  assert.equal(holds('attribute_not_exists(nope)'), true);
  assert.equal(holds('attribute_exists(nil)'), true);
  assert.equal(holds('begins_with(s, :p)', { ':p': 'he' }), true);
  assert.equal(holds('begins_with(s, :p)', { ':p': 'lo' }), false);
  assert.equal(holds('contains(tags, :t)', { ':t': 'y' }), true);
  assert.equal(holds('contains(s, :t)', { ':t': 'ell' }), true);
  assert.equal(holds('n BETWEEN :a AND :b', { ':a': 1, ':b': 5 }), true);
  assert.equal(holds('n between :a and :b', { ':a': 6, ':b': 9 }), false);
  assert.equal(holds('n IN (:a, :b)', { ':a': 1, ':b': 5 }), true);
  assert.equal(holds('size(tags) = :two', { ':two': 2 }), true);
  assert.equal(holds('m.deep.v = :v', { ':v': 2 }), true);
  assert.equal(holds('tags[1] = :v', { ':v': 'y' }), true);
  assert.equal(holds('#k = :v', { ':v': 'a1' }, { '#k': 'id' }), true);
  assert.equal(holds('attribute_type(flag, :t)', { ':t': 'BOOL' }), true);
});

test('AND, OR, NOT and parentheses with the usual precedence', () => {
  assert.equal(holds('n = :five OR n = :six AND flag = :f', { ':five': 5, ':six': 6, ':f': false }), true);
  assert.equal(holds('(n = :five OR n = :six) AND flag = :f', { ':five': 5, ':six': 6, ':f': false }), false);
  assert.equal(holds('NOT attribute_exists(nope)'), true);
  assert.equal(holds('NOT (n = :v AND s = :s)', { ':v': 5, ':s': 'hello' }), false);
  assert.equal(conditionHolds('attribute_not_exists(id)', {}, undefined), true);
});

test('syntax errors and unknown or unused placeholders are ValidationExceptions', () => {
  const bad = (
    expr: string,
    values: Record<string, unknown> = {},
    names: Record<string, string> = {},
    re?: RegExp,
  ) =>
    assert.throws(
      () => parseCondition(expr, { values, names }),
      (err: Error & { code?: string }) => {
        assert.equal(err.code, 'ValidationException');
        if (re) assert.match(err.message, re);
        return true;
      },
    );
  bad('n = ', {}, {}, /operand/);
  bad('n = :v', {}, {}, /:v is not in values/);
  bad('#x = :v', { ':v': 1 }, {}, /#x is not in names/);
  bad('n = :v', { ':v': 1, ':w': 2 }, {}, /:w is not used/);
  bad('(n = :v', { ':v': 1 }, {}, /expected '\)'/);
  bad('n == :v', { ':v': 1 });
  bad('n = :v extra', { ':v': 1 }, {}, /unexpected 'extra'/);
  bad('n ! :v', { ':v': 1 });
});

test('number encoding sorts numerically as text', () => {
  const numbers = [-1e300, -12.5, -2, -1, -0.001, 0, 1e-9, 0.5, 1, 2, 10, 12.5, 100, 1e300];
  const encoded = numbers.map(encodeNumber);
  assert.deepEqual([...encoded].sort(), encoded);
  for (const n of numbers) assert.equal(decodeNumber(encodeNumber(n)), n);
  assert.equal(encodeNumber(-0), encodeNumber(0));
});

test('prefix successor bounds begins_with', () => {
  assert.equal(prefixSuccessor('ab'), 'ac');
  assert.equal(prefixSuccessor('a\u{10FFFF}'), 'b');
  assert.equal(prefixSuccessor('\u{10FFFF}'), undefined);
});

test('update syntax: set, remove, add; keys cannot change', () => {
  const u = compileUpdate(
    { set: { 'm.deep.w': 3, name: 'x' }, remove: ['tags[0]', 'flag'], add: { n: 2, count: 1 } },
    ['id'],
    't',
  );
  const next = applyUpdate(item, u);
  assert.deepEqual(next, {
    id: 'a1',
    n: 7,
    s: 'hello',
    tags: ['y'],
    m: { deep: { v: 2, w: 3 } },
    nil: null,
    name: 'x',
    count: 1,
  });
  assert.equal(item.n, 5, 'the original is not changed');
  assert.throws(() => compileUpdate({ set: { id: 'b' } }, ['id'], 't'), /key attribute of table 't'/);
  assert.throws(() => applyUpdate(item, compileUpdate({ add: { s: 1 } }, ['id'], 't')), /not a number/);
  assert.throws(
    () => applyUpdate(item, compileUpdate({ set: { 'no.such': 1 } }, ['id'], 't')),
    /missing map/,
  );
});
