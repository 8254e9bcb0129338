// ASL state machines on the durable engine (both stores, a real server's invoke service): Pass,
// Choice, Task (by name and lambda:invoke), Wait, Retry with backoff, .waitForTaskToken, Fail.

import assert from 'node:assert/strict';
import { after, afterEach, before, test } from 'node:test';
import { aslFrontEnd } from '../../../src/workflow/asl-front-end/asl-front-end.js';
import { WorkflowEngine } from '../../../src/workflow/core/workflow-engine.js';
import type { ExecutionRecord } from '../../../src/store/ports/workflows.js';
import type { Store } from '../../../src/store/store.js';
import { installLeakGuard } from '../../helpers/leak-guard.js';
import { startTestServer, type TestServer } from '../../helpers/test-server.js';
import { forEachStore } from '../../helpers/test-stores.js';

const APP = `app: asl
functions:
  add:
    handler: index.add
  flaky:
    handler: index.flaky
`;
const CODE = `
exports.add = async (e) => ({ sum: e.a + e.b });
exports.flaky = async (e) => { if (e.n < 2) throw Object.assign(new Error('not yet'), { name: 'NotYet' }); return 'ok'; };
`;

let t: TestServer;
before(async () => {
  t = await startTestServer();
  await t.deployFiles({ 'nimbus.yml': APP, 'index.js': CODE });
});
after(() => t.close());
installLeakGuard();

const engines: WorkflowEngine[] = [];
afterEach(() => Promise.all(engines.splice(0).map((e) => e.stop())));

async function engineOn(open: () => Promise<Store>) {
  const store = await open();
  const engine = new WorkflowEngine(
    {
      store: store.workflows,
      invoker: t.server.platform.invoker,
      frontEnds: [aslFrontEnd],
      onError: (e) => console.error(e),
    },
    { nodeId: 'n', region: 'us-east-1', accountId: '000000000000', pollMs: 100, timers: { pollMs: 100 } },
  );
  engines.push(engine);
  await engine.start();
  return engine;
}

async function run(engine: WorkflowEngine, definition: unknown, input: unknown): Promise<ExecutionRecord> {
  const name = `m${Math.random().toString(36).slice(2, 8)}`;
  await engine.putWorkflow({
    name,
    app: 'asl',
    type: 'STANDARD',
    frontEnd: 'asl',
    definition: JSON.stringify(definition),
  });
  const { execution } = await engine.startExecution({ workflow: name, input: JSON.stringify(input) });
  const until = Date.now() + 20_000;
  for (;;) {
    const e = await engine.describeExecution(execution.id);
    if (e.status !== 'RUNNING') return e;
    if (Date.now() > until) throw new Error(`still running: ${e.state}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

forEachStore((_name, open) => {
  test('Pass, Choice, Task by name and lambda:invoke, Wait, Succeed', async () => {
    const engine = await engineOn(open);
    const done = await run(
      engine,
      {
        StartAt: 'Init',
        States: {
          Init: { Type: 'Pass', Result: { a: 1, b: 2 }, ResultPath: '$.args', Next: 'Add' },
          Add: {
            Type: 'Task',
            Resource: 'arn:aws:lambda:us-east-1:000000000000:function:asl-add',
            InputPath: '$.args',
            ResultPath: '$.r1',
            Next: 'Nap',
          },
          Nap: { Type: 'Wait', Seconds: 1, Next: 'Again' },
          Again: {
            Type: 'Task',
            Resource: 'arn:aws:states:::lambda:invoke',
            Parameters: {
              FunctionName: 'arn:aws:lambda:us-east-1:000000000000:function:asl-add',
              Payload: { 'a.$': '$.r1.sum', b: 10 },
            },
            ResultSelector: { 'sum.$': '$.Payload.sum' },
            ResultPath: '$.r2',
            Next: 'Big?',
          },
          'Big?': {
            Type: 'Choice',
            Choices: [{ Variable: '$.r2.sum', NumericGreaterThan: 10, Next: 'Done' }],
            Default: 'Nope',
          },
          Nope: { Type: 'Fail', Error: 'Small', Cause: 'too small' },
          Done: { Type: 'Succeed', OutputPath: '$.r2' },
        },
      },
      {},
    );
    assert.deepEqual([done.status, JSON.parse(done.output ?? 'null')], ['SUCCEEDED', { sum: 13 }]);
    const types = (await engine.store.getHistory(done.id)).map((h) => h.type);
    assert.equal(types[0], 'ExecutionStarted');
    assert.equal(types.at(-1), 'ExecutionSucceeded');
    assert.equal(types.filter((x) => x === 'TaskScheduled').length, 2);
    // One WaitStateExited per Wait, as AWS (the timer's completion logged a second one).
    assert.deepEqual(
      types.filter((x) => x.startsWith('WaitState')),
      ['WaitStateEntered', 'WaitStateExited'],
    );
  });

  test('Retry with backoff, then Catch-free failure and the function error name', async () => {
    const engine = await engineOn(open);
    const ok = await run(
      engine,
      {
        StartAt: 'Flaky',
        States: {
          Flaky: {
            Type: 'Task',
            Resource: 'arn:aws:lambda:us-east-1:000000000000:function:asl-flaky',
            Parameters: { 'n.$': '$$.State.RetryCount' },
            Retry: [{ ErrorEquals: ['NotYet'], IntervalSeconds: 1, MaxAttempts: 3, BackoffRate: 1 }],
            End: true,
          },
        },
      },
      {},
    );
    assert.deepEqual([ok.status, ok.output], ['SUCCEEDED', '"ok"']);
    assert.ok(ok.stoppedAt! - ok.startedAt >= 2000, 'two 1 s backoffs were waited');
    const failed = await run(
      engine,
      {
        StartAt: 'F',
        States: {
          F: {
            Type: 'Task',
            Resource: 'arn:aws:lambda:us-east-1:000000000000:function:asl-flaky',
            Parameters: { n: 0 },
            End: true,
          },
        },
      },
      {},
    );
    assert.deepEqual([failed.status, failed.error], ['FAILED', 'NotYet']);
  });

  test('.waitForTaskToken hands $$.Task.Token to the function and waits for SendTaskSuccess', async () => {
    const engine = await engineOn(open);
    const name = 'tok';
    await engine.putWorkflow({
      name,
      app: 'asl',
      type: 'STANDARD',
      frontEnd: 'asl',
      definition: JSON.stringify({
        StartAt: 'Ask',
        States: {
          Ask: {
            Type: 'Task',
            Resource: 'arn:aws:states:::lambda:invoke.waitForTaskToken',
            Parameters: { FunctionName: 'asl-add', Payload: { a: 1, b: 1, 'token.$': '$$.Task.Token' } },
            End: true,
          },
        },
      }),
    });
    const { execution } = await engine.startExecution({ workflow: name, input: '{}' });
    let token: string | undefined;
    for (let i = 0; i < 500 && token === undefined; i++) {
      const open = await engine.store.openTasks(execution.id);
      if (open[0]?.status === 'STARTED') token = open[0].token;
      else await new Promise((r) => setTimeout(r, 20));
    }
    const task = await engine.store.getTask(token!);
    assert.equal(JSON.parse(task!.invoke!.payload).token, token, 'the function got the token');
    await engine.sendTaskSuccess(token!, '{"approved":true}');
    for (let i = 0; i < 500; i++) {
      const e = await engine.describeExecution(execution.id);
      if (e.status !== 'RUNNING') {
        assert.deepEqual([e.status, e.output], ['SUCCEEDED', '{"approved":true}']);
        return;
      }
      await new Promise((r) => setTimeout(r, 20));
    }
    assert.fail('did not finish');
  });
});
