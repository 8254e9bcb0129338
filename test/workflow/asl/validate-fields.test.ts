// Definition validation, field rules: Retry/Catch shapes, Parallel and Map structure, query
// languages, JSONata expressions, variables, Fail; AWS's code at the JSON pointer of the field.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseDefinition } from '../../../src/workflow/asl/index.js';

const FN = 'arn:aws:lambda:us-east-1:123456789012:function:fn';
const m = (states: Record<string, unknown>, extra: Record<string, unknown> = {}) => ({
  StartAt: Object.keys(states)[0],
  States: states,
  ...extra,
});

const invalid: Array<[string, unknown, string, string, RegExp?]> = [
  [
    'Retry without ErrorEquals',
    m({ T: { Type: 'Task', Resource: FN, Retry: [{ MaxAttempts: 2 }], End: true } }),
    'SCHEMA_VALIDATION_FAILED',
    '/States/T/Retry/0',
    /ErrorEquals/,
  ],
  [
    'States.ALL not last in Retry',
    m({
      T: {
        Type: 'Task',
        Resource: FN,
        Retry: [{ ErrorEquals: ['States.ALL'] }, { ErrorEquals: ['X'] }],
        End: true,
      },
    }),
    'SCHEMA_VALIDATION_FAILED',
    '/States/T/Retry/0/ErrorEquals',
    /last/,
  ],
  [
    'States.ALL with other names',
    m({
      T: { Type: 'Task', Resource: FN, Catch: [{ ErrorEquals: ['States.ALL', 'X'], Next: 'T' }], End: true },
    }),
    'SCHEMA_VALIDATION_FAILED',
    '/States/T/Catch/0/ErrorEquals',
    /alone/,
  ],
  [
    'BackoffRate below 1',
    m({ T: { Type: 'Task', Resource: FN, Retry: [{ ErrorEquals: ['X'], BackoffRate: 0.5 }], End: true } }),
    'SCHEMA_VALIDATION_FAILED',
    '/States/T/Retry/0/BackoffRate',
  ],
  [
    'bad JitterStrategy',
    m({
      T: { Type: 'Task', Resource: FN, Retry: [{ ErrorEquals: ['X'], JitterStrategy: 'HALF' }], End: true },
    }),
    'SCHEMA_VALIDATION_FAILED',
    '/States/T/Retry/0/JitterStrategy',
  ],
  [
    'unknown retrier field',
    m({ T: { Type: 'Task', Resource: FN, Retry: [{ ErrorEquals: ['X'], Delay: 1 }], End: true } }),
    'SCHEMA_VALIDATION_FAILED',
    '/States/T/Retry/0/Delay',
  ],
  [
    'Catch without Next',
    m({ T: { Type: 'Task', Resource: FN, Catch: [{ ErrorEquals: ['X'] }], End: true } }),
    'SCHEMA_VALIDATION_FAILED',
    '/States/T/Catch/0',
    /Next/,
  ],
  [
    'Catch Next names no state',
    m({ T: { Type: 'Task', Resource: FN, Catch: [{ ErrorEquals: ['X'], Next: 'Gone' }], End: true } }),
    'MISSING_TRANSITION_TARGET',
    '/States/T/Catch/0/Next',
  ],
  [
    'Parallel without Branches',
    m({ P: { Type: 'Parallel', End: true } }),
    'SCHEMA_VALIDATION_FAILED',
    '/States/P',
    /Branches/,
  ],
  [
    'branch transitions out of itself',
    m({
      P: {
        Type: 'Parallel',
        Branches: [{ StartAt: 'B', States: { B: { Type: 'Pass', Next: 'After' } } }],
        Next: 'After',
      },
      After: { Type: 'Succeed' },
    }),
    'MISSING_TRANSITION_TARGET',
    '/States/P/Branches/0/States/B/Next',
  ],
  [
    'Map with ItemProcessor and Iterator',
    m({
      M: {
        Type: 'Map',
        ItemProcessor: { StartAt: 'I', States: { I: { Type: 'Pass', End: true } } },
        Iterator: { StartAt: 'J', States: { J: { Type: 'Pass', End: true } } },
        End: true,
      },
    }),
    'SCHEMA_VALIDATION_FAILED',
    '/States/M/Iterator',
  ],
  ['Map without a processor', m({ M: { Type: 'Map', End: true } }), 'SCHEMA_VALIDATION_FAILED', '/States/M'],
  [
    'ItemReader on an inline Map',
    m({
      M: {
        Type: 'Map',
        ItemReader: { Resource: 'arn:aws:states:::s3:getObject' },
        ItemProcessor: { StartAt: 'I', States: { I: { Type: 'Pass', End: true } } },
        End: true,
      },
    }),
    'SCHEMA_VALIDATION_FAILED',
    '/States/M/ItemReader',
    /DISTRIBUTED/,
  ],
  [
    'ToleratedFailurePercentage over 100',
    m({
      M: {
        Type: 'Map',
        ToleratedFailurePercentage: 120,
        ItemProcessor: {
          ProcessorConfig: { Mode: 'DISTRIBUTED', ExecutionType: 'STANDARD' },
          StartAt: 'I',
          States: { I: { Type: 'Pass', End: true } },
        },
        End: true,
      },
    }),
    'SCHEMA_VALIDATION_FAILED',
    '/States/M/ToleratedFailurePercentage',
  ],
  [
    'bad top-level QueryLanguage',
    m({ A: { Type: 'Pass', End: true } }, { QueryLanguage: 'XPath' }),
    'SCHEMA_VALIDATION_FAILED',
    '/QueryLanguage',
  ],
  [
    'JSONPath state in a JSONata machine',
    m({ A: { Type: 'Pass', QueryLanguage: 'JSONPath', End: true } }, { QueryLanguage: 'JSONata' }),
    'SCHEMA_VALIDATION_FAILED',
    '/States/A/QueryLanguage',
  ],
  [
    'InputPath in a JSONata state',
    m({ A: { Type: 'Pass', InputPath: '$.x', End: true } }, { QueryLanguage: 'JSONata' }),
    'SCHEMA_VALIDATION_FAILED',
    '/States/A/InputPath',
    /JSONPath syntax/,
  ],
  [
    'Parameters in a JSONata Task',
    m({ A: { Type: 'Task', Resource: FN, Parameters: {}, End: true } }, { QueryLanguage: 'JSONata' }),
    'SCHEMA_VALIDATION_FAILED',
    '/States/A/Parameters',
  ],
  [
    'Arguments in a JSONPath Task',
    m({ A: { Type: 'Task', Resource: FN, Arguments: {}, End: true } }),
    'SCHEMA_VALIDATION_FAILED',
    '/States/A/Arguments',
    /JSONata/,
  ],
  [
    'invalid JSONata',
    m({ A: { Type: 'Pass', Output: '{% $states.input. %}', End: true } }, { QueryLanguage: 'JSONata' }),
    'SCHEMA_VALIDATION_FAILED',
    '/States/A/Output',
    /JSONata expression/,
  ],
  [
    '$states.result in Arguments',
    m(
      { A: { Type: 'Task', Resource: FN, Arguments: { x: '{% $states.result %}' }, End: true } },
      { QueryLanguage: 'JSONata' },
    ),
    'SCHEMA_VALIDATION_FAILED',
    '/States/A/Arguments/x',
    /states.result/,
  ],
  [
    '$states.errorOutput outside a Catch',
    m(
      { A: { Type: 'Task', Resource: FN, Output: '{% $states.errorOutput %}', End: true } },
      { QueryLanguage: 'JSONata' },
    ),
    'SCHEMA_VALIDATION_FAILED',
    '/States/A/Output',
    /errorOutput/,
  ],
  [
    '.$ keys in a JSONata state',
    m(
      { A: { Type: 'Task', Resource: FN, Arguments: { 'x.$': '$.x' }, End: true } },
      { QueryLanguage: 'JSONata' },
    ),
    'SCHEMA_VALIDATION_FAILED',
    '/States/A/Arguments/x.$',
  ],
  [
    'JSONPath operators in a JSONata Choice',
    m(
      {
        C: { Type: 'Choice', Choices: [{ Variable: '$.x', IsNull: true, Next: 'E' }] },
        E: { Type: 'Succeed' },
      },
      { QueryLanguage: 'JSONata' },
    ),
    'SCHEMA_VALIDATION_FAILED',
    '/States/C/Choices/0/Variable',
    /Condition/,
  ],
  [
    'invalid variable name',
    m({ A: { Type: 'Pass', Assign: { '1x': 1 }, End: true } }),
    'SCHEMA_VALIDATION_FAILED',
    '/States/A/Assign/1x',
  ],
  [
    'reserved variable name',
    m({ A: { Type: 'Pass', Assign: { states: 1 }, End: true } }),
    'SCHEMA_VALIDATION_FAILED',
    '/States/A/Assign/states',
    /reserved/,
  ],
  [
    'inner state assigns an outer variable',
    m({
      Set: { Type: 'Pass', Assign: { x: 1 }, Next: 'M' },
      M: {
        Type: 'Map',
        ItemProcessor: { StartAt: 'I', States: { I: { Type: 'Pass', Assign: { x: 2 }, End: true } } },
        End: true,
      },
    }),
    'SCHEMA_VALIDATION_FAILED',
    '/States/M/ItemProcessor/States/I/Assign',
    /outer scope/,
  ],
  [
    'Assign on a Succeed state',
    m({ S: { Type: 'Succeed', Assign: { x: 1 } } }),
    'SCHEMA_VALIDATION_FAILED',
    '/States/S/Assign',
  ],
  [
    'Fail with Error and ErrorPath',
    m({ F: { Type: 'Fail', Error: 'E', ErrorPath: '$.e' } }),
    'SCHEMA_VALIDATION_FAILED',
    '/States/F/ErrorPath',
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
