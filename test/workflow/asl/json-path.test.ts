// JSONPath reading (definite and indefinite paths, filters, functions, `$$`, variables) and
// reference-path writing (ResultPath).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  isReferencePath,
  isValidPath,
  readPath,
  writeReferencePath,
} from '../../../src/workflow/asl/json-path.js';
import type { Json } from '../../../src/workflow/asl/asl-types.js';

const store: Json = {
  store: {
    book: [
      { category: 'reference', author: 'Nigel Rees', title: 'Sayings of the Century', price: 8.95 },
      { category: 'fiction', author: 'Evelyn Waugh', title: 'Sword of Honour', price: 12.99 },
      {
        category: 'fiction',
        author: 'Herman Melville',
        title: 'Moby Dick',
        isbn: '0-553-21311-3',
        price: 8.99,
      },
      {
        category: 'fiction',
        author: 'J. R. R. Tolkien',
        title: 'The Lord of the Rings',
        isbn: '0-395-19395-8',
        price: 22.99,
      },
    ],
    bicycle: { color: 'red', price: 19.95 },
  },
  'odd key': { 'a.b': 1 },
};

const cases: Array<[string, Json | undefined]> = [
  ['$', store],
  ['$.store.bicycle.color', 'red'],
  ["$['store']['bicycle']['price']", 19.95],
  ['$.store.book[0].title', 'Sayings of the Century'],
  ['$.store.book[-1].author', 'J. R. R. Tolkien'],
  ['$.store.book[*].author', ['Nigel Rees', 'Evelyn Waugh', 'Herman Melville', 'J. R. R. Tolkien']],
  ['$..author', ['Nigel Rees', 'Evelyn Waugh', 'Herman Melville', 'J. R. R. Tolkien']],
  ['$.store.book[0,1].price', [8.95, 12.99]],
  ['$.store.book[:2].price', [8.95, 12.99]],
  ['$.store.book[2:].price', [8.99, 22.99]],
  ['$.store.book[-1:].price', [22.99]],
  ['$.store.book[?(@.isbn)].title', ['Moby Dick', 'The Lord of the Rings']],
  ['$.store.book[?(@.price < 10)].title', ['Sayings of the Century', 'Moby Dick']],
  ["$.store.book[?(@.category == 'fiction' && @.price > 20)].title", ['The Lord of the Rings']],
  ['$.store.book[?(@.author =~ /.*Rees/)].price', [8.95]],
  ['$.store.book.length()', 4],
  ["$['odd key']['a.b']", 1],
  ['$.store.missing', undefined],
  ['$.store.book[10]', undefined],
];

for (const [path, expected] of cases) {
  test(`readPath ${path}`, () => {
    const r = readPath(path, { input: store });
    if (expected === undefined) assert.equal(r.found, false);
    else assert.deepEqual(r, { found: true, value: expected });
  });
}

test('$$ reads the context object and $name a variable', () => {
  const roots = {
    input: {},
    context: { Execution: { Id: 'x' }, Map: { Item: { Index: 2 } } },
    variables: { total: { n: 3 } },
  };
  assert.deepEqual(readPath('$$.Execution.Id', roots), { found: true, value: 'x' });
  assert.deepEqual(readPath('$$.Map.Item.Index', roots), { found: true, value: 2 });
  assert.deepEqual(readPath('$total.n', roots), { found: true, value: 3 });
  assert.equal(readPath('$missing', roots).found, false);
});

test('path syntax: valid and invalid paths, reference paths', () => {
  for (const ok of [
    '$',
    '$.a',
    '$.a[0]',
    "$['a b']",
    '$..x',
    '$.a[*].b',
    '$$.Task.Token',
    '$var.x',
    '$.a[?(@.b > 1)]',
  ])
    assert.ok(isValidPath(ok), ok);
  for (const bad of ['a.b', '$.', '$[', '$.a[', '$.a..', '', '$.a.foo()', '$.a[?(@.b >)]'])
    assert.equal(isValidPath(bad), false, bad);
  for (const ok of ['$', '$.a', '$.a.b', "$['a']", '$.a[0]']) assert.ok(isReferencePath(ok), ok);
  for (const bad of ['$.a[*]', '$..a', '$.a[0:1]', '$$.Execution', '$.a[?(@.x)]', '$.a.length()', '$v.a'])
    assert.equal(isReferencePath(bad), false, bad);
});

test('writeReferencePath creates objects on the way and refuses to cross a scalar', () => {
  assert.deepEqual(writeReferencePath({ a: 1 }, '$.b.c', 2), { a: 1, b: { c: 2 } });
  assert.deepEqual(writeReferencePath({ a: [1, 2] }, '$.a[1]', 9), { a: [1, 9] });
  assert.deepEqual(writeReferencePath({ a: 1 }, '$', 'x'), 'x');
  assert.equal(writeReferencePath({ a: 'text' }, '$.a.b', 1), undefined);
  assert.equal(writeReferencePath('scalar', '$.a', 1), undefined);
  const original = { a: { b: 1 } };
  writeReferencePath(original, '$.a.c', 2);
  assert.deepEqual(original, { a: { b: 1 } }, 'the input is not mutated');
});
