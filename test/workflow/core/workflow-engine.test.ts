// The durable execution engine on both stores with the real invoke service of a test server:
// tasks run functions once, waits and retry backoff fire at their due time, task tokens,
// children, stop, timeouts, and a halted engine (kill -9 between "recorded" and "acted") whose
// work another engine finishes without invoking a recorded task again.

import assert from 'node:assert/strict';
import { after, afterEach, before, test } from 'node:test';
import type { InvokeRequest } from '../../../src/invoke/invoke-service.js';
import type { ExecutionRecord, WorkflowStore } from '../../../src/store/ports/workflows.js';
import type { Store } from '../../../src/store/store.js';
import { WorkflowEngine, type WorkflowEngineDeps } from '../../../src/workflow/core/workflow-engine.js';
import { installLeakGuard } from '../../helpers/leak-guard.js';
import { startTestServer, type TestServer } from '../../helpers/test-server.js';
import { forEachStore } from '../../helpers/test-stores.js';
import { scriptFrontEnd, type Script } from './script-front-end.js';

const APP = `app: wf
functions:
  double:
    handler: index.double
  flaky:
    handler: index.flaky
`;
const CODE = `
exports.double = async (e) => e.value * 2;
exports.flaky = async (e) => { if (e.attempt < 2) throw Object.assign(new Error('try again'), { name: 'Flaky' }); return e.value + 100; };
`;

let t: TestServer;
before(async () => {
  t = await startTestServer();
  await t.deployFiles({ 'nimbus.yml': APP, 'index.js': CODE });
});
after(() => t.close());
// After the server's close (hooks run in the order they were registered).
installLeakGuard();

/** The server's invoke service, counting calls per payload. */
function countingInvoker() {
  const calls: string[] = [];
  return {
    calls,
    invoke: (req: InvokeRequest) => {
      calls.push(`${req.functionName} ${req.payload.toString()}`);
      return t.server.platform.invoker.invoke(req);
    },
  };
}

const engines: WorkflowEngine[] = [];
function engineOn(store: Store, over: Partial<WorkflowEngineDeps> = {}) {
  const invoker = countingInvoker();
  const engine = new WorkflowEngine(
    {
      store: store.workflows,
      invoker,
      frontEnds: [scriptFrontEnd],
      onError: (err) => console.error(err),
      ...over,
    },
    {
      nodeId: 'node-a',
      region: 'us-east-1',
      accountId: '000000000000',
      pollMs: 100,
      timers: { pollMs: 100 },
      multipleWriters: store.capabilities.multipleWriters,
    },
  );
  engines.push(engine);
  return { engine, invoker };
}
// Before the stores close (their after hooks run at the end of the file).
afterEach(() => Promise.all(engines.splice(0).map((e) => e.stop())));

async function finished(engine: WorkflowEngine, id: string, timeoutMs = 20_000): Promise<ExecutionRecord> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const e = await engine.describeExecution(id);
    if (e.status !== 'RUNNING') return e;
    if (Date.now() > until) throw new Error(`execution ${id} still running: ${e.state}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

async function workflow(engine: WorkflowEngine, name: string, script: Script) {
  await engine.putWorkflow({
    name,
    app: 'wf',
    type: 'STANDARD',
    frontEnd: 'script',
    definition: JSON.stringify(script),
  });
}

forEachStore((_name, open) => {
  test('a task runs its function once and the result is recorded in the history', async () => {
    const { engine, invoker } = engineOn(await open());
    await engine.start();
    await workflow(engine, 'chain', { steps: [{ task: 'wf-double' }, { task: 'wf-double' }] });
    const { execution } = await engine.startExecution({ workflow: 'chain', name: 'one', input: '5' });
    assert.equal(execution.id, 'arn:aws:states:us-east-1:000000000000:execution:chain:one');
    const done = await finished(engine, execution.id);
    assert.deepEqual([done.status, done.output], ['SUCCEEDED', '20']);
    assert.deepEqual(invoker.calls, [
      'wf-double {"value":5,"attempt":0}',
      'wf-double {"value":10,"attempt":0}',
    ]);
    const history = await engine.store.getHistory(execution.id);
    assert.deepEqual(
      history.map((h) => h.type),
      [
        'ExecutionStarted',
        'TaskScheduled',
        'TaskSucceeded',
        'TaskScheduled',
        'TaskSucceeded',
        'ExecutionSucceeded',
      ],
    );
    assert.deepEqual(
      history.map((h) => h.id),
      [1, 2, 3, 4, 5, 6],
    );
    // Same name and input: the same execution; another input: ExecutionAlreadyExists.
    await assert.rejects(engine.startExecution({ workflow: 'chain', name: 'one', input: '5' }), {
      code: 'ExecutionAlreadyExists',
    });
    await assert.rejects(engine.startExecution({ workflow: 'nope', input: '5' }), {
      code: 'StateMachineDoesNotExist',
    });
    await assert.rejects(engine.startExecution({ workflow: 'chain', name: 'a/b' }), { code: 'InvalidName' });
  });

  test('a Wait fires at its due time and retry backoff waits before the next attempt', async () => {
    const { engine, invoker } = engineOn(await open());
    await engine.start();
    await workflow(engine, 'waity', {
      steps: [{ wait: 300 }, { task: 'wf-flaky', retry: { max: 3, delayMs: 150 } }],
    });
    const started = Date.now();
    const { execution } = await engine.startExecution({ workflow: 'waity', input: '1' });
    const done = await finished(engine, execution.id);
    assert.deepEqual([done.status, done.output], ['SUCCEEDED', '101']);
    assert.equal(invoker.calls.length, 3, 'two failures, then success');
    // Never earlier than the wait plus two backoffs (no upper bound: the machine may be slow).
    assert.ok(done.stoppedAt! - started >= 300 + 2 * 150, `finished after ${done.stoppedAt! - started} ms`);
    const types = (await engine.store.getHistory(execution.id)).map((h) => h.type);
    assert.equal(types.filter((x) => x === 'RetryTimerFired').length, 2);
  });

  test('task tokens: success, failure answers, heartbeat timeout, and stop closes the token', async () => {
    const { engine } = engineOn(await open());
    await engine.start();
    await workflow(engine, 'human', { steps: [{ callback: {} }, { task: 'wf-double' }] });
    const { execution } = await engine.startExecution({ workflow: 'human', input: '0' });
    const token = await openToken(engine, execution.id);
    await assert.rejects(engine.sendTaskSuccess('no-such-token', '{}'), { code: 'TaskDoesNotExist' });
    await assert.rejects(engine.sendTaskSuccess(token, 'not json'), {
      code: 'InvalidParameterValueException',
    });
    await engine.sendTaskHeartbeat(token);
    await engine.sendTaskSuccess(token, '21');
    await assert.rejects(engine.sendTaskSuccess(token, '1'), { code: 'TaskTimedOut' });
    assert.deepEqual([(await finished(engine, execution.id)).output], ['42']);

    await workflow(engine, 'hb', { steps: [{ callback: { heartbeatSeconds: 1 } }] });
    const hb = (await engine.startExecution({ workflow: 'hb', input: '0' })).execution;
    const hbToken = await openToken(engine, hb.id);
    const failed = await finished(engine, hb.id);
    assert.deepEqual([failed.status, failed.error], ['FAILED', 'States.HeartbeatTimeout']);
    await assert.rejects(engine.sendTaskHeartbeat(hbToken), { code: 'TaskTimedOut' });

    const stopped = (await engine.startExecution({ workflow: 'human', input: '0' })).execution;
    const stopToken = await openToken(engine, stopped.id);
    const aborted = await engine.stopExecution(stopped.id, 'Manual', 'test');
    assert.deepEqual([aborted.status, aborted.error], ['ABORTED', 'Manual']);
    await assert.rejects(engine.sendTaskSuccess(stopToken, '1'), { code: 'TaskTimedOut' });
    assert.equal(
      (await engine.store.getHistory(stopped.id, { reverse: true, limit: 1 }))[0]?.type,
      'ExecutionAborted',
    );
    await assert.rejects(engine.describeExecution('arn:nope'), { code: 'ExecutionDoesNotExist' });
  });

  test('child executions run in parallel and hand their outputs to the parent; execution timeouts', async () => {
    const { engine, invoker } = engineOn(await open());
    await engine.start();
    await workflow(engine, 'fan', { steps: [{ children: 3 }], child: [{ task: 'wf-double' }] });
    const { execution } = await engine.startExecution({ workflow: 'fan', input: 'null' });
    const done = await finished(engine, execution.id);
    assert.deepEqual([done.status, JSON.parse(done.output!)], ['SUCCEEDED', [0, 2, 4]]);
    assert.equal(invoker.calls.length, 3);
    assert.equal((await engine.store.listExecutions({ parentId: execution.id })).length, 3);

    await workflow(engine, 'slow', { steps: [{ wait: 60_000 }], timeoutMs: 200 });
    const slow = (await engine.startExecution({ workflow: 'slow', input: '0' })).execution;
    const timedOut = await finished(engine, slow.id);
    assert.deepEqual([timedOut.status, timedOut.error], ['TIMED_OUT', 'States.Timeout']);
  });

  test('kill between "recorded" and "acted": a restarted engine runs each recorded step once', async () => {
    const store = await open();
    // Every engine writes through this recorder: the order of invocations and recorded results.
    const log: string[] = [];
    const payloadOf = new Map<string, string>();
    const workflows = new Proxy(store.workflows, {
      get(target, prop, receiver) {
        const value: unknown = Reflect.get(target, prop, receiver);
        if (typeof value !== 'function') return value;
        if (prop === 'commitStep') {
          return async (...args: Parameters<WorkflowStore['commitStep']>) => {
            const ok = await target.commitStep(...args);
            if (ok)
              for (const task of args[2].tasks ?? []) payloadOf.set(task.token, task.invoke?.payload ?? '');
            return ok;
          };
        }
        if (prop === 'recordInvocation') {
          return async (...args: Parameters<WorkflowStore['recordInvocation']>) => {
            const ok = await target.recordInvocation(...args);
            if (ok) log.push(`recorded ${payloadOf.get(args[0])}`);
            return ok;
          };
        }
        return (value as (...a: unknown[]) => unknown).bind(target);
      },
    });
    const invoker = {
      invoke: (req: InvokeRequest) => {
        log.push(`called ${req.payload.toString()}`);
        return t.server.platform.invoker.invoke(req);
      },
    };
    const inputs = [1, 11, 21, 31];
    // Engine A halts (as kill -9) right after committing a step that schedules a task, before
    // invoking it.
    const a = engineOn(store, {
      store: workflows,
      invoker,
      afterCommit: (_id, decision) => {
        if ((decision.tasks ?? []).length > 0) void a.engine.halt();
      },
    });
    await a.engine.start();
    await workflow(a.engine, 'crash', {
      steps: [{ task: 'wf-double' }, { wait: 200 }, { task: 'wf-double' }],
    });
    const ids: string[] = [];
    for (const i of inputs)
      ids.push(
        (await a.engine.startExecution({ workflow: 'crash', name: `c${i}`, input: `${i}` })).execution.id,
      );
    await waitFor(async () => (await store.workflows.openTasks(ids[0]!)).length > 0);
    await a.engine.halt();
    assert.equal(log.filter((l) => l.startsWith('called')).length, 0, 'A invoked nothing');

    // Engine C (the same node restarted) halts as soon as it commits a Wait, after having
    // recorded that execution's first task result: that task must never run again, and the Wait
    // must still fire after the next restart.
    const c = engineOn(store, {
      store: workflows,
      invoker,
      afterCommit: (_id, decision) => {
        if ((decision.timers ?? []).length > 0) void c.engine.halt();
      },
    });
    await c.engine.start();
    await waitFor(async () =>
      (await store.workflows.listExecutions()).some((e) => e.state.includes('"waiting":"wait1"')),
    );
    await c.engine.halt();
    assert.ok(log.some((l) => l.startsWith('recorded')));

    const b = engineOn(store, { store: workflows, invoker });
    await b.engine.start();
    const done = await Promise.all(ids.map((id) => finished(b.engine, id)));
    assert.deepEqual(
      done.map((e) => [e.status, e.output]),
      inputs.map((i) => ['SUCCEEDED', String(i * 4)]),
    );
    // No invocation after its result was recorded; every task ran (at least once: a result a
    // dying engine never recorded may run again, as at-least-once allows).
    const recorded = new Set<string>();
    for (const line of log) {
      const [kind, payload] = [line.slice(0, line.indexOf(' ')), line.slice(line.indexOf(' ') + 1)];
      if (kind === 'recorded') recorded.add(payload);
      else assert.ok(!recorded.has(payload), `${payload} invoked again after its result was recorded`);
    }
    for (const i of inputs) {
      assert.ok(recorded.has(`{"value":${i},"attempt":0}`));
      assert.ok(recorded.has(`{"value":${i * 2},"attempt":0}`));
    }
  });
});

async function openToken(engine: WorkflowEngine, id: string): Promise<string> {
  let token: string | undefined;
  await waitFor(async () => {
    token = (await engine.store.openTasks(id)).find((x) => x.callback)?.token;
    return token !== undefined;
  });
  return token!;
}

async function waitFor(check: () => Promise<boolean>, timeoutMs = 20_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > until) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 20));
  }
}
