// Definition validation, structure: valid fixtures pass; invalid ones (JSON, transitions,
// reachability, names, state fields, paths) report AWS's code at the JSON pointer, with a fix.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatInvalidDefinition, parseDefinition } from '../../../src/workflow/asl/index.js';

const FN = 'arn:aws:lambda:us-east-1:123456789012:function:fn';
const m = (states: Record<string, unknown>, extra: Record<string, unknown> = {}) => ({
  StartAt: Object.keys(states)[0],
  States: states,
  ...extra,
});

const valid: Array<[string, unknown]> = [
  ['minimal Pass', m({ A: { Type: 'Pass', End: true } })],
  [
    'every state type',
    m(
      {
        T: {
          Type: 'Task',
          Resource: FN,
          TimeoutSeconds: 10,
          HeartbeatSeconds: 5,
          Retry: [
            {
              ErrorEquals: ['Lambda.ServiceException'],
              IntervalSeconds: 2,
              MaxAttempts: 6,
              BackoffRate: 2,
              MaxDelaySeconds: 30,
              JitterStrategy: 'FULL',
            },
            { ErrorEquals: ['States.ALL'] },
          ],
          Catch: [{ ErrorEquals: ['States.ALL'], ResultPath: '$.err', Next: 'F' }],
          Next: 'W',
        },
        W: { Type: 'Wait', SecondsPath: '$.delay', Next: 'C' },
        C: { Type: 'Choice', Choices: [{ Variable: '$.x', IsPresent: true, Next: 'P' }], Default: 'M' },
        P: {
          Type: 'Parallel',
          Branches: [{ StartAt: 'B1', States: { B1: { Type: 'Pass', End: true } } }],
          Next: 'S',
        },
        M: {
          Type: 'Map',
          ItemsPath: '$.items',
          ItemProcessor: {
            ProcessorConfig: { Mode: 'INLINE' },
            StartAt: 'I',
            States: { I: { Type: 'Pass', End: true } },
          },
          Next: 'S',
        },
        S: { Type: 'Succeed' },
        F: { Type: 'Fail', ErrorPath: "States.Format('E{}', $.code)", Cause: 'failed' },
      },
      { Comment: 'all', Version: '1.0', TimeoutSeconds: 300 },
    ),
  ],
  [
    'JSONata machine',
    m(
      {
        A: {
          Type: 'Task',
          Resource: 'arn:aws:states:::lambda:invoke',
          Arguments: { FunctionName: FN, Payload: '{% $states.input %}' },
          Output: '{% $states.result.Payload %}',
          Assign: { x: '{% $states.result %}' },
          End: true,
        },
      },
      { QueryLanguage: 'JSONata' },
    ),
  ],
  [
    'JSONPath machine with a JSONata state',
    m({ A: { Type: 'Pass', QueryLanguage: 'JSONata', Output: '{% 1 + 1 %}', End: true } }),
  ],
  [
    'legacy Iterator and Parameters on Map',
    m({
      M: {
        Type: 'Map',
        Parameters: { 'v.$': '$$.Map.Item.Value' },
        Iterator: { StartAt: 'I', States: { I: { Type: 'Pass', End: true } } },
        End: true,
      },
    }),
  ],
  [
    'distributed Map with reader, batcher, writer, tolerated failures',
    m({
      M: {
        Type: 'Map',
        ItemReader: {
          Resource: 'arn:aws:states:::s3:getObject',
          ReaderConfig: { InputType: 'JSON' },
          Parameters: { Bucket: 'b', Key: 'k' },
        },
        ItemBatcher: { MaxItemsPerBatch: 10 },
        ResultWriter: {
          Resource: 'arn:aws:states:::s3:putObject',
          Parameters: { Bucket: 'b', Prefix: 'out' },
        },
        ToleratedFailurePercentage: 5,
        Label: 'run',
        MaxConcurrency: 100,
        ItemProcessor: {
          ProcessorConfig: { Mode: 'DISTRIBUTED', ExecutionType: 'EXPRESS' },
          StartAt: 'I',
          States: { I: { Type: 'Pass', End: true } },
        },
        End: true,
      },
    }),
  ],
  [
    'waitForTaskToken',
    m({
      A: {
        Type: 'Task',
        Resource: 'arn:aws:states:::sqs:sendMessage.waitForTaskToken',
        Parameters: { QueueUrl: 'q', MessageBody: { 'token.$': '$$.Task.Token' } },
        HeartbeatSecondsPath: '$.hb',
        End: true,
      },
    }),
  ],
  [
    'a loop through Choice',
    m({
      A: { Type: 'Pass', Next: 'C' },
      C: { Type: 'Choice', Choices: [{ Variable: '$.done', BooleanEquals: true, Next: 'E' }], Default: 'A' },
      E: { Type: 'Succeed' },
    }),
  ],
];
for (const [name, def] of valid) {
  test(`valid: ${name}`, () => {
    const r = parseDefinition(def);
    assert.ok(r.ok, JSON.stringify(r.diagnostics, null, 1));
  });
}

const invalid: Array<[string, unknown, string, string, RegExp?]> = [
  ['not JSON', '{"StartAt": ', 'INVALID_JSON_DESCRIPTION', ''],
  ['empty', '', 'MISSING_DESCRIPTION', ''],
  ['no StartAt', { States: { A: { Type: 'Pass', End: true } } }, 'SCHEMA_VALIDATION_FAILED', '', /StartAt/],
  [
    'StartAt names no state',
    { StartAt: 'X', States: { A: { Type: 'Pass', End: true } } },
    'MISSING_TRANSITION_TARGET',
    '/StartAt',
  ],
  [
    'unknown top-level field',
    m({ A: { Type: 'Pass', End: true } }, { Foo: 1 }),
    'SCHEMA_VALIDATION_FAILED',
    '/Foo',
  ],
  ['bad Type', m({ A: { Type: 'Lambda', End: true } }), 'SCHEMA_VALIDATION_FAILED', '/States/A/Type'],
  [
    'unknown field on a Pass',
    m({ A: { Type: 'Pass', Resource: FN, End: true } }),
    'SCHEMA_VALIDATION_FAILED',
    '/States/A/Resource',
  ],
  [
    'Next names no state',
    m({ A: { Type: 'Pass', Next: 'Nope' } }),
    'MISSING_TRANSITION_TARGET',
    '/States/A/Next',
    /Nope/,
  ],
  [
    'unreachable state',
    m({ A: { Type: 'Pass', End: true }, B: { Type: 'Pass', End: true } }),
    'MISSING_TRANSITION_TARGET',
    '/States/B',
    /not reachable/,
  ],
  [
    'Next and End together',
    m({ A: { Type: 'Pass', Next: 'A', End: true } }),
    'SCHEMA_VALIDATION_FAILED',
    '/States/A',
  ],
  ['neither Next nor End', m({ A: { Type: 'Pass' } }), 'SCHEMA_VALIDATION_FAILED', '/States/A', /Next/],
  ['End false', m({ A: { Type: 'Pass', End: false } }), 'SCHEMA_VALIDATION_FAILED', '/States/A/End'],
  [
    'no terminal state',
    m({ A: { Type: 'Pass', Next: 'B' }, B: { Type: 'Pass', Next: 'A' } }),
    'MISSING_END_STATE',
    '/States',
  ],
  ['Next on Succeed', m({ A: { Type: 'Succeed', Next: 'A' } }), 'SCHEMA_VALIDATION_FAILED', '/States/A/Next'],
  [
    'state name too long',
    m({ ['x'.repeat(81)]: { Type: 'Pass', End: true } }),
    'INVALID_STATE_NAME',
    `/States/${'x'.repeat(81)}`,
  ],
  [
    'duplicate name across a branch',
    m({
      P: {
        Type: 'Parallel',
        Branches: [{ StartAt: 'P', States: { P: { Type: 'Pass', End: true } } }],
        End: true,
      },
    }),
    'DUPLICATE_STATE_NAME',
    '/States/P/Branches/0/States/P',
  ],
  [
    'Task without Resource',
    m({ T: { Type: 'Task', End: true } }),
    'SCHEMA_VALIDATION_FAILED',
    '/States/T',
    /Resource/,
  ],
  [
    'Task Resource not an ARN',
    m({ T: { Type: 'Task', Resource: 'my-function', End: true } }),
    'INVALID_RESOURCE',
    '/States/T/Resource',
  ],
  [
    'HeartbeatSeconds not below TimeoutSeconds',
    m({ T: { Type: 'Task', Resource: FN, TimeoutSeconds: 5, HeartbeatSeconds: 5, End: true } }),
    'SCHEMA_VALIDATION_FAILED',
    '/States/T/HeartbeatSeconds',
  ],
  [
    'TimeoutSeconds and TimeoutSecondsPath',
    m({ T: { Type: 'Task', Resource: FN, TimeoutSeconds: 5, TimeoutSecondsPath: '$.t', End: true } }),
    'SCHEMA_VALIDATION_FAILED',
    '/States/T/TimeoutSecondsPath',
  ],
  [
    'Wait with two time fields',
    m({ W: { Type: 'Wait', Seconds: 5, TimestampPath: '$.t', End: true } }),
    'SCHEMA_VALIDATION_FAILED',
    '/States/W/TimestampPath',
    /mutually exclusive/,
  ],
  ['Wait with no time field', m({ W: { Type: 'Wait', End: true } }), 'SCHEMA_VALIDATION_FAILED', '/States/W'],
  [
    'Wait with a bad Timestamp',
    m({ W: { Type: 'Wait', Timestamp: '2016-03-14 01:59:00', End: true } }),
    'SCHEMA_VALIDATION_FAILED',
    '/States/W/Timestamp',
  ],
  [
    'Wait with negative Seconds',
    m({ W: { Type: 'Wait', Seconds: -1, End: true } }),
    'SCHEMA_VALIDATION_FAILED',
    '/States/W/Seconds',
  ],
  [
    'Choice without Choices',
    m({ C: { Type: 'Choice', Default: 'E' }, E: { Type: 'Succeed' } }),
    'SCHEMA_VALIDATION_FAILED',
    '/States/C',
    /Choices/,
  ],
  [
    'Choice rule without Next',
    m({
      C: { Type: 'Choice', Choices: [{ Variable: '$.x', IsNull: true }], Default: 'E' },
      E: { Type: 'Succeed' },
    }),
    'SCHEMA_VALIDATION_FAILED',
    '/States/C/Choices/0',
    /Next/,
  ],
  [
    'Choice rule with two operators',
    m({
      C: { Type: 'Choice', Choices: [{ Variable: '$.x', IsNull: true, IsString: true, Next: 'E' }] },
      E: { Type: 'Succeed' },
    }),
    'SCHEMA_VALIDATION_FAILED',
    '/States/C/Choices/0',
  ],
  [
    'Choice operand of the wrong type',
    m({
      C: { Type: 'Choice', Choices: [{ Variable: '$.x', NumericEquals: '1', Next: 'E' }] },
      E: { Type: 'Succeed' },
    }),
    'SCHEMA_VALIDATION_FAILED',
    '/States/C/Choices/0/NumericEquals',
  ],
  [
    'Next inside a nested rule',
    m({
      C: { Type: 'Choice', Choices: [{ Not: { Variable: '$.x', IsNull: true, Next: 'E' }, Next: 'E' }] },
      E: { Type: 'Succeed' },
    }),
    'SCHEMA_VALIDATION_FAILED',
    '/States/C/Choices/0/Not/Next',
  ],
  [
    'Choice Default names no state',
    m({
      C: { Type: 'Choice', Choices: [{ Variable: '$.x', IsNull: true, Next: 'E' }], Default: 'Nope' },
      E: { Type: 'Succeed' },
    }),
    'MISSING_TRANSITION_TARGET',
    '/States/C/Default',
  ],
  [
    'invalid InputPath',
    m({ A: { Type: 'Pass', InputPath: 'data', End: true } }),
    'SCHEMA_VALIDATION_FAILED',
    '/States/A/InputPath',
    /JSONPath/,
  ],
  [
    'ResultPath that is not a reference path',
    m({ A: { Type: 'Pass', ResultPath: '$.a[*]', End: true } }),
    'SCHEMA_VALIDATION_FAILED',
    '/States/A/ResultPath',
    /ReferencePath/,
  ],
  [
    'bad path in Parameters',
    m({ A: { Type: 'Pass', Parameters: { 'x.$': 'nope' }, End: true } }),
    'SCHEMA_VALIDATION_FAILED',
    '/States/A/Parameters/x.$',
  ],
  [
    'bad intrinsic in Parameters',
    m({ A: { Type: 'Pass', Parameters: { 'x.$': 'States.Formatt($.a)' }, End: true } }),
    'SCHEMA_VALIDATION_FAILED',
    '/States/A/Parameters/x.$',
    /intrinsic/,
  ],
  [
    'intrinsic with the wrong argument count',
    m({ A: { Type: 'Pass', Parameters: { 'x.$': 'States.ArrayGetItem($.a)' }, End: true } }),
    'SCHEMA_VALIDATION_FAILED',
    '/States/A/Parameters/x.$',
    /2 argument/,
  ],
];
for (const [name, def, code, location, message] of invalid) {
  test(`invalid: ${name} → ${code} at ${location || '/'}`, () => {
    const r = parseDefinition(def, { file: 'flow.asl.json' });
    assert.equal(r.ok, false, 'should be rejected');
    const hit = r.diagnostics.find(
      (d) => d.code === code && d.location === location && d.severity === 'ERROR',
    );
    assert.ok(hit, `expected ${code} at '${location}', got ${JSON.stringify(r.diagnostics, null, 1)}`);
    assert.equal(hit.file, 'flow.asl.json');
    if (message) assert.match(hit.message, message);
  });
}

test('warnings do not fail validation: NO_DOLLAR on a path-looking literal', () => {
  const r = parseDefinition(m({ A: { Type: 'Pass', Parameters: { x: '$.value' }, End: true } }));
  assert.ok(r.ok);
  assert.deepEqual(
    r.diagnostics.map((d) => [d.severity, d.code, d.location]),
    [['WARNING', 'NO_DOLLAR', '/States/A/Parameters/x']],
  );
});

test('JSON pointers escape ~ and / in state names; the InvalidDefinition message names file, code and location', () => {
  const r = parseDefinition(m({ 'a/b~c': { Type: 'Pass', Next: 'missing' } }), { file: 'x.asl.json' });
  assert.equal(r.ok, false);
  assert.equal(r.diagnostics[0]!.location, '/States/a~1b~0c/Next');
  assert.match(
    formatInvalidDefinition(r.diagnostics),
    /^x\.asl\.json: Invalid State Machine Definition: 'MISSING_TRANSITION_TARGET: Missing 'Next' target: 'missing'.* at \/States\/a~1b~0c\/Next, MISSING_END_STATE: .* at \/States'$/,
  );
});

test('the parsed machine records types, query languages, branches and Map mode', () => {
  const r = parseDefinition(valid[1]![1]);
  assert.ok(r.ok);
  const states = r.machine.states;
  assert.equal(states.get('T')!.next, 'W');
  assert.equal(states.get('S')!.end, true);
  assert.equal(states.get('P')!.branches!.length, 1);
  assert.equal(states.get('M')!.mapMode, 'INLINE');
  assert.equal(states.get('M')!.processor!.startAt, 'I');
  assert.equal(r.machine.timeoutSeconds, 300);
  assert.equal(r.machine.queryLanguage, 'JSONPath');
});
