// JSONPath input/output processing, table-driven from AWS's documented examples: InputPath,
// Parameters, ResultSelector, ResultPath (incl. null), OutputPath, the context object, Map items.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Json, JsonObject } from '../../../src/workflow/asl/index.js';
import { runDefinition } from './run-machine.js';

const HELLO = 'arn:aws:lambda:us-east-1:123456789012:function:HelloFunction';
const hello = (event: Json) => `Hello, ${(event as JsonObject).who as string}!`;
const task = (fields: JsonObject): JsonObject => ({
  StartAt: 'T',
  States: { T: { Type: 'Task', Resource: HELLO, End: true, ...fields } },
});

const base = {
  comment: 'This is a test of the input and output of a Task state.',
  details: 'Default example',
  who: 'AWS Step Functions',
};

const cases: Array<{
  name: string;
  fields: JsonObject;
  input: Json;
  output: Json;
  handler?: (e: Json) => Json;
}> = [
  {
    name: 'ResultPath default ($) replaces the input with the result',
    fields: {},
    input: base,
    output: 'Hello, AWS Step Functions!',
  },
  {
    name: 'ResultPath $ explicitly',
    fields: { ResultPath: '$' },
    input: base,
    output: 'Hello, AWS Step Functions!',
  },
  { name: 'ResultPath null discards the result', fields: { ResultPath: null }, input: base, output: base },
  {
    name: 'ResultPath $.taskresult adds the result to the input',
    fields: { ResultPath: '$.taskresult' },
    input: base,
    output: { ...base, taskresult: 'Hello, AWS Step Functions!' },
  },
  {
    name: 'InputPath, ResultPath and OutputPath together',
    fields: { InputPath: '$.lambda', ResultPath: '$.data.lambdaresult', OutputPath: '$.data' },
    input: {
      comment: 'An input comment.',
      data: { val1: 23, val2: 17 },
      extra: 'foo',
      lambda: { who: 'AWS Step Functions' },
    },
    output: { val1: 23, val2: 17, lambdaresult: 'Hello, AWS Step Functions!' },
  },
  { name: 'OutputPath null gives {}', fields: { OutputPath: null }, input: base, output: {} },
  {
    name: 'Parameters select and add static fields',
    fields: {
      Parameters: {
        comment: 'Selecting what I care about.',
        MyDetails: {
          'size.$': '$.product.details.size',
          'exists.$': '$.product.availability',
          StaticValue: 'foo',
        },
      },
    },
    input: {
      comment: 'Example for Parameters.',
      product: {
        details: { color: 'blue', size: 'small', material: 'cotton' },
        availability: 'in stock',
        sku: '2317',
        cost: '$23',
      },
    },
    output: {
      comment: 'Selecting what I care about.',
      MyDetails: { size: 'small', exists: 'in stock', StaticValue: 'foo' },
    },
    handler: (e) => e,
  },
  {
    name: 'ResultSelector shapes the result before ResultPath',
    fields: {
      ResultSelector: { 'ClusterId.$': '$.output.ClusterId', 'ResourceType.$': '$.resourceType' },
      ResultPath: '$.EMROutput',
    },
    input: { comment: 'x' },
    output: {
      comment: 'x',
      EMROutput: { ClusterId: 'AKIAIOSFODNN7EXAMPLE', ResourceType: 'elasticmapreduce' },
    },
    handler: () => ({
      resourceType: 'elasticmapreduce',
      resource: 'createCluster.sync',
      output: { SdkHttpMetadata: { HttpStatusCode: 200 }, ClusterId: 'AKIAIOSFODNN7EXAMPLE' },
    }),
  },
  {
    name: 'Parameters read the context object ($$) and intrinsics',
    fields: {
      Parameters: {
        'token.$': '$$.Task.Token',
        'name.$': '$$.Execution.Name',
        'state.$': '$$.State.Name',
        'msg.$': "States.Format('hi {}', $.who)",
      },
    },
    input: base,
    output: { token: 'token-1', name: 'run-1', state: 'T', msg: 'hi AWS Step Functions' },
    handler: (e) => e,
  },
];

for (const c of cases) {
  test(c.name, async () => {
    const r = await runDefinition(task(c.fields), c.input, { [HELLO]: c.handler ?? hello });
    assert.equal(r.status, 'SUCCEEDED', `${r.error}: ${r.cause}`);
    assert.deepEqual(r.output, c.output);
  });
}

test('InputPath selects part of the input (Pass)', async () => {
  const input = {
    comment: 'Example for InputPath.',
    dataset1: { val1: 1, val2: 2, val3: 3 },
    dataset2: { val1: 'a', val2: 'b', val3: 'c' },
  };
  const r = await runDefinition(
    { StartAt: 'P', States: { P: { Type: 'Pass', InputPath: '$.dataset2', End: true } } },
    input,
  );
  assert.deepEqual(r.output, { val1: 'a', val2: 'b', val3: 'c' });
});

test('Pass Result with ResultPath (the spec example)', async () => {
  const def = {
    StartAt: 'P',
    States: {
      P: { Type: 'Pass', Result: { x: 0.381018, y: 622.2269926397355 }, ResultPath: '$.coords', End: true },
    },
  };
  const r = await runDefinition(def, { georefOf: 'Home' });
  assert.deepEqual(r.output, { georefOf: 'Home', coords: { x: 0.381018, y: 622.2269926397355 } });
});

test('a ResultPath through a string fails with States.ResultPathMatchFailure; an InputPath that names nothing with States.Runtime', async () => {
  const r1 = await runDefinition(task({ ResultPath: '$.who.result' }), base, { [HELLO]: hello });
  assert.equal(r1.status, 'FAILED');
  assert.equal(r1.error, 'States.ResultPathMatchFailure');
  const r2 = await runDefinition(task({ InputPath: '$.missing' }), base, { [HELLO]: hello });
  assert.equal(r2.error, 'States.Runtime');
  const r3 = await runDefinition(task({ Parameters: { 'x.$': '$.missing' } }), base, { [HELLO]: hello });
  assert.equal(r3.error, 'States.Runtime');
  assert.match(r3.cause!, /x\.\$/);
});

test('Map: ItemsPath, ItemSelector with $$.Map.Item.Value/Index, results in order', async () => {
  const def = {
    StartAt: 'Validate-All',
    States: {
      'Validate-All': {
        Type: 'Map',
        InputPath: '$.detail',
        ItemsPath: '$.shipped',
        MaxConcurrency: 0,
        ItemSelector: {
          'parcel.$': '$$.Map.Item.Value',
          'index.$': '$$.Map.Item.Index',
          'courier.$': '$.delivery-partner',
        },
        ItemProcessor: { StartAt: 'Validate', States: { Validate: { Type: 'Pass', End: true } } },
        ResultPath: '$.detail.shipped',
        End: true,
      },
    },
  };
  const input = {
    'ship-date': '2016-03-14T01:59:00Z',
    detail: {
      'delivery-partner': 'UQS',
      shipped: [
        { prod: 'R31', 'dest-code': 9511, quantity: 1344 },
        { prod: 'S39', 'dest-code': 9511, quantity: 40 },
      ],
    },
  };
  const r = await runDefinition(def, input);
  assert.deepEqual(r.output, {
    ...input,
    detail: {
      ...input.detail,
      shipped: [
        { parcel: { prod: 'R31', 'dest-code': 9511, quantity: 1344 }, index: 0, courier: 'UQS' },
        { parcel: { prod: 'S39', 'dest-code': 9511, quantity: 40 }, index: 1, courier: 'UQS' },
      ],
    },
  });
});

test('Parallel: each branch gets the input, the result is the array of branch outputs', async () => {
  const def = {
    StartAt: 'Par',
    States: {
      Par: {
        Type: 'Parallel',
        Parameters: { 'n.$': '$.n' },
        Branches: [
          {
            StartAt: 'Add',
            States: { Add: { Type: 'Pass', Parameters: { 'v.$': 'States.MathAdd($.n, 1)' }, End: true } },
          },
          { StartAt: 'Same', States: { Same: { Type: 'Pass', End: true } } },
        ],
        ResultSelector: { 'first.$': '$[0].v', 'second.$': '$[1].n' },
        ResultPath: '$.out',
        End: true,
      },
    },
  };
  const r = await runDefinition(def, { n: 41 });
  assert.deepEqual(r.output, { n: 41, out: { first: 42, second: 41 } });
});
