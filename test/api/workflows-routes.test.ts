// The /v1 workflows routes over real HTTP against a real server on SQLite and PostgreSQL: a
// 3-Task workflow of deployed functions, Wait, .waitForTaskToken completed through the route,
// name-based idempotency, listing and history paging, bad input, and another app's token.

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { installLeakGuard } from '../helpers/leak-guard.js';
import { startTestServer, type TestServer } from '../helpers/test-server.js';
import { forEachStore } from '../helpers/test-stores.js';

const APP_A = `app: wfa
functions:
  inc:
    handler: index.inc
  dbl:
    handler: index.dbl
  fmt:
    handler: index.fmt
  park:
    handler: index.park
`;
const CODE_A = `
exports.inc = async (e) => ({ x: e.x + 1 });
exports.dbl = async (e) => ({ x: e.x * 2 });
exports.fmt = async (e) => ({ result: 'v=' + e.x });
exports.park = async () => ({ parked: true });
`;
const APP_B = `app: wfb
functions:
  noop:
    handler: index.noop
`;
const ARN = 'arn:aws:lambda:us-east-1:000000000000:function:';
// The answers are loose JSON read field by field in assertions.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Answer = Record<string, any>;

const THREE_TASKS = {
  StartAt: 'Inc',
  States: {
    Inc: { Type: 'Task', Resource: `${ARN}wfa-inc`, Next: 'Nap' },
    Nap: { Type: 'Wait', Seconds: 1, Next: 'Dbl' },
    Dbl: { Type: 'Task', Resource: `${ARN}wfa-dbl:$LATEST`, Next: 'Fmt' },
    Fmt: {
      Type: 'Task',
      Resource: 'arn:aws:states:::lambda:invoke',
      Parameters: { FunctionName: `${ARN}wfa-fmt`, 'Payload.$': '$' },
      OutputPath: '$.Payload',
      End: true,
    },
  },
};

const CALLBACK = {
  StartAt: 'Approve',
  States: {
    Approve: {
      Type: 'Task',
      Resource: 'arn:aws:states:::lambda:invoke.waitForTaskToken',
      Parameters: { FunctionName: 'wfa-park', Payload: { 'token.$': '$$.Task.Token' } },
      ResultPath: '$.approval',
      End: true,
    },
  },
};

installLeakGuard();

forEachStore((_name, open) => {
  let t: TestServer;
  let tokenB: string;
  before(async () => {
    t = await startTestServer({ store: await open() });
    await t.deployFiles({ 'nimbus.yml': APP_A, 'index.js': CODE_A });
    await t.deployFiles({ 'nimbus.yml': APP_B, 'index.js': 'exports.noop = async () => null;' });
    tokenB = await t.server.platform.auth.appToken('wfb');
  });
  after(() => t.close());

  const call = async (method: string, path: string, body?: unknown, token?: string) => {
    const res = await (token === undefined ? t.fetchV1 : fetchAs(token))(path, {
      method,
      ...(body === undefined
        ? {}
        : {
            body: typeof body === 'string' ? body : JSON.stringify(body),
            headers: { 'content-type': 'application/json' },
          }),
    });
    const text = await res.text();
    return { status: res.status, body: (text === '' ? {} : JSON.parse(text)) as Answer };
  };
  const fetchAs = (token: string) => (path: string, init: RequestInit) =>
    fetch(t.url + path, {
      ...init,
      headers: { ...(init.headers as Record<string, string>), authorization: `Bearer ${token}` },
    });

  async function finished(workflow: string, name: string): Promise<Answer> {
    const until = Date.now() + 20_000;
    for (;;) {
      const { body } = await call('GET', `/v1/workflows/${workflow}/executions/${name}`);
      if (body.status !== 'RUNNING') return body;
      if (Date.now() > until) throw new Error(`still running: ${JSON.stringify(body)}`);
      await new Promise((r) => setTimeout(r, 25));
    }
  }

  test('a 3-Task workflow with a Wait runs deployed functions to the right output', async () => {
    const put = await call('PUT', '/v1/workflows/wfa-pipeline', { app: 'wfa', definition: THREE_TASKS });
    assert.equal(put.status, 201, JSON.stringify(put.body));
    assert.deepEqual([put.body.name, put.body.app, put.body.version], ['wfa-pipeline', 'wfa', 1]);
    const again = await call('PUT', '/v1/workflows/wfa-pipeline', {
      app: 'wfa',
      definition: JSON.stringify(THREE_TASKS),
    });
    assert.deepEqual([again.status, again.body.version], [200, 1], 'the same definition keeps its version');

    const started = await call('POST', '/v1/workflows/wfa-pipeline/executions', {
      name: 'run1',
      input: { x: 3 },
    });
    assert.equal(started.status, 201, JSON.stringify(started.body));
    assert.equal(
      started.body.executionArn,
      'arn:aws:states:us-east-1:000000000000:execution:wfa-pipeline:run1',
    );
    // Name-based idempotency: the same name and input answer the same execution while it runs.
    const same = await call('POST', '/v1/workflows/wfa-pipeline/executions', {
      name: 'run1',
      input: { x: 3 },
    });
    assert.deepEqual([same.status, same.body.executionArn], [200, started.body.executionArn]);
    const other = await call('POST', '/v1/workflows/wfa-pipeline/executions', {
      name: 'run1',
      input: { x: 4 },
    });
    assert.deepEqual([other.status, other.body.code], [400, 'ExecutionAlreadyExists']);

    const done = await finished('wfa-pipeline', 'run1');
    assert.deepEqual([done.status, done.output, done.input], ['SUCCEEDED', { result: 'v=8' }, { x: 3 }]);
    assert.ok(Date.parse(done.stopDate) - Date.parse(done.startDate) >= 1000, 'the Wait was waited');

    const history = await call('GET', '/v1/workflows/wfa-pipeline/executions/run1/history');
    const types = history.body.events.map((e: { type: string }) => e.type);
    assert.equal(types[0], 'ExecutionStarted');
    assert.equal(types.at(-1), 'ExecutionSucceeded');
    assert.equal(types.filter((x: string) => x === 'TaskScheduled').length, 3);
    // Paging and reverse order walk the same events.
    const pages: number[] = [];
    let next: string | undefined;
    do {
      const page = await call(
        'GET',
        `/v1/workflows/wfa-pipeline/executions/run1/history?reverse=true&limit=4${next ? `&nextToken=${next}` : ''}`,
      );
      assert.ok(page.body.events.length <= 4);
      pages.push(...page.body.events.map((e: { id: number }) => e.id));
      next = page.body.nextToken;
    } while (next !== undefined);
    assert.deepEqual(pages, history.body.events.map((e: { id: number }) => e.id).reverse());
    // A finished execution's name cannot be reused.
    const reuse = await call('POST', '/v1/workflows/wfa-pipeline/executions', {
      name: 'run1',
      input: { x: 3 },
    });
    assert.equal(reuse.body.code, 'ExecutionAlreadyExists');
  });

  test('.waitForTaskToken completed through the task routes; list, status filter, paging, stop', async () => {
    assert.equal(
      (await call('PUT', '/v1/workflows/wfa-approve', { app: 'wfa', definition: CALLBACK })).status,
      201,
    );
    for (const name of ['a1', 'a2', 'a3']) {
      assert.equal((await call('POST', '/v1/workflows/wfa-approve/executions', { name })).status, 201);
    }
    const tokenOf = async (name: string): Promise<string> => {
      const until = Date.now() + 10_000;
      for (;;) {
        const { body } = await call('GET', `/v1/workflows/wfa-approve/executions/${name}/history`);
        const scheduled = body.events.find((e: { type: string }) => e.type === 'TaskScheduled');
        if (scheduled) return JSON.parse(scheduled.details.parameters).Payload.token;
        if (Date.now() > until) throw new Error('no TaskScheduled');
        await new Promise((r) => setTimeout(r, 25));
      }
    };
    const token1 = await tokenOf('a1');
    // Another app's token cannot see or complete it: the token answers as unknown.
    const foreign = await call('POST', `/v1/workflow-tasks/${token1}/success`, { output: {} }, tokenB);
    assert.deepEqual([foreign.status, foreign.body.code], [404, 'TaskDoesNotExist']);
    assert.equal((await call('POST', `/v1/workflow-tasks/${token1}/heartbeat`, {})).status, 200);
    const ok = await call('POST', `/v1/workflow-tasks/${token1}/success`, { output: { approved: true } });
    assert.equal(ok.status, 200, JSON.stringify(ok.body));
    const a1 = await finished('wfa-approve', 'a1');
    assert.deepEqual([a1.status, a1.output], ['SUCCEEDED', { approval: { approved: true } }]);
    const used = await call('POST', `/v1/workflow-tasks/${token1}/success`, { output: {} });
    assert.deepEqual([used.status, used.body.code], [400, 'TaskTimedOut']);

    const token2 = await tokenOf('a2');
    const failed = await call('POST', `/v1/workflow-tasks/${token2}/failure`, {
      error: 'Rejected',
      cause: 'no',
    });
    assert.equal(failed.status, 200);
    const a2 = await finished('wfa-approve', 'a2');
    assert.deepEqual([a2.status, a2.error, a2.cause], ['FAILED', 'Rejected', 'no']);

    await tokenOf('a3');
    const stopped = await call('POST', '/v1/workflows/wfa-approve/executions/a3/stop', { error: 'Enough' });
    assert.deepEqual([stopped.status, stopped.body.status, stopped.body.error], [200, 'ABORTED', 'Enough']);

    const all = await call('GET', '/v1/workflows/wfa-approve/executions');
    assert.deepEqual(all.body.executions.map((e: { name: string }) => e.name).sort(), ['a1', 'a2', 'a3']);
    const onlyFailed = await call('GET', '/v1/workflows/wfa-approve/executions?status=FAILED');
    assert.deepEqual(
      onlyFailed.body.executions.map((e: { name: string }) => e.name),
      ['a2'],
    );
    const seen: string[] = [];
    let next: string | undefined;
    do {
      const page = await call(
        'GET',
        `/v1/workflows/wfa-approve/executions?limit=2${next ? `&nextToken=${next}` : ''}`,
      );
      seen.push(...page.body.executions.map((e: { name: string }) => e.name));
      next = page.body.nextToken;
    } while (next !== undefined);
    assert.deepEqual(seen.sort(), ['a1', 'a2', 'a3']);

    const listed = await call('GET', '/v1/workflows?app=wfa');
    assert.ok(listed.body.workflows.some((w: { name: string }) => w.name === 'wfa-approve'));
    assert.equal((await call('DELETE', '/v1/workflows/wfa-approve')).status, 204);
    const gone = await call('GET', '/v1/workflows/wfa-approve');
    assert.deepEqual([gone.status, gone.body.code], [404, 'StateMachineDoesNotExist']);
  });

  test('bad input: invalid definitions name the state, bad names, bodies, filters and tokens', async () => {
    const bad = await call('PUT', '/v1/workflows/wfa-bad', {
      app: 'wfa',
      definition: { StartAt: 'A', States: { A: { Type: 'Pass', Next: 'Nowhere' } } },
    });
    assert.deepEqual([bad.status, bad.body.code], [400, 'InvalidDefinition']);
    assert.match(bad.body.message, /\/States\/A/);
    assert.equal((await call('GET', '/v1/workflows/wfa-bad')).status, 404, 'nothing was stored');
    const notJson = await call('PUT', '/v1/workflows/wfa-bad', { app: 'wfa', definition: '{nope' });
    assert.deepEqual([notJson.status, notJson.body.code], [400, 'InvalidDefinition']);
    const unknownField = await call('PUT', '/v1/workflows/wfa-bad', {
      app: 'wfa',
      definition: THREE_TASKS,
      x: 1,
    });
    assert.deepEqual([unknownField.status, unknownField.body.code], [400, 'InvalidParameterValueException']);
    const badName = await call('PUT', '/v1/workflows/a%20b', { app: 'wfa', definition: THREE_TASKS });
    assert.deepEqual([badName.status, badName.body.code], [400, 'InvalidName']);
    const express = await call('PUT', '/v1/workflows/wfa-x', {
      app: 'wfa',
      definition: THREE_TASKS,
      type: 'EXPRESS',
    });
    assert.deepEqual([express.status, express.body.code], [400, 'InvalidParameterValueException']);

    assert.equal(
      (await call('PUT', '/v1/workflows/wfa-ok', { app: 'wfa', definition: THREE_TASKS })).status,
      201,
    );
    const badExec = await call('POST', '/v1/workflows/wfa-ok/executions', { name: 'has space' });
    assert.deepEqual([badExec.status, badExec.body.code], [400, 'InvalidName']);
    const badText = await call('POST', '/v1/workflows/wfa-ok/executions', { inputText: '{oops' });
    assert.deepEqual([badText.status, badText.body.code], [400, 'InvalidParameterValueException']);
    const big = await call('POST', '/v1/workflows/wfa-ok/executions', { input: { s: 'x'.repeat(300_000) } });
    assert.deepEqual([big.status, big.body.code], [400, 'InvalidParameterValueException']);
    assert.match(big.body.message, /DataLimitExceeded/);
    const notBody = await call('POST', '/v1/workflows/wfa-ok/executions', '{');
    assert.equal(notBody.status, 400);
    const status = await call('GET', '/v1/workflows/wfa-ok/executions?status=DONE');
    assert.deepEqual([status.status, status.body.code], [400, 'InvalidParameterValueException']);
    const limit = await call('GET', '/v1/workflows/wfa-ok/executions?limit=0');
    assert.equal(limit.status, 400);
    const cursor = await call('GET', '/v1/workflows/wfa-ok/executions?nextToken=garbage');
    assert.equal(cursor.status, 400);
    const noExec = await call('GET', '/v1/workflows/wfa-ok/executions/never');
    assert.deepEqual([noExec.status, noExec.body.code], [404, 'ExecutionDoesNotExist']);
    const noWf = await call('POST', '/v1/workflows/never/executions', {});
    assert.deepEqual([noWf.status, noWf.body.code], [404, 'StateMachineDoesNotExist']);
    const noTask = await call('POST', '/v1/workflow-tasks/nope/success', { output: {} });
    assert.deepEqual([noTask.status, noTask.body.code], [404, 'TaskDoesNotExist']);
    const noHeartbeat = await call('POST', '/v1/workflow-tasks/nope/heartbeat');
    assert.deepEqual([noHeartbeat.status, noHeartbeat.body.code], [404, 'TaskDoesNotExist']);
  });

  test("a scoped token of another app gets 404s for the app's workflows and cannot create any", async () => {
    assert.equal(
      (await call('PUT', '/v1/workflows/wfa-priv', { app: 'wfa', definition: THREE_TASKS })).status,
      201,
    );
    const paths: Array<[string, string, unknown?]> = [
      ['GET', '/v1/workflows/wfa-priv'],
      ['DELETE', '/v1/workflows/wfa-priv'],
      ['POST', '/v1/workflows/wfa-priv/executions', {}],
      ['GET', '/v1/workflows/wfa-priv/executions'],
      ['GET', '/v1/workflows/wfa-priv/executions/x'],
      ['GET', '/v1/workflows/wfa-priv/executions/x/history'],
      ['POST', '/v1/workflows/wfa-priv/executions/x/stop', {}],
    ];
    for (const [method, path, body] of paths) {
      const res = await call(method, path, body, tokenB);
      assert.equal(res.status, 404, `${method} ${path}: ${JSON.stringify(res.body)}`);
    }
    // Its own app's workflow is reachable with it (created by root for wfb).
    assert.equal(
      (await call('PUT', '/v1/workflows/wfb-own', { app: 'wfb', definition: THREE_TASKS })).status,
      201,
    );
    assert.equal((await call('GET', '/v1/workflows/wfb-own', undefined, tokenB)).status, 200);
    // Overwriting another app's workflow, creating new names or listing all need a wider scope.
    const over = await call('PUT', '/v1/workflows/wfa-priv', { app: 'wfb', definition: THREE_TASKS }, tokenB);
    assert.deepEqual([over.status, over.body.code], [403, 'AccessDeniedException']);
    // Its own workflow may call only its own app's functions, named in the definition.
    const task = (resource: string, parameters?: unknown) => ({
      StartAt: 'T',
      States: {
        T: { Type: 'Task', Resource: resource, ...(parameters ? { Parameters: parameters } : {}), End: true },
      },
    });
    const own = await call(
      'PUT',
      '/v1/workflows/wfb-own',
      { app: 'wfb', definition: task(`${ARN}wfb-noop`) },
      tokenB,
    );
    assert.deepEqual([own.status, own.body.version], [200, 2]);
    for (const definition of [
      task(`${ARN}wfa-inc`),
      task('arn:aws:states:::lambda:invoke', { FunctionName: 'wfa-inc', Payload: {} }),
    ]) {
      const foreign = await call('PUT', '/v1/workflows/wfb-own', { app: 'wfb', definition }, tokenB);
      assert.deepEqual([foreign.status, foreign.body.code], [404, 'ResourceNotFoundException']);
    }
    const dynamic = await call(
      'PUT',
      '/v1/workflows/wfb-own',
      { app: 'wfb', definition: task('arn:aws:states:::lambda:invoke', { 'FunctionName.$': '$.fn' }) },
      tokenB,
    );
    assert.deepEqual([dynamic.status, dynamic.body.code], [403, 'AccessDeniedException']);
    const list = await call('GET', '/v1/workflows', undefined, tokenB);
    assert.equal(list.status, 403);
    assert.equal((await call('GET', '/v1/workflows/wfa-priv')).status, 200, 'still there');
  });
});
