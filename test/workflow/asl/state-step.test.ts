// The step API's outcomes as the executor sees them: task work orders with resolved timeouts,
// wait targets, Map work orders (batching, reader, tolerance), serialisable retry frames, Catch.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  completeState,
  enterState,
  evaluateState,
  mapFailureExceeded,
  mapItemInputs,
  parseDefinition,
  type Json,
  type StateMachine,
  type StepInput,
} from '../../../src/workflow/asl/index.js';
import { EXECUTION, FIXED_ENV } from './run-machine.js';

const FN = 'arn:aws:lambda:us-east-1:123456789012:function:fn';
const ENTERED = new Date('2024-01-01T00:00:00.000Z');

function machine(def: unknown): StateMachine {
  const r = parseDefinition(def);
  assert.ok(r.ok, JSON.stringify(r.diagnostics));
  return r.machine;
}
function stepFor(m: StateMachine, input: Json, stateName = m.startAt): StepInput {
  return {
    machine: m,
    frame: enterState(stateName, input, ENTERED),
    execution: { ...EXECUTION, input },
    variables: [{}],
    env: FIXED_ENV,
  };
}

test('Task: a work order with parameters and timeouts resolved from paths', async () => {
  const m = machine({
    StartAt: 'T',
    States: {
      T: {
        Type: 'Task',
        Resource: FN,
        Parameters: { 'id.$': '$.id' },
        TimeoutSecondsPath: '$.timeout',
        HeartbeatSeconds: 5,
        Credentials: { RoleArn: 'arn:aws:iam::1:role/r' },
        End: true,
      },
    },
  });
  assert.deepEqual(await evaluateState(stepFor(m, { id: 7, timeout: 30 })), {
    kind: 'task',
    resource: FN,
    parameters: { id: 7 },
    timeoutSeconds: 30,
    heartbeatSeconds: 5,
    credentials: { RoleArn: 'arn:aws:iam::1:role/r' },
  });
});

test('Wait: Seconds count from the state entry; Timestamp, SecondsPath and TimestampPath', async () => {
  const w = (fields: object) =>
    machine({ StartAt: 'W', States: { W: { Type: 'Wait', ...fields, Next: 'E' }, E: { Type: 'Succeed' } } });
  const until = async (fields: object, input: Json = {}) => {
    const o = await evaluateState(stepFor(w(fields), input));
    assert.equal(o.kind, 'wait');
    return o.kind === 'wait' ? [o.until, o.then.kind, o.then.next] : [];
  };
  assert.deepEqual(await until({ Seconds: 90 }), ['2024-01-01T00:01:30.000Z', 'next', 'E']);
  assert.deepEqual(await until({ Timestamp: '2026-03-14T01:59:00Z' }), [
    '2026-03-14T01:59:00.000Z',
    'next',
    'E',
  ]);
  assert.deepEqual(await until({ SecondsPath: '$.s' }, { s: 10 }), ['2024-01-01T00:00:10.000Z', 'next', 'E']);
  assert.deepEqual(await until({ TimestampPath: '$.t' }, { t: '2025-01-01T00:00:00+01:00' }), [
    '2024-12-31T23:00:00.000Z',
    'next',
    'E',
  ]);
  const bad = await evaluateState(stepFor(w({ SecondsPath: '$.s' }), { s: 'ten' }));
  assert.equal(bad.kind === 'fail' && bad.error, 'States.Runtime');
});

test('Map: ItemBatcher groups selected items with BatchInput; tolerated failures resolved', async () => {
  const m = machine({
    StartAt: 'M',
    States: {
      M: {
        Type: 'Map',
        ItemSelector: { 'v.$': '$$.Map.Item.Value' },
        ItemBatcher: { MaxItemsPerBatch: 2, BatchInput: { 'job.$': '$.job' } },
        ItemsPath: '$.items',
        ToleratedFailureCount: 1,
        MaxConcurrencyPath: '$.conc',
        ItemProcessor: {
          ProcessorConfig: { Mode: 'DISTRIBUTED', ExecutionType: 'EXPRESS' },
          StartAt: 'I',
          States: { I: { Type: 'Pass', End: true } },
        },
        End: true,
      },
    },
  });
  const o = await evaluateState(stepFor(m, { job: 'j1', items: [1, 2, 3], conc: 4 }));
  assert.equal(o.kind, 'map');
  if (o.kind !== 'map') return;
  assert.deepEqual(o.itemInputs, [
    { job: 'j1', Items: [{ v: 1 }, { v: 2 }] },
    { job: 'j1', Items: [{ v: 3 }] },
  ]);
  assert.deepEqual(
    [o.mode, o.executionType, o.maxConcurrency, o.toleratedFailureCount],
    ['DISTRIBUTED', 'EXPRESS', 4, 1],
  );
  assert.equal(mapFailureExceeded(o, 1, 3), false);
  assert.equal(mapFailureExceeded(o, 2, 3), true);
  assert.equal(mapFailureExceeded({}, 1, 100), true, 'no tolerance: any failure fails the Map');
  assert.equal(mapFailureExceeded({ toleratedFailurePercentage: 10 }, 10, 100), false);
});

test('Map with an ItemReader: the reader is resolved and items come later through mapItemInputs', async () => {
  const m = machine({
    StartAt: 'M',
    States: {
      M: {
        Type: 'Map',
        ItemReader: {
          Resource: 'arn:aws:states:::s3:getObject',
          ReaderConfig: { InputType: 'CSV', CSVHeaderLocation: 'FIRST_ROW' },
          Parameters: { Bucket: 'b', 'Key.$': '$.key' },
        },
        ItemSelector: { 'row.$': '$$.Map.Item.Value', 'n.$': '$$.Map.Item.Index' },
        ItemProcessor: {
          ProcessorConfig: { Mode: 'DISTRIBUTED', ExecutionType: 'STANDARD' },
          StartAt: 'I',
          States: { I: { Type: 'Pass', End: true } },
        },
        End: true,
      },
    },
  });
  const step = stepFor(m, { key: 'data.csv' });
  const o = await evaluateState(step);
  assert.ok(o.kind === 'map' && o.itemInputs === undefined);
  if (o.kind !== 'map') return;
  assert.deepEqual(o.itemReader, {
    resource: 'arn:aws:states:::s3:getObject',
    parameters: { Bucket: 'b', Key: 'data.csv' },
    readerConfig: { InputType: 'CSV', CSVHeaderLocation: 'FIRST_ROW' },
  });
  assert.deepEqual(await mapItemInputs(step, m.states.get('M')!, [{ a: '1' }]), [{ row: { a: '1' }, n: 0 }]);
});

test('retry frames survive JSON round trips; Catch reports what it caught', async () => {
  const m = machine({
    StartAt: 'T',
    States: {
      T: {
        Type: 'Task',
        Resource: FN,
        Retry: [{ ErrorEquals: ['States.Timeout'], IntervalSeconds: 3, MaxAttempts: 1 }],
        Catch: [{ ErrorEquals: ['States.ALL'], Next: 'H' }],
        End: true,
      },
      H: { Type: 'Pass', End: true },
    },
  });
  const step = stepFor(m, { a: 1 });
  const first = await completeState(step, { ok: false, error: 'States.Timeout', cause: 'took too long' });
  assert.equal(first.kind, 'retry');
  if (first.kind !== 'retry') return;
  const frame = JSON.parse(JSON.stringify(first.frame));
  assert.deepEqual(frame, { ...step.frame, retryCount: 1, retryAttempts: [1] });
  const second = await completeState(
    { ...step, frame },
    { ok: false, error: 'States.Timeout', cause: 'again' },
  );
  assert.deepEqual(second, {
    kind: 'next',
    next: 'H',
    output: { Error: 'States.Timeout', Cause: 'again' },
    caught: { error: 'States.Timeout', cause: 'again', catcherIndex: 0 },
  });
});

test('an output over 256 KiB fails the state with States.DataLimitExceeded, which Catch cannot catch', async () => {
  const m = machine({
    StartAt: 'T',
    States: {
      T: { Type: 'Task', Resource: FN, Catch: [{ ErrorEquals: ['States.ALL'], Next: 'H' }], End: true },
      H: { Type: 'Pass', End: true },
    },
  });
  const o = await completeState(stepFor(m, {}), { ok: true, value: 'x'.repeat(300_000) });
  assert.equal(o.kind === 'fail' && o.error, 'States.DataLimitExceeded');
});

test('Fail states: Error and Cause from paths and intrinsics; Succeed applies OutputPath', async () => {
  const f = machine({
    StartAt: 'F',
    States: { F: { Type: 'Fail', ErrorPath: '$.code', CausePath: "States.Format('bad {}', $.id)" } },
  });
  assert.deepEqual(await evaluateState(stepFor(f, { code: 'E42', id: 7 })), {
    kind: 'fail',
    error: 'E42',
    cause: 'bad 7',
  });
  const s = machine({ StartAt: 'S', States: { S: { Type: 'Succeed', OutputPath: '$.r' } } });
  assert.deepEqual(await evaluateState(stepFor(s, { r: [1] })), { kind: 'end', output: [1] });
});
