// End to end over a real socket: the native /v1 API on every store — deploy and redeploy,
// versions, weighted aliases, logs, async invocations, deletes, bad input and bearer auth.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { installLeakGuard } from '../helpers/leak-guard.js';
import { forEachStore } from '../helpers/test-stores.js';
import { startTestServer, type TestServer } from '../helpers/test-server.js';

installLeakGuard();

const app = (message: string, extra = '') => ({
  'nimbus.yml': `
app: v1
functions:
  hello:
    handler: hello.handler
    runtime: nodejs
    environment:
      MESSAGE: ${message}
${extra}`,
  'hello.js': `
exports.handler = async (event, context) => {
  console.log('log line for', context.awsRequestId);
  return { message: process.env.MESSAGE, version: context.functionVersion };
};
`,
});

async function invoke(
  t: TestServer,
  fn: string,
  qualifier?: string,
): Promise<{ message: string; version: string }> {
  const res = await t.client.invoke(fn, { payload: '{}', ...(qualifier ? { qualifier } : {}) });
  assert.equal(res.kind, 'sync');
  if (res.kind !== 'sync') throw new Error('unreachable');
  return JSON.parse(res.body) as { message: string; version: string };
}

forEachStore((storeName, open) => {
  describe(`/v1 API (${storeName})`, () => {
    let t: TestServer;
    before(async () => {
      t = await startTestServer({ store: await open() });
    });
    after(() => t.close());

    test('deploy, redeploy, publish versions and route an alias by weight', async () => {
      await t.deployFiles(app('one'));
      assert.equal((await invoke(t, 'v1-hello')).message, 'one');
      const v1 = await t.client.publishVersion('v1-hello', 'first');
      assert.equal(v1.version, '1');

      await t.deployFiles(app('two'));
      assert.equal((await invoke(t, 'v1-hello')).message, 'two', '$LATEST serves the new code at once');
      assert.equal((await invoke(t, 'v1-hello', '1')).message, 'one', 'version 1 is immutable');
      const v2 = await t.client.publishVersion('v1-hello');
      assert.equal(v2.version, '2');
      // Publishing unchanged code returns the same version, as Lambda does.
      assert.equal((await t.client.publishVersion('v1-hello')).version, '2');

      await t.client.putAlias('v1-hello', 'live', { version: '1', description: '' });
      assert.equal((await invoke(t, 'v1-hello', 'live')).message, 'one');
      await t.client.putAlias('v1-hello', 'live', {
        version: '1',
        additionalVersion: { version: '2', weight: 0.5 },
        description: '',
      });
      const seen = new Set<string>();
      for (let i = 0; i < 40; i++) seen.add((await invoke(t, 'v1-hello', 'live')).version);
      assert.deepEqual([...seen].sort(), ['1', '2'], 'a 50/50 alias routes to both versions');
      const aliases = await t.client.listAliases('v1-hello');
      assert.deepEqual(
        aliases.map((a) => a.name),
        ['live'],
      );
    });

    test('an invalid deploy is refused and the previous version keeps serving', async () => {
      await t.deployFiles(app('good'));
      const res = await t.fetchV1('/v1/apps/v1/deploy', {
        method: 'POST',
        body: JSON.stringify({
          functions: [
            {
              name: 'hello',
              codeSha256: 'a'.repeat(64),
              codeSize: 1,
              config: { runtime: 'nodejs', handler: 'x.y' },
            },
          ],
        }),
      });
      assert.equal(res.status, 400);
      const body = (await res.json()) as { code: string; message: string };
      assert.equal(body.code, 'InvalidParameterValueException');
      assert.match(body.message, /was not uploaded/);
      assert.equal((await invoke(t, 'v1-hello')).message, 'good');

      const bad = await t.fetchV1('/v1/apps/v1/deploy', {
        method: 'POST',
        body: '{"functions": [{"name": "hello"}]}',
      });
      assert.equal(bad.status, 400);
      assert.match(((await bad.json()) as { message: string }).message, /codeSha256/);
      assert.equal((await invoke(t, 'v1-hello')).message, 'good');
    });

    test('logs carry START/END/REPORT and the function output with its request id', async () => {
      await t.deployFiles(app('logs'));
      const res = await t.client.invoke('v1-hello', { payload: '{}' });
      assert.equal(res.kind, 'sync');
      const requestId = res.requestId!;
      const r = await t.fetchV1(`/v1/functions/v1-hello/logs?since=${Date.now() - 60_000}`);
      const { lines } = (await r.json()) as {
        lines: Array<{ requestId: string; message: string; stream: string }>;
      };
      const mine = lines.filter((l) => l.requestId === requestId).map((l) => l.message);
      assert.match(mine[0]!, /^START RequestId: /);
      assert.ok(
        mine.some((m) => m.includes(`log line for ${requestId}`)),
        mine.join('\n'),
      );
      assert.match(mine.at(-2)!, /^END RequestId: /);
      assert.match(mine.at(-1)!, /^REPORT RequestId: .*Duration/);
    });

    test('async invoke returns an id whose status can be polled', async () => {
      await t.deployFiles(app('async'));
      const res = await t.client.invoke('v1-hello', { payload: '{}', async: true });
      assert.equal(res.kind, 'async');
      if (res.kind !== 'async') return;
      let inv: { status: string; result?: { message: string }; attempts: number } = {
        status: '',
        attempts: 0,
      };
      for (let i = 0; i < 100 && inv.status !== 'succeeded'; i++) {
        inv = (await (await t.fetchV1(`/v1/invocations/${res.invocationId}`)).json()) as typeof inv;
        if (inv.status !== 'succeeded') await new Promise((r) => setTimeout(r, 50));
      }
      assert.equal(inv.status, 'succeeded');
      assert.equal(inv.attempts, 1);
      assert.equal(inv.result?.message, 'async');
    });

    test('bad input: unknown function 404, malformed JSON 400, no token 403, unknown route 404', async () => {
      const nf = await t.fetchV1('/v1/functions/v1-nope/invoke', { method: 'POST', body: '{}' });
      assert.equal(nf.status, 404);
      assert.equal(((await nf.json()) as { code: string }).code, 'ResourceNotFoundException');
      await t.deployFiles(app('x'));
      const bad = await t.fetchV1('/v1/functions/v1-hello/invoke', { method: 'POST', body: '{oops' });
      assert.equal(bad.status, 400);
      assert.equal(((await bad.json()) as { code: string }).code, 'InvalidRequestContentException');
      const anon = await fetch(`${t.url}/v1/functions`);
      assert.equal(anon.status, 403);
      const wrong = await fetch(`${t.url}/v1/functions`, { headers: { authorization: 'Bearer nbt_wrong' } });
      assert.equal(wrong.status, 403);
      assert.equal(((await wrong.json()) as { code: string }).code, 'UnrecognizedClientException');
      const route = await t.fetchV1('/v1/nothing-here');
      assert.equal(route.status, 404);
    });

    test('deleting a function makes it 404; deleting the app removes the rest', async () => {
      await t.deployFiles({
        ...app('del', '  other:\n    handler: hello.handler\n    runtime: nodejs\n'),
      });
      const del = await t.fetchV1('/v1/functions/v1-hello', { method: 'DELETE' });
      assert.equal(del.status, 204);
      const gone = await t.fetchV1('/v1/functions/v1-hello/invoke', { method: 'POST', body: '{}' });
      assert.equal(gone.status, 404);
      const delApp = await t.fetchV1('/v1/apps/v1', { method: 'DELETE' });
      assert.equal(delApp.status, 200);
      const list = (await (await t.fetchV1('/v1/functions?app=v1')).json()) as { functions: unknown[] };
      assert.deepEqual(list.functions, []);
    });
  });
});
