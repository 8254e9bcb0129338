// Parallel and Map on the durable engine (both stores, a real server's invoke service): branches
// and iterations as child executions, ItemsPath/ItemSelector, MaxConcurrency, ResultPath,
// tolerated failures, and a branch's or iteration's error caught by the state's Catch.

import assert from 'node:assert/strict';
import { after, afterEach, before, test } from 'node:test';
import { aslFrontEnd } from '../../../src/workflow/asl-front-end/asl-front-end.js';
import { WorkflowEngine } from '../../../src/workflow/core/workflow-engine.js';
import type { ExecutionRecord } from '../../../src/store/ports/workflows.js';
import type { Store } from '../../../src/store/store.js';
import { installLeakGuard } from '../../helpers/leak-guard.js';
import { startTestServer, type TestServer } from '../../helpers/test-server.js';
import { forEachStore } from '../../helpers/test-stores.js';

const APP = `app: fan
functions:
  sq:
    handler: index.sq
  slow:
    handler: index.slow
  picky:
    handler: index.picky
`;
const CODE = `
exports.sq = async (e) => e.n * e.n;
exports.slow = async (e) => { await new Promise((r) => setTimeout(r, 60)); return e.i; };
exports.picky = async (e) => {
  if (e.bad) throw Object.assign(new Error('item ' + e.i + ' is bad'), { name: 'BadItem' });
  return e.i;
};
`;
const fn = (name: string) => `arn:aws:lambda:us-east-1:000000000000:function:fan-${name}`;

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
    app: 'fan',
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

const output = (e: ExecutionRecord): unknown => JSON.parse(e.output ?? 'null');

forEachStore((_name, open) => {
  test('Parallel: branches run as children, outputs in branch order under ResultPath; a nested Map', async () => {
    const engine = await engineOn(open);
    const done = await run(
      engine,
      {
        StartAt: 'Both',
        States: {
          Both: {
            Type: 'Parallel',
            ResultPath: '$.both',
            Branches: [
              {
                StartAt: 'Square',
                States: {
                  Square: { Type: 'Task', Resource: fn('sq'), Parameters: { 'n.$': '$.n' }, End: true },
                },
              },
              {
                StartAt: 'Echo',
                States: {
                  Echo: {
                    Type: 'Pass',
                    Parameters: {
                      'name.$': '$$.Execution.Name',
                      'first.$': '$$.Execution.Input.n',
                      list: [1, 2],
                    },
                    Next: 'Each',
                  },
                  Each: {
                    Type: 'Map',
                    ItemsPath: '$.list',
                    ItemSelector: { 'n.$': '$$.Map.Item.Value' },
                    ItemProcessor: {
                      StartAt: 'Sq',
                      States: { Sq: { Type: 'Task', Resource: fn('sq'), End: true } },
                    },
                    ResultPath: '$.squares',
                    End: true,
                  },
                },
              },
            ],
            End: true,
          },
        },
      },
      { n: 3 },
    );
    assert.equal(done.status, 'SUCCEEDED', `${done.error}: ${done.cause}`);
    // `$$.Execution` inside a branch is the top-level execution's.
    assert.deepEqual(output(done), {
      n: 3,
      both: [9, { name: done.name, first: 3, list: [1, 2], squares: [1, 4] }],
    });
    const types = (await engine.store.getHistory(done.id)).map((h) => h.type);
    for (const type of [
      'ParallelStateEntered',
      'ParallelStateStarted',
      'ParallelStateSucceeded',
      'ParallelStateExited',
    ])
      assert.ok(types.includes(type), type);
  });

  test('Map: ItemSelector with $$.Map.Item, MaxConcurrency bounds the running children, empty arrays', async () => {
    const engine = await engineOn(open);
    const done = await run(
      engine,
      {
        StartAt: 'Each',
        States: {
          Each: {
            Type: 'Map',
            ItemsPath: '$.items',
            MaxConcurrency: 2,
            ItemSelector: { 'i.$': '$$.Map.Item.Index', 'v.$': '$$.Map.Item.Value', 'tag.$': '$.tag' },
            ItemProcessor: {
              StartAt: 'Slow',
              States: { Slow: { Type: 'Task', Resource: fn('slow'), ResultPath: '$.r', End: true } },
            },
            ResultPath: '$.out',
            Next: 'None',
          },
          None: {
            Type: 'Map',
            ItemsPath: '$.empty',
            ItemProcessor: { StartAt: 'P', States: { P: { Type: 'Pass', End: true } } },
            ResultPath: '$.none',
            End: true,
          },
        },
      },
      { items: ['a', 'b', 'c', 'd', 'e'], tag: 't', empty: [] },
    );
    assert.equal(done.status, 'SUCCEEDED', `${done.error}: ${done.cause}`);
    assert.deepEqual(
      (output(done) as { out: unknown }).out,
      ['a', 'b', 'c', 'd', 'e'].map((v, i) => ({ i, v, tag: 't', r: i })),
    );
    assert.deepEqual((output(done) as { none: unknown }).none, []);
    const children = await engine.store.listExecutions({ parentId: done.id, children: true });
    assert.equal(children.length, 5);
    // When each iteration started, at most 2 were running (itself included).
    for (const c of children) {
      const running = children.filter((o) => o.startedAt <= c.startedAt && c.startedAt < o.stoppedAt!);
      assert.ok(running.length <= 2, `at most 2 iterations at once (${running.length})`);
    }
  });

  test("Map and Parallel errors reach the state's Catch with the iteration's own error name", async () => {
    const engine = await engineOn(open);
    const processor = {
      StartAt: 'Picky',
      States: { Picky: { Type: 'Task', Resource: fn('picky'), End: true } },
    };
    const done = await run(
      engine,
      {
        StartAt: 'Each',
        States: {
          Each: {
            Type: 'Map',
            ItemsPath: '$.items',
            ItemProcessor: processor,
            Catch: [{ ErrorEquals: ['BadItem'], ResultPath: '$.err', Next: 'Branches' }],
            End: true,
          },
          Branches: {
            Type: 'Parallel',
            InputPath: '$.items[1]',
            Branches: [
              { StartAt: 'Picky2', States: { Picky2: { Type: 'Task', Resource: fn('picky'), End: true } } },
              { StartAt: 'Ok', States: { Ok: { Type: 'Pass', End: true } } },
            ],
            Catch: [{ ErrorEquals: ['States.ALL'], ResultPath: '$.err2', Next: 'Handled' }],
            ResultPath: '$.never',
            End: true,
          },
          Handled: { Type: 'Pass', End: true },
        },
      },
      { items: [{ i: 0 }, { i: 1, bad: true }, { i: 2 }] },
    );
    assert.equal(done.status, 'SUCCEEDED', `${done.error}: ${done.cause}`);
    const out = output(done) as {
      err: { Error: string; Cause: string };
      err2: { Error: string };
      never?: unknown;
    };
    assert.equal(out.err.Error, 'BadItem');
    assert.match(out.err.Cause, /item 1 is bad/);
    assert.equal(out.err2.Error, 'BadItem');
    assert.equal(out.never, undefined);
    // Without a Catch the execution fails with it.
    const failed = await run(
      engine,
      { StartAt: 'Each', States: { Each: { Type: 'Map', ItemProcessor: processor, End: true } } },
      [{ i: 0, bad: true }],
    );
    assert.deepEqual([failed.status, failed.error], ['FAILED', 'BadItem']);
  });

  test('tolerated failures: nulls in place of failed items, then States.ExceedToleratedFailureThreshold', async () => {
    const engine = await engineOn(open);
    const definition = {
      StartAt: 'Each',
      States: {
        Each: {
          Type: 'Map',
          ToleratedFailureCount: 1,
          ItemProcessor: {
            ProcessorConfig: { Mode: 'DISTRIBUTED', ExecutionType: 'STANDARD' },
            StartAt: 'Picky',
            States: { Picky: { Type: 'Task', Resource: fn('picky'), End: true } },
          },
          End: true,
        },
      },
    };
    const tolerated = await run(engine, definition, [{ i: 0 }, { i: 1, bad: true }, { i: 2 }]);
    assert.equal(tolerated.status, 'SUCCEEDED', `${tolerated.error}: ${tolerated.cause}`);
    assert.deepEqual(output(tolerated), [0, null, 2]);
    const exceeded = await run(engine, definition, [{ i: 0, bad: true }, { i: 1, bad: true }, { i: 2 }]);
    assert.deepEqual([exceeded.status, exceeded.error], ['FAILED', 'States.ExceedToleratedFailureThreshold']);
  });
});
