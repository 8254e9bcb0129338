// Choice rules (AWS's examples, every operator family, StringMatches escapes) and Retry/Catch
// (delays with backoff, MaxDelaySeconds, FULL jitter, States.ALL / TaskFailed matching).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { evaluateChoiceRule, stringMatches } from '../../../src/workflow/asl/choice-rules.js';
import { decideRetry, errorMatches, retryDelaySeconds } from '../../../src/workflow/asl/retry-catch.js';
import type { Json, JsonObject } from '../../../src/workflow/asl/index.js';
import { runDefinition } from './run-machine.js';

const choiceMachine = {
  StartAt: 'ChoiceStateX',
  States: {
    ChoiceStateX: {
      Type: 'Choice',
      Choices: [
        { Not: { Variable: '$.type', StringEquals: 'Private' }, Next: 'Public' },
        { Variable: '$.value', NumericEquals: 0, Next: 'ValueIsZero' },
        {
          And: [
            { Variable: '$.value', NumericGreaterThanEquals: 20 },
            { Variable: '$.value', NumericLessThan: 30 },
          ],
          Next: 'ValueInTwenties',
        },
      ],
      Default: 'DefaultState',
    },
    Public: { Type: 'Pass', Result: 'Public', End: true },
    ValueIsZero: { Type: 'Pass', Result: 'ValueIsZero', End: true },
    ValueInTwenties: { Type: 'Pass', Result: 'ValueInTwenties', End: true },
    DefaultState: { Type: 'Fail', Error: 'DefaultStateError', Cause: 'No Matches!' },
  },
};

for (const [input, expected] of [
  [{ type: 'Public', value: 22 }, 'Public'],
  [{ type: 'Private', value: 0 }, 'ValueIsZero'],
  [{ type: 'Private', value: 22 }, 'ValueInTwenties'],
] as const) {
  test(`AWS Choice example: ${JSON.stringify(input)} → ${expected}`, async () => {
    const r = await runDefinition(choiceMachine, input);
    assert.equal(r.output, expected);
  });
}

test('AWS Choice example: no match goes to Default (a Fail state)', async () => {
  const r = await runDefinition(choiceMachine, { type: 'Private', value: 5 });
  assert.deepEqual([r.status, r.error, r.cause], ['FAILED', 'DefaultStateError', 'No Matches!']);
});

test('no match and no Default fails with States.NoChoiceMatched; a missing Variable with States.Runtime', async () => {
  const def = {
    StartAt: 'C',
    States: {
      C: { Type: 'Choice', Choices: [{ Variable: '$.x', NumericEquals: 1, Next: 'E' }] },
      E: { Type: 'Succeed' },
    },
  };
  assert.equal((await runDefinition(def, { x: 2 })).error, 'States.NoChoiceMatched');
  assert.equal((await runDefinition(def, {})).error, 'States.Runtime');
});

const input: Json = {
  s: 'abc',
  n: 5,
  b: true,
  t: '2016-08-18T17:33:00Z',
  t2: '2016-08-18T17:33:00.5Z',
  nul: null,
  other: 'abd',
  big: 10,
  arr: [1],
};
const rules: Array<[JsonObject, boolean]> = [
  [{ Variable: '$.s', StringEquals: 'abc' }, true],
  [{ Variable: '$.s', StringLessThan: 'abd' }, true],
  [{ Variable: '$.s', StringGreaterThanEquals: 'abc' }, true],
  [{ Variable: '$.s', StringEqualsPath: '$.other' }, false],
  [{ Variable: '$.s', StringLessThanPath: '$.other' }, true],
  [{ Variable: '$.n', NumericGreaterThan: 4.5 }, true],
  [{ Variable: '$.n', NumericLessThanEqualsPath: '$.big' }, true],
  [{ Variable: '$.s', NumericEquals: 5 }, false],
  [{ Variable: '$.b', BooleanEquals: true }, true],
  [{ Variable: '$.t', TimestampEquals: '2016-08-18T17:33:00Z' }, true],
  [{ Variable: '$.t', TimestampLessThanPath: '$.t2' }, true],
  [{ Variable: '$.t', TimestampGreaterThan: '2016-08-18T17:32:59+00:00' }, true],
  [{ Variable: '$.nul', IsNull: true }, true],
  [{ Variable: '$.missing', IsPresent: false }, true],
  [{ Variable: '$.s', IsPresent: true }, true],
  [{ Variable: '$.n', IsNumeric: true }, true],
  [{ Variable: '$.s', IsString: true }, true],
  [{ Variable: '$.b', IsBoolean: false }, false],
  [{ Variable: '$.t', IsTimestamp: true }, true],
  [{ Variable: '$.s', IsTimestamp: true }, false],
  [{ Variable: '$.arr[0]', NumericEquals: 1 }, true],
  [
    {
      Or: [
        { Variable: '$.n', NumericEquals: 1 },
        { Variable: '$.s', StringMatches: 'a*' },
      ],
    },
    true,
  ],
  [{ Not: { Variable: '$.b', BooleanEquals: true } }, false],
];
for (const [rule, expected] of rules) {
  test(`choice rule ${JSON.stringify(rule)} is ${expected}`, () => {
    assert.equal(evaluateChoiceRule(rule, { input }), expected);
  });
}

test('StringMatches: * wildcard, \\* literal star, \\\\ literal backslash', () => {
  assert.ok(stringMatches('log-2024.txt', 'log-*.txt'));
  assert.ok(stringMatches('anything', '*'));
  assert.ok(!stringMatches('log.csv', 'log-*.txt'));
  assert.ok(stringMatches('a*b', 'a\\*b'));
  assert.ok(!stringMatches('axb', 'a\\*b'));
  assert.ok(stringMatches('a\\b', 'a\\\\b'));
  assert.ok(stringMatches('x.y+z', 'x.y+*'));
});

test('error matching: States.ALL and States.TaskFailed wildcards; Runtime and DataLimitExceeded are never caught', () => {
  assert.ok(errorMatches(['States.ALL'], 'Lambda.Unknown'));
  assert.ok(errorMatches(['States.TaskFailed'], 'MyError'));
  assert.ok(!errorMatches(['States.TaskFailed'], 'States.Timeout'));
  assert.ok(errorMatches(['States.Timeout'], 'States.HeartbeatTimeout'));
  assert.ok(!errorMatches(['States.ALL'], 'States.Runtime'));
  assert.ok(!errorMatches(['States.ALL'], 'States.DataLimitExceeded'));
  assert.ok(!errorMatches(['ErrorA'], 'ErrorB'));
});

test('retry delays: IntervalSeconds × BackoffRate^n, capped by MaxDelaySeconds, FULL jitter', () => {
  const r = { ErrorEquals: ['States.Timeout'], IntervalSeconds: 3, MaxAttempts: 2, BackoffRate: 1.5 };
  assert.deepEqual(
    [0, 1].map((n) => retryDelaySeconds(r, n, () => 0.5)),
    [3, 4.5],
  );
  const capped = {
    ErrorEquals: ['States.ALL'],
    IntervalSeconds: 1,
    BackoffRate: 2,
    MaxAttempts: 10,
    MaxDelaySeconds: 8,
  };
  assert.deepEqual(
    [0, 1, 2, 3, 4, 5].map((n) => retryDelaySeconds(capped, n, () => 0.5)),
    [1, 2, 4, 8, 8, 8],
  );
  assert.equal(
    retryDelaySeconds({ ...capped, JitterStrategy: 'FULL' }, 3, () => 0.25),
    2,
  );
  assert.equal(
    retryDelaySeconds({ ErrorEquals: ['X'] }, 0, () => 0.5),
    1,
    'defaults: 1 s, rate 2',
  );
});

test('retry decisions: per-retrier counters, MaxAttempts 0 never retries, the first matching retrier decides', () => {
  const retriers: Json = [
    { ErrorEquals: ['ErrorA', 'ErrorB'], IntervalSeconds: 1, BackoffRate: 2, MaxAttempts: 2 },
    { ErrorEquals: ['ErrorC'], IntervalSeconds: 5 },
    { ErrorEquals: ['States.ALL'], MaxAttempts: 0 },
  ];
  let attempts: number[] = [];
  const seen: Array<number | false> = [];
  for (const error of ['ErrorA', 'ErrorB', 'ErrorA']) {
    const d = decideRetry(retriers, error, attempts, () => 0);
    seen.push(d.retry ? d.delaySeconds : false);
    if (d.retry) attempts = d.attempts;
  }
  assert.deepEqual(seen, [1, 2, false], 'ErrorA and ErrorB share the first retrier’s two attempts');
  const c = decideRetry(retriers, 'ErrorC', attempts, () => 0);
  assert.ok(c.retry && c.delaySeconds === 5 && c.retrierIndex === 1);
  assert.deepEqual(
    decideRetry(retriers, 'Other', [], () => 0),
    { retry: false },
  );
});

test('Task retries then catches into a fallback with ResultPath; the retry count reaches $$.State.RetryCount', async () => {
  const FN = 'arn:aws:lambda:us-east-1:123456789012:function:flaky';
  const def = {
    StartAt: 'Call',
    States: {
      Call: {
        Type: 'Task',
        Resource: FN,
        Parameters: { 'retry.$': '$$.State.RetryCount' },
        Retry: [{ ErrorEquals: ['Flaky'], IntervalSeconds: 2, MaxAttempts: 2, BackoffRate: 3 }],
        Catch: [{ ErrorEquals: ['States.ALL'], ResultPath: '$.error', Next: 'Fallback' }],
        End: true,
      },
      Fallback: { Type: 'Pass', End: true },
    },
  };
  const r = await runDefinition(
    def,
    { id: 1 },
    {
      [FN]: () => {
        throw { error: 'Flaky', cause: 'try again' };
      },
    },
  );
  assert.deepEqual(r.delays, [2, 6]);
  assert.deepEqual(
    r.tasks.map((t) => t.parameters),
    [{ retry: 0 }, { retry: 1 }, { retry: 2 }],
  );
  assert.deepEqual(r.output, { id: 1, error: { Error: 'Flaky', Cause: 'try again' } });
  assert.deepEqual(r.visited, ['Call', 'Fallback']);
});
