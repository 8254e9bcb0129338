// Filter policies: every operator on both scopes, and the errors invalid policies get.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { installLeakGuard } from '../../helpers/leak-guard.js';
import { NimbusError } from '../../../src/errors.js';
import {
  compileFilterPolicy,
  parseFilterPolicyScope,
  type FilterAttribute,
} from '../../../src/services/topics/filter-policy.js';

installLeakGuard();

const str = (v: string): FilterAttribute => ({ DataType: 'String', StringValue: v });
const num = (v: number | string): FilterAttribute => ({ DataType: 'Number', StringValue: String(v) });
const arr = (v: unknown[]): FilterAttribute => ({ DataType: 'String.Array', StringValue: JSON.stringify(v) });

function attrs(policy: unknown, attributes: Record<string, FilterAttribute>): boolean {
  return compileFilterPolicy(policy, 'MessageAttributes').matches({ attributes, message: 'x' });
}
function body(policy: unknown, message: unknown): boolean {
  return compileFilterPolicy(policy, 'MessageBody').matches({
    attributes: {},
    message: typeof message === 'string' ? message : JSON.stringify(message),
  });
}
function rejects(
  policy: unknown,
  pattern: RegExp,
  scope: 'MessageAttributes' | 'MessageBody' = 'MessageAttributes',
) {
  assert.throws(
    () => compileFilterPolicy(policy, scope, 'filterPolicy'),
    (err: unknown) => {
      assert.ok(err instanceof NimbusError);
      assert.equal(err.code, 'InvalidParameterValueException');
      assert.match(err.message, pattern);
      return true;
    },
  );
}

describe('MessageAttributes scope', () => {
  test('exact strings; a list is OR', () => {
    const p = { color: ['red', 'blue'] };
    assert.equal(attrs(p, { color: str('red') }), true);
    assert.equal(attrs(p, { color: str('blue') }), true);
    assert.equal(attrs(p, { color: str('green') }), false);
    assert.equal(attrs(p, {}), false, 'a missing attribute does not match');
    assert.equal(
      attrs({ color: 'red' }, { color: str('red') }),
      true,
      'a single value is a one-element list',
    );
  });

  test('exact numbers match Number attributes numerically, not strings', () => {
    assert.equal(attrs({ price: [301.5] }, { price: num('3.015e2') }), true);
    assert.equal(attrs({ price: [100] }, { price: str('100') }), false);
    assert.equal(attrs({ price: ['100'] }, { price: num(100) }), false);
  });

  test('keys are AND-ed; attributes not named are ignored', () => {
    const p = { color: ['red'], size: ['L'] };
    assert.equal(attrs(p, { color: str('red'), size: str('L'), other: str('x') }), true);
    assert.equal(attrs(p, { color: str('red') }), false);
    assert.equal(attrs(p, { color: str('red'), size: str('M') }), false);
  });

  test('prefix, suffix, equals-ignore-case', () => {
    assert.equal(attrs({ c: [{ prefix: 'bl' }] }, { c: str('blue') }), true);
    assert.equal(attrs({ c: [{ prefix: 'bl' }] }, { c: str('red') }), false);
    assert.equal(attrs({ c: { prefix: 'bl' } }, { c: str('black') }), true, 'bare operator object');
    assert.equal(attrs({ f: [{ suffix: '.jpg' }] }, { f: str('a.jpg') }), true);
    assert.equal(attrs({ f: [{ suffix: '.jpg' }] }, { f: str('a.png') }), false);
    assert.equal(attrs({ c: [{ 'equals-ignore-case': 'RED' }] }, { c: str('Red') }), true);
    assert.equal(attrs({ c: [{ prefix: 'bl' }] }, { c: num(1) }), false);
  });

  test('anything-but: value, list, prefix, suffix; never a missing attribute', () => {
    assert.equal(attrs({ s: [{ 'anything-but': 'small' }] }, { s: str('large') }), true);
    assert.equal(attrs({ s: [{ 'anything-but': 'small' }] }, { s: str('small') }), false);
    assert.equal(attrs({ s: [{ 'anything-but': ['small', 'medium'] }] }, { s: str('medium') }), false);
    assert.equal(attrs({ s: [{ 'anything-but': ['small', 'medium'] }] }, { s: str('huge') }), true);
    assert.equal(attrs({ p: [{ 'anything-but': [100, 500] }] }, { p: num(100) }), false);
    assert.equal(attrs({ p: [{ 'anything-but': [100, 500] }] }, { p: num(100.1) }), true);
    assert.equal(attrs({ e: [{ 'anything-but': { prefix: 'order-' } }] }, { e: str('order-1') }), false);
    assert.equal(attrs({ e: [{ 'anything-but': { prefix: 'order-' } }] }, { e: str('user-1') }), true);
    assert.equal(attrs({ e: [{ 'anything-but': { suffix: '.tmp' } }] }, { e: str('a.tmp') }), false);
    assert.equal(attrs({ s: [{ 'anything-but': 'small' }] }, {}), false);
  });

  test('numeric: =, one-sided and ranges', () => {
    const range = { p: [{ numeric: ['>', 0, '<=', 100] }] };
    assert.equal(attrs(range, { p: num(0) }), false);
    assert.equal(attrs(range, { p: num(0.5) }), true);
    assert.equal(attrs(range, { p: num(100) }), true);
    assert.equal(attrs(range, { p: num(100.01) }), false);
    assert.equal(attrs({ p: [{ numeric: ['>=', 0, '<', 1] }] }, { p: num(0) }), true);
    assert.equal(attrs({ p: [{ numeric: ['>=', 0, '<', 1] }] }, { p: num(1) }), false);
    assert.equal(attrs({ p: [{ numeric: ['=', 5] }] }, { p: num('5.0') }), true);
    assert.equal(attrs({ p: [{ numeric: ['=', 5] }] }, { p: num(6) }), false);
    assert.equal(attrs({ p: [{ numeric: ['<', 0] }] }, { p: num(-1) }), true);
    assert.equal(attrs({ p: [{ numeric: ['>=', 10] }] }, { p: num(10) }), true);
    assert.equal(attrs({ p: [{ numeric: ['>', 10] }] }, { p: num(10) }), false);
    assert.equal(
      attrs({ p: [{ numeric: ['>', 0] }] }, { p: str('5') }),
      false,
      'String attributes are not numbers',
    );
  });

  test('exists true and false', () => {
    assert.equal(attrs({ store: [{ exists: true }] }, { store: str('x') }), true);
    assert.equal(attrs({ store: [{ exists: true }] }, {}), false);
    assert.equal(attrs({ store: [{ exists: false }] }, {}), true);
    assert.equal(attrs({ store: [{ exists: false }] }, { store: str('x') }), false);
    assert.equal(
      attrs({ store: [{ exists: true }] }, { store: { DataType: 'Binary', BinaryValue: 'AA==' } }),
      true,
      'a Binary attribute exists though its value is not matched',
    );
  });

  test('String.Array attributes match when any element does', () => {
    assert.equal(attrs({ tags: ['b'] }, { tags: arr(['a', 'b']) }), true);
    assert.equal(attrs({ tags: ['c'] }, { tags: arr(['a', 'b']) }), false);
    assert.equal(attrs({ n: [{ numeric: ['>', 5] }] }, { n: arr([1, 9]) }), true);
    assert.equal(attrs({ tags: [{ 'anything-but': 'a' }] }, { tags: arr(['a', 'b']) }), true);
  });

  test('a list mixes operators (OR)', () => {
    const p = { color: ['red', { prefix: 'bl' }, { numeric: ['=', 1] }] };
    assert.equal(attrs(p, { color: str('red') }), true);
    assert.equal(attrs(p, { color: str('black') }), true);
    assert.equal(attrs(p, { color: num(1) }), true);
    assert.equal(attrs(p, { color: str('green') }), false);
  });

  test('$or of alternatives', () => {
    const p = { source: ['shop'], $or: [{ price: [{ numeric: ['>', 100] }] }, { vip: ['yes'] }] };
    assert.equal(attrs(p, { source: str('shop'), price: num(150) }), true);
    assert.equal(attrs(p, { source: str('shop'), vip: str('yes') }), true);
    assert.equal(attrs(p, { source: str('shop'), price: num(50) }), false);
    assert.equal(attrs(p, { source: str('web'), vip: str('yes') }), false);
  });
});

describe('MessageBody scope', () => {
  test('nested keys, arrays in the body, and operators', () => {
    const p = { order: { status: ['paid'], total: [{ numeric: ['>=', 10] }] }, tags: [{ prefix: 'vip' }] };
    assert.equal(body(p, { order: { status: 'paid', total: 12 }, tags: ['new', 'vip-gold'] }), true);
    assert.equal(body(p, { order: { status: 'paid', total: 5 }, tags: ['vip'] }), false);
    assert.equal(body(p, { order: { status: 'open', total: 12 }, tags: ['vip'] }), false);
    assert.equal(
      body(p, {
        order: [
          { status: 'open', total: 1 },
          { status: 'paid', total: 99 },
        ],
        tags: 'vip',
      }),
      true,
    );
  });

  test('booleans, null and exists in bodies', () => {
    assert.equal(body({ ok: [true] }, { ok: true }), true);
    assert.equal(body({ ok: [true] }, { ok: false }), false);
    assert.equal(body({ v: [null] }, { v: null }), true);
    assert.equal(body({ a: { b: [{ exists: false }] } }, {}), true);
    assert.equal(body({ a: { b: [{ exists: true }] } }, { a: { b: 1 } }), true);
    assert.equal(body({ a: { b: [{ exists: true }] } }, { a: {} }), false);
  });

  test('a body that is not a JSON object matches nothing', () => {
    assert.equal(body({ a: ['x'] }, 'plain text'), false);
    assert.equal(body({ a: ['x'] }, '[1,2]'), false);
    assert.equal(body({ a: [{ exists: false }] }, 'plain text'), false);
  });

  test('numbers in bodies compare numerically; strings do not', () => {
    assert.equal(body({ price: [301.5] }, '{"price": 3.015e2}'), true);
    assert.equal(body({ price: [{ numeric: ['>', 1] }] }, { price: '5' }), false);
  });
});

describe('invalid policies', () => {
  test('not an object, empty, empty list', () => {
    rejects('color', /filterPolicy: a filter policy is a JSON object/);
    rejects([], /filterPolicy: a filter policy is a JSON object/);
    rejects({}, /filterPolicy: an empty policy object/);
    rejects({ color: [] }, /filterPolicy\.color: an empty list matches nothing/);
  });

  test('unknown operators and bad operands name the path', () => {
    rejects({ color: [{ startsWith: 'a' }] }, /filterPolicy\.color\[0\]: unknown operator "startsWith"/);
    rejects({ color: [{ prefix: 1 }] }, /filterPolicy\.color\[0\]\.prefix: prefix takes a non-empty string/);
    rejects({ color: [{ prefix: 'a', suffix: 'b' }] }, /exactly one key/);
    rejects({ s: [{ exists: 'yes' }] }, /exists takes true or false/);
    rejects({ s: [{ 'anything-but': [] }] }, /anything-but needs at least one value/);
    rejects({ s: [{ 'anything-but': [{ a: 1 }] }] }, /anything-but values are strings or numbers/);
    rejects({ s: [{ 'anything-but': { contains: 'x' } }] }, /anything-but takes a value/);
    rejects({ s: [{ a: 1 }, []] }, /filterPolicy\.s\[0\]: unknown operator/);
  });

  test('numeric: operators, numbers, ranges', () => {
    rejects({ p: [{ numeric: ['>'] }] }, /numeric must be an operator and a number/);
    rejects(
      { p: [{ numeric: ['~', 1] }] },
      /filterPolicy\.p\[0\]\.numeric\[0\]: unknown numeric operator "~"/,
    );
    rejects({ p: [{ numeric: ['>', '1'] }] }, /numeric needs a number after ">" \(unquoted\)/);
    rejects({ p: [{ numeric: ['<', 10, '>', 0] }] }, /lower bound \(> or >=\) then an upper bound/);
    rejects({ p: [{ numeric: ['>', 10, '<', 0] }] }, /the lower bound 10 must be below the upper bound 0/);
    rejects({ p: [{ numeric: ['=', 1, '<', 5] }] }, /lower bound/);
  });

  test('nested keys need the MessageBody scope; booleans too', () => {
    rejects({ a: { b: ['x'] } }, /filterPolicy\.a: nested keys need filterPolicyScope: MessageBody/);
    rejects({ a: [true] }, /only matches JSON bodies/);
    assert.doesNotThrow(() => compileFilterPolicy({ a: { b: ['x'] } }, 'MessageBody'));
  });

  test('$or shape, combinations and depth', () => {
    rejects({ $or: [{ a: ['x'] }] }, /\$or takes a list of at least two policy objects/);
    const many = Array.from({ length: 13 }, (_, i) => `v${i}`);
    rejects({ a: many, b: many }, /too many value combinations/);
    rejects({ a: { b: { c: { d: { e: { f: ['x'] } } } } } }, /nesting is limited to 5 levels/, 'MessageBody');
  });

  test('scope parsing', () => {
    assert.equal(parseFilterPolicyScope(undefined), 'MessageAttributes');
    assert.equal(parseFilterPolicyScope('MessageBody'), 'MessageBody');
    assert.throws(
      () => parseFilterPolicyScope('Body', 'x.filterPolicyScope'),
      /x\.filterPolicyScope: must be MessageAttributes/,
    );
  });
});
