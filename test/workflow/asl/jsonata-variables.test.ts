// JSONata states ($states, Arguments, Output, Condition, Items, AWS functions) and variables
// (Assign in both languages, values from state entry, inner scopes read outer ones).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { evaluateJsonata } from '../../../src/workflow/asl/jsonata-eval.js';
import { runDefinition, FIXED_ENV } from './run-machine.js';

const FN = 'arn:aws:lambda:us-east-1:123456789012:function:price';

test('JSONata Task: Arguments, $states.result in Output and Assign, variables in later states', async () => {
  const def = {
    QueryLanguage: 'JSONata',
    StartAt: 'Price',
    States: {
      Price: {
        Type: 'Task',
        Resource: FN,
        Arguments: {
          sku: '{% $states.input.sku %}',
          qty: '{% $states.input.qty * 2 %}',
          exec: '{% $states.context.Execution.Name %}',
        },
        Assign: { total: '{% $states.result.price * $states.input.qty %}' },
        Output: { price: '{% $states.result.price %}' },
        Next: 'Report',
      },
      Report: {
        Type: 'Pass',
        Output: { total: '{% $total %}', price: '{% $states.input.price %}' },
        End: true,
      },
    },
  };
  const r = await runDefinition(def, { sku: 'A1', qty: 3 }, { [FN]: () => ({ price: 10 }) });
  assert.equal(r.status, 'SUCCEEDED', r.cause);
  assert.deepEqual(r.tasks[0]!.parameters, { sku: 'A1', qty: 6, exec: 'run-1' });
  assert.deepEqual(r.output, { total: 30, price: 10 });
});

test('JSONata Choice: Condition, rule-level Output, Default', async () => {
  const def = {
    QueryLanguage: 'JSONata',
    StartAt: 'C',
    States: {
      C: {
        Type: 'Choice',
        Choices: [{ Condition: '{% $states.input.n > 10 %}', Output: { big: true }, Next: 'Done' }],
        Default: 'Small',
      },
      Small: { Type: 'Pass', Output: { big: false }, End: true },
      Done: { Type: 'Succeed' },
    },
  };
  assert.deepEqual((await runDefinition(def, { n: 11 })).output, { big: true });
  assert.deepEqual((await runDefinition(def, { n: 1 })).output, { big: false });
});

test('JSONata Map over Items with ItemSelector and $states.context.Map.Item', async () => {
  const def = {
    QueryLanguage: 'JSONata',
    StartAt: 'M',
    States: {
      M: {
        Type: 'Map',
        Items: '{% $states.input.xs %}',
        ItemSelector: {
          v: '{% $states.context.Map.Item.Value %}',
          i: '{% $states.context.Map.Item.Index %}',
        },
        ItemProcessor: {
          StartAt: 'Sq',
          States: {
            Sq: {
              Type: 'Pass',
              Output: '{% $states.input.v * $states.input.v + $states.input.i %}',
              End: true,
            },
          },
        },
        End: true,
      },
    },
  };
  assert.deepEqual((await runDefinition(def, { xs: [1, 2, 3] })).output, [1, 5, 11]);
});

test('JSONata errors are States.QueryEvaluationError and can be caught', async () => {
  const def = {
    QueryLanguage: 'JSONata',
    StartAt: 'T',
    States: {
      T: {
        Type: 'Task',
        Resource: FN,
        Arguments: '{% $parse("not json") %}',
        Catch: [
          {
            ErrorEquals: ['States.QueryEvaluationError'],
            Output: '{% $states.errorOutput.Error %}',
            Next: 'Caught',
          },
        ],
        End: true,
      },
      Caught: { Type: 'Pass', End: true },
    },
  };
  const r = await runDefinition(def, {});
  assert.equal(r.output, 'States.QueryEvaluationError');
  const undefinedOutput = await runDefinition(
    {
      QueryLanguage: 'JSONata',
      StartAt: 'P',
      States: { P: { Type: 'Pass', Output: '{% $states.input.nope %}', End: true } },
    },
    {},
  );
  assert.equal(undefinedOutput.error, 'States.QueryEvaluationError');
});

test('AWS JSONata functions: $partition, $range, $hash, $random, $uuid, $parse', async () => {
  const scope = { states: { input: {}, context: {} }, variables: {} };
  const ev = (src: string) => evaluateJsonata(src, 'test', scope, FIXED_ENV);
  assert.deepEqual(await ev('$partition([1,2,3,4,5], 2)'), [[1, 2], [3, 4], [5]]);
  assert.deepEqual(await ev('$range(0, 10, 2)'), [0, 2, 4, 6, 8, 10]);
  assert.equal(await ev('$hash("input data", "SHA-1")'), 'aaff4a450a104cd177d28d18d74485e8cae074b7');
  assert.equal(await ev('$random()'), 0.5);
  assert.equal(await ev('$random(3)'), await ev('$random(3)'));
  assert.equal(await ev('$uuid()'), '00000000-0000-4000-8000-000000000000');
  assert.deepEqual(await ev('$parse(\'{"a":[1]}\')'), { a: [1] });
  await assert.rejects(ev('$partition("x", 2)'), /QueryEvaluationError|partition/);
});

test('JSONPath Assign: $ is the result, values are read from state entry, variables via $name', async () => {
  const def = {
    StartAt: 'A',
    States: {
      A: { Type: 'Pass', Result: { n: 1 }, Assign: { 'count.$': '$.n', label: 'first' }, Next: 'B' },
      B: { Type: 'Pass', Assign: { 'count.$': 'States.MathAdd($count, 1)', 'old.$': '$count' }, Next: 'C' },
      C: {
        Type: 'Pass',
        Parameters: { 'count.$': '$count', 'old.$': '$old', 'label.$': '$label' },
        End: true,
      },
    },
  };
  assert.deepEqual((await runDefinition(def, {})).output, { count: 2, old: 1, label: 'first' });
});

test('inner scopes read outer variables; a distributed Map does not see them', async () => {
  const inline = {
    QueryLanguage: 'JSONata',
    StartAt: 'Set',
    States: {
      Set: { Type: 'Pass', Assign: { factor: 10 }, Next: 'M' },
      M: {
        Type: 'Map',
        Items: [1, 2],
        ItemProcessor: {
          StartAt: 'Mul',
          States: {
            Mul: { Type: 'Pass', Assign: { inner: 1 }, Output: '{% $states.input * $factor %}', End: true },
          },
        },
        Next: 'After',
      },
      After: {
        Type: 'Pass',
        Output: { r: '{% $states.input %}', innerVisible: '{% $exists($inner) %}' },
        End: true,
      },
    },
  };
  assert.deepEqual((await runDefinition(inline, {})).output, { r: [10, 20], innerVisible: false });
  const distributed = structuredClone(inline) as typeof inline & {
    States: { M: { ItemProcessor: Record<string, unknown> } };
  };
  distributed.States.M.ItemProcessor.ProcessorConfig = { Mode: 'DISTRIBUTED', ExecutionType: 'EXPRESS' };
  const r = await runDefinition(distributed, {});
  assert.equal(r.status, 'FAILED');
  assert.equal(r.error, 'States.QueryEvaluationError');
});
