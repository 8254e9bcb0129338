// nimbus.yml's `workflows:` (and serverless.yml's stepFunctions block) deployed with the app on
// SQLite and PostgreSQL: function names resolved to ARNs, executions run to the right output, an
// invalid definition refuses the whole deploy, removed workflows are pruned, app delete drops them.

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { prepareDeploy } from '../../src/cli/commands/deploy.js';
import { createOutput } from '../../src/cli/output.js';
import { Spinner } from '../../src/cli/spinner.js';
import { installLeakGuard } from '../helpers/leak-guard.js';
import { startTestServer, type TestServer } from '../helpers/test-server.js';
import { forEachStore } from '../helpers/test-stores.js';

const CODE = `
exports.inc = async (e) => ({ x: e.x + 1 });
exports.dbl = async (e) => ({ x: e.x * 2 });
`;
const APP = (workflows: string) => `app: wfd
functions:
  inc:
    handler: index.inc
  dbl:
    handler: index.dbl
${workflows}`;
// Bare name, a foreign account's Lambda ARN, and lambda:invoke's FunctionName: all this app's.
const PIPELINE = JSON.stringify(
  {
    StartAt: 'Inc',
    States: {
      Inc: { Type: 'Task', Resource: 'inc', Next: 'Dbl' },
      Dbl: { Type: 'Task', Resource: 'arn:aws:lambda:eu-west-1:123456789012:function:dbl', Next: 'Inc2' },
      Inc2: {
        Type: 'Task',
        Resource: 'arn:aws:states:::lambda:invoke',
        Parameters: { FunctionName: 'inc', 'Payload.$': '$' },
        OutputPath: '$.Payload',
        End: true,
      },
    },
  },
  null,
  2,
);
const ARN = 'arn:aws:lambda:us-east-1:000000000000:function:';
// The answers are loose JSON read field by field in assertions.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Answer = Record<string, any>;

installLeakGuard();

forEachStore((_name, open) => {
  let t: TestServer;
  before(async () => {
    t = await startTestServer({ store: await open() });
  });
  after(() => t.close());

  const call = async (
    method: string,
    path: string,
    body?: unknown,
  ): Promise<{ status: number; body: Answer }> => {
    const res = await t.fetchV1(path, {
      method,
      ...(body === undefined
        ? {}
        : { body: JSON.stringify(body), headers: { 'content-type': 'application/json' } }),
    });
    const text = await res.text();
    return { status: res.status, body: (text === '' ? {} : JSON.parse(text)) as Answer };
  };

  async function run(workflow: string, name: string, input: unknown): Promise<Answer> {
    const started = await call('POST', `/v1/workflows/${workflow}/executions`, { name, input });
    assert.equal(started.status, 201, JSON.stringify(started.body));
    const until = Date.now() + 20_000;
    for (;;) {
      const { body } = await call('GET', `/v1/workflows/${workflow}/executions/${name}`);
      if (body.status !== 'RUNNING') return body;
      if (Date.now() > until) throw new Error(`still running: ${JSON.stringify(body)}`);
      await new Promise((r) => setTimeout(r, 25));
    }
  }

  test('a workflow file in nimbus.yml deploys with the app, names resolved to ARNs, and runs', async () => {
    await t.deployFiles({
      'nimbus.yml': APP('workflows:\n  pipeline: { definition: workflows/pipeline.asl.json }\n'),
      'workflows/pipeline.asl.json': PIPELINE,
      'index.js': CODE,
    });
    const w = await call('GET', '/v1/workflows/wfd-pipeline');
    assert.equal(w.status, 200, JSON.stringify(w.body));
    assert.equal(w.body.app, 'wfd');
    const stored = await t.server.platform.workflows.store.getWorkflow('wfd-pipeline');
    const states = (JSON.parse(stored!.definition) as Answer).States;
    assert.equal(states.Inc.Resource, `${ARN}wfd-inc`);
    assert.equal(states.Dbl.Resource, `${ARN}wfd-dbl`);
    assert.equal(states.Inc2.Parameters.FunctionName, `${ARN}wfd-inc`);
    const done = await run('wfd-pipeline', 'r1', { x: 3 });
    assert.deepEqual([done.status, done.output], ['SUCCEEDED', { x: 9 }]);
    // The app's own token reaches its workflows.
    const policy = await t.server.platform.auth.appToken('wfd');
    const res = await fetch(`${t.url}/v1/workflows/wfd-pipeline`, {
      headers: { authorization: `Bearer ${policy}` },
    });
    assert.equal(res.status, 200);
    await res.body?.cancel();
  });

  test('an invalid definition refuses the whole deploy with its pointer; nothing is written', async () => {
    const broken = { StartAt: 'A', States: { A: { Type: 'Pass', Next: 'Nowhere' } } };
    const dir = t.writeApp({
      'nimbus.yml': `app: wfbad
functions:
  f:
    handler: index.f
workflows:
  ok: { definition: { StartAt: A, States: { A: { Type: Succeed } } } }
`,
      'index.js': 'exports.f = async () => 1;',
    });
    const quiet = new Spinner(createOutput({ write: () => true } as never, { env: {} }));
    const prepared = await prepareDeploy(dir, quiet);
    for (const fn of prepared.packed) await t.client.putCode(fn.sha256, fn.bytes);
    // Sent as an older or tampered client would: the server runs the same checks.
    const request = {
      ...prepared.request,
      workflows: {
        ...prepared.request.workflows,
        bad: { type: 'STANDARD' as const, definition: broken, file: 'workflows/bad.asl.json' },
      },
    };
    await assert.rejects(t.client.deploy('wfbad', request), (err: Error & { code?: string }) => {
      assert.equal(err.code, 'InvalidDefinition');
      assert.match(err.message, /workflows\/bad\.asl\.json at \/States\/A\/Next: MISSING_TRANSITION_TARGET/);
      return true;
    });
    const unknownFn = {
      ...prepared.request,
      workflows: {
        bad: {
          type: 'STANDARD' as const,
          definition: { StartAt: 'A', States: { A: { Type: 'Task', Resource: 'nope', End: true } } },
        },
      },
    };
    await assert.rejects(
      t.client.deploy('wfbad', unknownFn),
      /\/States\/A\/Resource: .*'nope', which is not a function of app 'wfbad'/,
    );
    assert.deepEqual(await t.server.platform.store.functions.listFunctions('wfbad'), []);
    assert.deepEqual(await t.server.platform.workflows.store.listWorkflows('wfbad'), []);
  });

  test('a workflow the app no longer declares is pruned; deleting the app drops the rest', async () => {
    await t.deployFiles({
      'nimbus.yml': APP(
        'workflows:\n  one: { definition: { StartAt: A, States: { A: { Type: Pass, End: true } } } }\n  two: { type: express, definition: { StartAt: A, States: { A: { Type: Succeed } } } }\n',
      ),
      'index.js': CODE,
    });
    const names = async () =>
      (await t.server.platform.workflows.store.listWorkflows('wfd')).map((w) => `${w.name} ${w.type}`);
    assert.deepEqual(await names(), ['wfd-one STANDARD', 'wfd-two EXPRESS']);
    await t.deployFiles({
      'nimbus.yml': APP(
        'workflows:\n  two: { type: express, definition: { StartAt: A, States: { A: { Type: Succeed } } } }\n',
      ),
      'index.js': CODE,
    });
    assert.deepEqual(await names(), ['wfd-two EXPRESS']);
    await t.client.deleteApp('wfd');
    assert.deepEqual(await names(), []);
  });

  test("serverless.yml's stepFunctions block deploys, Fn::GetAtt of a function resolved", async () => {
    await t.deployFiles({
      'serverless.yml': `service: wfsls
provider: { name: aws, runtime: nodejs20.x }
functions:
  add-one:
    handler: index.inc
stepFunctions:
  stateMachines:
    flow:
      name: wfsls-renamed
      definition:
        StartAt: Add
        States:
          Add:
            Type: Task
            Resource: { Fn::GetAtt: [AddDashoneLambdaFunction, Arn] }
            End: true
`,
      'index.js': CODE,
    });
    const done = await run('wfsls-renamed', 'r1', { x: 41 });
    assert.deepEqual([done.status, done.output], ['SUCCEEDED', { x: 42 }]);
  });
});
