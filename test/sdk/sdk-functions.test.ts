// The SDK inside functions: `import { functions } from 'nimbus/sdk'` is bundled at deploy, reaches
// the API over the node's unix socket (from inside the bubblewrap sandbox and from the thread
// tier) with the app-scoped token, and that token cannot reach another app's functions.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { installLeakGuard } from '../helpers/leak-guard.js';
import { startTestServer, type TestServer } from '../helpers/test-server.js';

let t: TestServer;

before(async () => {
  t = await startTestServer();
  await t.deployFiles({
    'nimbus.yml': [
      'app: sdkapp',
      'functions:',
      '  caller:',
      '    handler: caller.handler',
      '  threaded:',
      '    handler: caller.handler',
      '    isolation: thread',
      '  callee:',
      '    handler: callee.handler',
      '',
    ].join('\n'),
    'caller.mjs': [
      "import { functions } from 'nimbus/sdk';",
      'export const handler = async (event) => {',
      "  const direct = await functions.invoke('callee', { n: event.n });",
      "  const accepted = await functions.invokeAsync('callee', { n: 0 });",
      '  return { direct, accepted: typeof accepted.invocationId, socket: process.env.NIMBUS_API_SOCKET, app: process.env.NIMBUS_APP };',
      '};',
    ].join('\n'),
    'callee.mjs': 'export const handler = async (event) => ({ doubled: event.n * 2 });\n',
  });
  await t.deployFiles({
    'nimbus.yml': 'app: otherapp\nfunctions:\n  secret:\n    handler: s.handler\n',
    's.mjs': "export const handler = async () => 'secret';\n",
  });
});
after(() => t.close());
installLeakGuard();

for (const fn of ['caller', 'threaded']) {
  test(`${fn}: invokes a function of its app through the SDK, sync and async`, async () => {
    const res = await t.client.invoke(`sdkapp-${fn}`, { payload: JSON.stringify({ n: 21 }) });
    assert.equal(res.kind, 'sync');
    assert.equal(
      res.kind === 'sync' ? res.functionError : 'x',
      undefined,
      res.kind === 'sync' ? res.body : '',
    );
    const out = JSON.parse(res.kind === 'sync' ? res.body : '') as Record<string, unknown>;
    assert.deepEqual(out.direct, { doubled: 42 });
    assert.equal(out.accepted, 'string');
    assert.equal(out.app, 'sdkapp');
    if (fn === 'caller' && t.server.platform.sandboxed) assert.equal(out.socket, '/run/nimbus/api.sock');
  });
}

test("an app token reaches its app's functions only, never listings, and forged tokens fail", async () => {
  const token = await t.server.platform.auth.appToken('sdkapp');
  const call = (path: string, init: RequestInit = {}) =>
    fetch(`${t.url}${path}`, { ...init, headers: { authorization: `Bearer ${token}` } });
  const own = await call('/v1/functions/sdkapp-callee/invoke', { method: 'POST', body: '{"n":1}' });
  assert.equal(own.status, 200);
  assert.deepEqual(await own.json(), { doubled: 2 });
  const other = await call('/v1/functions/otherapp-secret/invoke', { method: 'POST', body: '{}' });
  assert.equal(other.status, 403);
  assert.equal(((await other.json()) as { code: string }).code, 'AccessDeniedException');
  const list = await call('/v1/functions');
  assert.equal(list.status, 403);
  const keys = await call('/v1/keys');
  assert.equal(keys.status, 403);
  const forged = await fetch(`${t.url}/v1/functions/sdkapp-callee/invoke`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token.slice(0, -2)}xx` },
    body: '{}',
  });
  assert.equal(forged.status, 403);
  assert.equal(((await forged.json()) as { code: string }).code, 'UnrecognizedClientException');
});
