// WorkflowStore contract, run on every backend: versions, idempotent starts, leased steps that
// commit atomically, fire-once timers, task tokens and timeouts, child executions, stops.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { NewHistoryEvent, StepCommit } from '../../src/store/ports/workflows.js';
import type { Store } from '../../src/store/store.js';
import { installLeakGuard } from '../helpers/leak-guard.js';
import { forEachStore } from '../helpers/test-stores.js';

installLeakGuard();

const def = {
  name: 'shop-flow',
  app: 'shop',
  type: 'STANDARD' as const,
  frontEnd: 'test',
  definition: '{"v":1}',
};

async function started(store: Store, name = 'e1', now = 1_000) {
  await store.workflows.putWorkflow(def, now);
  const { execution } = await store.workflows.startExecution({
    id: `id-${name}`,
    workflow: def.name,
    name,
    input: '{"x":1}',
    state: '{}',
    events: [{ type: 'ExecutionStarted', details: '{"input":"{}"}' }],
    now,
  });
  return execution;
}

const step = (over: Partial<StepCommit> = {}): StepCommit => ({
  events: [],
  state: '{}',
  consumed: [],
  ...over,
});
const ev = (type: string, extra: Partial<NewHistoryEvent> = {}): NewHistoryEvent => ({ type, ...extra });

forEachStore((_name, open) => {
  test('putWorkflow versions changed definitions only; another app may not take the name', async () => {
    const w = (await open()).workflows;
    const v1 = await w.putWorkflow(def, 10);
    assert.equal(v1.version, 1);
    assert.equal((await w.putWorkflow(def, 20)).version, 1);
    const v2 = await w.putWorkflow({ ...def, definition: '{"v":2}' }, 30);
    assert.deepEqual([v2.version, v2.createdAt, v2.updatedAt], [2, 10, 30]);
    assert.equal((await w.getWorkflowVersion(def.name, 1))?.definition, '{"v":1}');
    assert.equal((await w.getWorkflow(def.name))?.definition, '{"v":2}');
    await assert.rejects(w.putWorkflow({ ...def, app: 'other' }), { code: 'ResourceConflictException' });
    assert.deepEqual(
      (await w.listWorkflows('shop')).map((r) => [r.name, r.version]),
      [['shop-flow', 2]],
    );
    assert.equal(await w.deleteWorkflow(def.name), true);
    assert.equal(await w.getWorkflow(def.name), undefined);
    // Running executions still read their version.
    assert.equal((await w.getWorkflowVersion(def.name, 2))?.definition, '{"v":2}');
  });

  test('startExecution is idempotent on the name and refuses unknown workflows', async () => {
    const store = await open();
    const w = store.workflows;
    await assert.rejects(
      w.startExecution({ id: 'x', workflow: 'nope', name: 'n', input: '{}', state: '{}', events: [] }),
      { code: 'StateMachineDoesNotExist' },
    );
    const e = await started(store);
    assert.deepEqual([e.status, e.lastEventId, e.nextRunAt, e.workflowVersion], ['RUNNING', 1, 1000, 1]);
    const again = await w.startExecution({
      id: 'id-other',
      workflow: def.name,
      name: 'e1',
      input: '{"x":2}',
      state: '{}',
      events: [],
    });
    assert.equal(again.created, false);
    assert.equal(again.execution.id, 'id-e1');
    assert.equal((await w.findExecution(def.name, 'e1'))?.input, '{"x":1}');
    const history = await w.getHistory('id-e1');
    assert.deepEqual(
      history.map((h) => [h.id, h.previousEventId, h.type]),
      [[1, 0, 'ExecutionStarted']],
    );
  });

  test('claims lease an execution to one owner; a step commits events, tasks and timers atomically', async () => {
    const store = await open();
    const w = store.workflows;
    await started(store);
    const [a, b] = await Promise.all([
      w.claimExecutions('n1', 10, 5000, 2000),
      w.claimExecutions('n2', 10, 5000, 2000),
    ]);
    assert.equal(a.length + b.length, 1, 'exactly one claimer wins');
    const owner = a.length === 1 ? 'n1' : 'n2';
    const loser = owner === 'n1' ? 'n2' : 'n1';
    assert.equal(await w.commitStep('id-e1', loser, step(), 2001), false, 'a non-owner cannot commit');
    const ok = await w.commitStep(
      'id-e1',
      owner,
      step({
        events: [
          ev('TaskStateEntered'),
          ev('TaskScheduled', { previousEventId: -1 }),
          ev('Other', { previousEventId: 1 }),
        ],
        state: '{"at":"A"}',
        tasks: [
          { token: 't1', ref: 'A#1', invoke: { functionName: 'shop-fn', payload: '{}' }, callback: false },
        ],
        timers: [{ id: 'tm1', ref: 'wait', dueAt: 5000 }],
        taskLease: { owner, until: 9000 },
      }),
      2001,
    );
    assert.equal(ok, true);
    const e = await w.getExecution('id-e1');
    assert.deepEqual(
      [e?.state, e?.lastEventId, e?.nextRunAt, e?.leaseOwner],
      ['{"at":"A"}', 4, undefined, undefined],
    );
    const history = await w.getHistory('id-e1', { afterId: 1 });
    assert.deepEqual(
      history.map((h) => [h.id, h.previousEventId, h.type]),
      [
        [2, 1, 'TaskStateEntered'],
        [3, 2, 'TaskScheduled'],
        [4, 1, 'Other'],
      ],
    );
    assert.deepEqual(
      (await w.getHistory('id-e1', { reverse: true, limit: 2 })).map((h) => h.id),
      [4, 3],
    );
    // The task is leased to the committing owner: nobody else claims it until that lease ends.
    assert.deepEqual(await w.claimTasks('n3', 10, 1000, 3000), []);
    const reclaimed = await w.claimTasks('n3', 10, 1000, 9000);
    assert.deepEqual(
      reclaimed.map((t) => [t.token, t.attempts, t.leaseOwner]),
      [['t1', 2, 'n3']],
    );
    assert.deepEqual(await w.claimExecutions('n1', 10, 5000, 3000), [], 'waiting: not runnable');
  });

  test('a recorded invocation result is final and wakes the execution once', async () => {
    const store = await open();
    const w = store.workflows;
    await started(store);
    await w.claimExecutions('n1', 1, 5000, 2000);
    await w.commitStep(
      'id-e1',
      'n1',
      step({
        tasks: [{ token: 't1', ref: 'A', invoke: { functionName: 'f', payload: '{}' }, callback: false }],
        taskLease: { owner: 'n1', until: 9000 },
      }),
      2000,
    );
    assert.equal(
      await w.recordInvocation('t1', 'n2', { status: 'SUCCEEDED', result: '1' }, 2100),
      false,
      'not the lease holder',
    );
    assert.equal(await w.recordInvocation('t1', 'n1', { status: 'SUCCEEDED', result: '"r"' }, 2100), true);
    assert.equal(
      await w.recordInvocation('t1', undefined, { status: 'FAILED', error: 'E', cause: 'c' }, 2200),
      false,
    );
    assert.deepEqual(
      await w.claimTasks('n1', 10, 1000, 99_999),
      [],
      'a recorded task is never claimed again',
    );
    const [e] = await w.claimExecutions('n1', 1, 5000, 2200);
    assert.equal(e?.id, 'id-e1');
    const pending = await w.pendingCompletions('id-e1');
    assert.deepEqual(pending, [
      {
        kind: 'task',
        ref: 'A',
        token: 't1',
        status: 'SUCCEEDED',
        result: '"r"',
        error: undefined,
        cause: undefined,
      },
    ]);
    assert.equal(
      await w.commitStep(
        'id-e1',
        'n1',
        step({ consumed: pending, end: { status: 'SUCCEEDED', output: '"r"' } }),
        2300,
      ),
      true,
    );
    assert.deepEqual(await w.pendingCompletions('id-e1'), []);
    const done = await w.getExecution('id-e1');
    assert.deepEqual(
      [done?.status, done?.output, done?.stoppedAt, done?.nextRunAt],
      ['SUCCEEDED', '"r"', 2300, undefined],
    );
  });

  test('a completion recorded while a step is decided keeps the execution runnable', async () => {
    const store = await open();
    const w = store.workflows;
    await started(store);
    await w.claimExecutions('n1', 1, 5000, 2000);
    await w.commitStep('id-e1', 'n1', step({ tasks: [{ token: 't1', ref: 'A', callback: true }] }), 2000);
    await w.claimExecutions('n1', 1, 5000, 2000).then((r) => assert.equal(r.length, 0));
    // Make it runnable (e.g. an earlier timer), claim, then the token completes mid-decision.
    await w.commitStep('id-e1', 'n1', step(), 2000).then((r) => assert.equal(r, false));
    assert.equal(await w.completeToken('t1', { status: 'SUCCEEDED', result: '{}' }, 2050), 'ok');
    const [e] = await w.claimExecutions('n1', 1, 5000, 2100);
    assert.ok(e);
    assert.equal(await w.completeToken('t1', { status: 'SUCCEEDED', result: '{}' }, 2150), 'closed');
    // The step consumes nothing and waits: the unconsumed completion must keep it runnable.
    assert.equal(await w.commitStep('id-e1', 'n1', step(), 2200), true);
    assert.equal((await w.getExecution('id-e1'))?.nextRunAt, 2200);
  });

  test('task tokens: unknown, heartbeat, heartbeat timeout and closed answers', async () => {
    const store = await open();
    const w = store.workflows;
    await started(store);
    await w.claimExecutions('n1', 1, 5000, 2000);
    await w.commitStep(
      'id-e1',
      'n1',
      step({
        tasks: [
          { token: 'cb', ref: 'A', callback: true, heartbeatSeconds: 2, timeoutAt: 100_000 },
          { token: 'plain', ref: 'B', invoke: { functionName: 'f', payload: '{}' }, callback: false },
        ],
      }),
      2000,
    );
    assert.equal(await w.completeToken('nope', { status: 'SUCCEEDED', result: '1' }), 'unknown');
    assert.equal(await w.completeToken('plain', { status: 'SUCCEEDED', result: '1' }), 'unknown');
    assert.equal(await w.nextDue(), 4000);
    assert.equal(await w.heartbeatToken('cb', 3000), 'ok');
    assert.equal(await w.nextDue(), 5000);
    assert.deepEqual(await w.fireDue(4500, 10), { timers: 0, tasks: 0 });
    assert.deepEqual(await w.fireDue(5000, 10), { timers: 0, tasks: 1 });
    const t = await w.getTask('cb');
    assert.deepEqual([t?.status, t?.error], ['TIMED_OUT', 'States.HeartbeatTimeout']);
    assert.equal(await w.heartbeatToken('cb', 5100), 'timed-out');
    assert.equal(await w.completeToken('cb', { status: 'FAILED', error: 'E', cause: 'c' }), 'timed-out');
    assert.equal((await w.getExecution('id-e1'))?.nextRunAt, 5000, 'the timeout woke the execution');
  });

  test('timers fire exactly once under concurrent firers and survive a reopen', async () => {
    const store = await open();
    const w = store.workflows;
    await started(store);
    await w.claimExecutions('n1', 1, 5000, 2000);
    const timers = Array.from({ length: 20 }, (_, i) => ({ id: `tm${i}`, ref: `r${i}`, dueAt: 3000 + i }));
    await w.commitStep('id-e1', 'n1', step({ timers }), 2000);
    assert.equal(await w.nextDue(), 3000);
    const results = await Promise.all([w.fireDue(3100, 50), w.fireDue(3100, 50), w.fireDue(3100, 50)]);
    assert.equal(
      results.reduce((n, r) => n + r.timers, 0),
      20,
    );
    assert.equal(await w.nextDue(), undefined);
    const pending = await w.pendingCompletions('id-e1');
    assert.equal(pending.length, 20);
    assert.deepEqual(pending[0], { kind: 'timer', ref: 'r0', id: 'tm0', payload: undefined });
  });

  test('child executions wake their parent when they end; ending the parent aborts open children', async () => {
    const store = await open();
    const w = store.workflows;
    await started(store);
    await w.claimExecutions('n1', 1, 5000, 2000);
    await w.commitStep(
      'id-e1',
      'n1',
      step({
        children: [
          { id: 'c1', ref: 'map#0', name: 'e1/map#0', input: '1', state: '{}' },
          { id: 'c2', ref: 'map#1', name: 'e1/map#1', input: '2', state: '{}' },
        ],
      }),
      2000,
    );
    const claimed = await w.claimExecutions('n1', 10, 5000, 2100);
    assert.deepEqual(claimed.map((c) => [c.id, c.parentId, c.parentRef]).sort(), [
      ['c1', 'id-e1', 'map#0'],
      ['c2', 'id-e1', 'map#1'],
    ]);
    assert.equal(
      await w.commitStep('c1', 'n1', step({ end: { status: 'SUCCEEDED', output: '10' } }), 2200),
      true,
    );
    await w.releaseExecution('c2', 'n1', 99_999);
    assert.deepEqual(
      (await w.listExecutions()).map((e) => e.id),
      ['id-e1'],
      'children are not listed by default',
    );
    assert.equal((await w.listExecutions({ parentId: 'id-e1' })).length, 2);
    const [parent] = await w.claimExecutions('n1', 10, 5000, 2300);
    assert.equal(parent?.id, 'id-e1');
    const pending = await w.pendingCompletions('id-e1');
    assert.deepEqual(
      pending.map((p) => (p.kind === 'child' ? [p.ref, p.status, p.output] : [])),
      [['map#0', 'SUCCEEDED', '10']],
    );
    await w.releaseExecution('id-e1', 'n1');
    // Stop the parent from outside: the open child is aborted with it, events recorded.
    assert.equal(
      await w.endExecution(
        'id-e1',
        { status: 'ABORTED', error: 'stop', cause: 'by test' },
        [ev('ExecutionAborted')],
        2400,
      ),
      true,
    );
    assert.equal(await w.endExecution('id-e1', { status: 'ABORTED' }, [], 2500), false);
    assert.deepEqual(
      [(await w.getExecution('c2'))?.status, (await w.getExecution('id-e1'))?.lastEventId],
      ['ABORTED', 2],
    );
    assert.equal(await w.commitStep('c2', 'n1', step(), 2600), false);
  });

  test('a stop wins over a step in flight; open tasks are cancelled and their tokens closed', async () => {
    const store = await open();
    const w = store.workflows;
    await started(store);
    await w.claimExecutions('n1', 1, 5000, 2000);
    await w.commitStep(
      'id-e1',
      'n1',
      step({
        tasks: [{ token: 'cb', ref: 'A', callback: true }],
        timers: [{ id: 'tm', ref: 'w', dueAt: 9000 }],
        nextRunAt: 2000,
      }),
      2000,
    );
    await w.claimExecutions('n1', 1, 5000, 2100);
    assert.equal(await w.endExecution('id-e1', { status: 'ABORTED' }, [ev('ExecutionAborted')], 2200), true);
    assert.equal(await w.commitStep('id-e1', 'n1', step({ events: [ev('X')] }), 2300), false);
    assert.equal(await w.completeToken('cb', { status: 'SUCCEEDED', result: '1' }), 'closed');
    assert.equal(await w.nextDue(), undefined, 'the timer was removed');
    assert.equal((await w.getHistory('id-e1')).at(-1)?.type, 'ExecutionAborted');
  });

  test('appendEvents is a compare-and-set on the last event id', async () => {
    const store = await open();
    const w = store.workflows;
    await started(store);
    assert.equal(await w.appendEvents('id-e1', 0, [ev('Stale')]), false);
    assert.equal(await w.appendEvents('id-e1', 1, [ev('A'), ev('B')], '{"s":1}'), true);
    const e = await w.getExecution('id-e1');
    assert.deepEqual([e?.lastEventId, e?.state], [3, '{"s":1}']);
  });

  test("deadlines, listing with a cursor, and releasing a dead owner's leases", async () => {
    const store = await open();
    const w = store.workflows;
    await w.putWorkflow(def);
    for (let i = 0; i < 5; i++) {
      await w.startExecution({
        id: `id-${i}`,
        workflow: def.name,
        name: `n${i}`,
        input: '{}',
        state: '{}',
        events: [],
        deadlineAt: i === 2 ? 1500 : undefined,
        now: 1000 + i,
      });
    }
    assert.deepEqual(
      (await w.overdueExecutions(1600, 10)).map((e) => e.id),
      ['id-2'],
    );
    assert.equal(await w.nextDue(), 1500);
    const page1 = await w.listExecutions({ workflow: def.name, limit: 2 });
    assert.deepEqual(
      page1.map((e) => e.id),
      ['id-4', 'id-3'],
    );
    const last = page1.at(-1)!;
    const page2 = await w.listExecutions({
      workflow: def.name,
      limit: 2,
      after: { startedAt: last.startedAt, id: last.id },
    });
    assert.deepEqual(
      page2.map((e) => e.id),
      ['id-2', 'id-1'],
    );
    assert.equal((await w.claimExecutions('dead', 10, 60_000, 2000)).length, 5);
    assert.equal((await w.claimExecutions('alive', 10, 60_000, 2000)).length, 0);
    assert.equal(await w.releaseLeases('other'), 0);
    assert.equal(await w.releaseLeases('dead'), 5);
    assert.equal((await w.claimExecutions('alive', 10, 60_000, 2000)).length, 5);
    assert.equal(await w.releaseLeases(), 5);
    assert.equal((await w.listExecutions({ status: 'RUNNING' })).length, 5);
  });
});
