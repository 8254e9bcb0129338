// The 18 intrinsic functions, table-driven from AWS's documented examples, plus argument rules.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { evaluateIntrinsic } from '../../../src/workflow/asl/intrinsic-functions.js';
import { parseIntrinsic } from '../../../src/workflow/asl/intrinsic-parser.js';
import { StatesError } from '../../../src/workflow/asl/states-errors.js';
import type { Json } from '../../../src/workflow/asl/asl-types.js';
import { FIXED_ENV } from './run-machine.js';

const input: Json = {
  name: 'Arnav',
  escapedJsonString: '{"foo": "bar"}',
  unescapedJson: { foo: 'bar' },
  someJson: { random: 'abcdefg' },
  inputArray: [1, 2, 3, 4, 5, 6, 7, 8, 9],
  dupes: [1, 2, 3, 3, 3, 3, 3, 3, 4],
  lookingFor: 5,
  index: 5,
  toEncode: 'Data to encode',
  toDecode: 'RGF0YSB0byBlbmNvZGU=',
  Data: 'input data',
  Algorithm: 'SHA-1',
  json1: { a: { a1: 1, a2: 2 }, b: 2 },
  json2: { a: { a3: 1, a4: 2 }, c: 3 },
  value1: 111,
  step: -1,
  inputString: '1,2,3,4,5',
  splitter: ',',
  tricky: 'This.is+a,test=string',
};

const examples: Array<[string, Json]> = [
  ["States.Format('Hello, my name is {}.', $.name)", 'Hello, my name is Arnav.'],
  ["States.Format('{} has {} items, {}', $.name, 3, true)", 'Arnav has 3 items, true'],
  ["States.Format('literal \\{\\} and \\'quotes\\' for {}', $.name)", "literal {} and 'quotes' for Arnav"],
  ['States.StringToJson($.escapedJsonString)', { foo: 'bar' }],
  ['States.JsonToString($.unescapedJson)', '{"foo":"bar"}'],
  ["States.Array('Foo', 2020, $.someJson, null)", ['Foo', 2020, { random: 'abcdefg' }, null]],
  ['States.ArrayPartition($.inputArray, 4)', [[1, 2, 3, 4], [5, 6, 7, 8], [9]]],
  ['States.ArrayContains($.inputArray, $.lookingFor)', true],
  ['States.ArrayContains($.inputArray, 42)', false],
  ['States.ArrayRange(1, 9, 2)', [1, 3, 5, 7, 9]],
  ['States.ArrayRange(5, 1, -2)', [5, 3, 1]],
  ['States.ArrayGetItem($.inputArray, $.index)', 6],
  ['States.ArrayLength($.inputArray)', 9],
  ['States.ArrayUnique($.dupes)', [1, 2, 3, 4]],
  ['States.Base64Encode($.toEncode)', 'RGF0YSB0byBlbmNvZGU='],
  ['States.Base64Decode($.toDecode)', 'Data to encode'],
  ['States.Hash($.Data, $.Algorithm)', 'aaff4a450a104cd177d28d18d74485e8cae074b7'],
  ["States.Hash('input data', 'MD5')", '812f45842bc6d66ee14572ce20db8e86'],
  [
    "States.Hash('input data', 'SHA-256')",
    'b4a697a057313163aee33cd8d40c66e9f0f177e00cac2de32475ffff6169c3e3',
  ],
  ['States.JsonMerge($.json1, $.json2, false)', { a: { a3: 1, a4: 2 }, b: 2, c: 3 }],
  ['States.MathAdd($.value1, $.step)', 110],
  ['States.StringSplit($.inputString, $.splitter)', ['1', '2', '3', '4', '5']],
  ["States.StringSplit($.tricky, '.+,=')", ['This', 'is', 'a', 'test', 'string']],
  ['States.UUID()', '00000000-0000-4000-8000-000000000000'],
  ['States.ArrayLength(States.Array(1, 2, States.MathAdd(1, 2)))', 3],
  ["States.Format('{}', $$.Execution.Name)", 'run-1'],
];

for (const [expr, expected] of examples) {
  test(expr, () => {
    assert.deepEqual(
      evaluateIntrinsic(expr, { input, context: { Execution: { Name: 'run-1' } } }, FIXED_ENV),
      expected,
    );
  });
}

test('States.MathRandom stays in [start, end) and is repeatable with a seed', () => {
  for (let i = 0; i < 50; i++) {
    const v = evaluateIntrinsic('States.MathRandom(1, 999)', { input }) as number;
    assert.ok(Number.isInteger(v) && v >= 1 && v < 999, String(v));
  }
  const a = evaluateIntrinsic('States.MathRandom(1, 1000, 7)', { input });
  assert.equal(evaluateIntrinsic('States.MathRandom(1, 1000, 7)', { input }), a);
});

const failures: Array<[string, string]> = [
  ["States.Format('{} {}', $.name)", 'States.IntrinsicFailure'],
  ["States.Format('{}', $.someJson)", 'States.IntrinsicFailure'],
  ["States.StringToJson('not json')", 'States.IntrinsicFailure'],
  ['States.ArrayPartition($.inputArray, 0)', 'States.IntrinsicFailure'],
  ['States.ArrayRange(1, 2000, 1)', 'States.IntrinsicFailure'],
  ['States.ArrayRange(1, 9, 0)', 'States.IntrinsicFailure'],
  ['States.ArrayGetItem($.inputArray, 9)', 'States.IntrinsicFailure'],
  ['States.ArrayLength($.name)', 'States.IntrinsicFailure'],
  ["States.Hash('x', 'SHA-3')", 'States.IntrinsicFailure'],
  ['States.JsonMerge($.json1, $.json2, true)', 'States.IntrinsicFailure'],
  ['States.MathRandom(5, 1)', 'States.IntrinsicFailure'],
  ["States.MathAdd('1', 2)", 'States.IntrinsicFailure'],
  ["States.Base64Decode('%%%')", 'States.IntrinsicFailure'],
  ['States.ArrayLength($.missing)', 'States.Runtime'],
];
for (const [expr, error] of failures) {
  test(`${expr} fails with ${error}`, () => {
    assert.throws(
      () => evaluateIntrinsic(expr, { input }),
      (err: unknown) => err instanceof StatesError && err.error === error,
    );
  });
}

test('the parser rejects unknown functions, bad arity, bad escapes and trailing text', () => {
  for (const bad of [
    'States.Nope(1)',
    'States.UUID(1)',
    'States.ArrayGetItem($.a)',
    "States.Format('\\n')",
    "States.Format('x') extra",
    'States.Format(',
    'Format(1)',
    "States.Format('unterminated)",
  ]) {
    assert.throws(() => parseIntrinsic(bad), /invalid intrinsic function/, bad);
  }
});
