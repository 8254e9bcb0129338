// Async invocations through a real server on both stores: retries with backoff until the
// attempts run out, a retried event that then succeeds, and events older than the maximum age
// are not run.
import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import { installLeakGuard } from '../helpers/leak-guard.js';
import { startTestServer, type TestServer } from '../helpers/test-server.js';
import { forEachStore } from '../helpers/test-stores.js';

interface Inv {
  status: string;
  attempts: number;
  result?: unknown;
  error?: { errorType: string; errorMessage: string };
}

const FILES = {
  'nimbus.yml': `app: async
functions:
  fail:
    handler: index.fail
    runtime: nodejs
  flaky:
    handler: index.flaky
    runtime: nodejs
`,
  // Module state survives on a warm instance, so the second call of `flaky` succeeds.
  'index.js': `
let calls = 0;
exports.fail = async () => { throw new Error('always fails'); };
exports.flaky = async () => { calls++; if (calls === 1) throw new Error('first try fails'); return { calls }; };
`,
};

async function settle(server: TestServer, id: string): Promise<Inv> {
  for (let i = 0; i < 200; i++) {
    const inv = (await (await server.fetchV1(`/v1/invocations/${id}`)).json()) as Inv;
    if (inv.status === 'succeeded' || inv.status === 'failed') return inv;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`invocation ${id} did not finish`);
}

async function enqueue(server: TestServer, fn: string): Promise<string> {
  const res = await server.client.invoke(fn, { payload: '{}', async: true });
  assert.equal(res.kind, 'async');
  return res.kind === 'async' ? res.invocationId : '';
}

forEachStore((_name, open) => {
  let t: TestServer;
  let old: TestServer;
  before(async () => {
    t = await startTestServer({ store: await open(), async: { retryBaseMs: 20, maxAttempts: 3 } });
    // A zero maximum age: every event is already too old when it is claimed.
    old = await startTestServer({ store: await open(), async: { maxEventAgeMs: 0 } });
    await t.deployFiles(FILES);
    await old.deployFiles(FILES);
  });
  after(async () => {
    await t.close();
    await old.close();
  });

  test('a failing event is retried and fails after maxAttempts with the last error', async () => {
    const inv = await settle(t, await enqueue(t, 'async-fail'));
    assert.equal(inv.status, 'failed');
    assert.equal(inv.attempts, 3);
    assert.equal(inv.error?.errorMessage, 'always fails');
  });

  test('a retry that succeeds marks the event succeeded on attempt 2', async () => {
    const inv = await settle(t, await enqueue(t, 'async-flaky'));
    assert.equal(inv.status, 'succeeded');
    assert.equal(inv.attempts, 2);
    assert.deepEqual(inv.result, { calls: 2 });
  });

  test('an event past the maximum age fails with EventAgeExceeded without running', async () => {
    const inv = await settle(old, await enqueue(old, 'async-flaky'));
    assert.equal(inv.status, 'failed');
    assert.equal(inv.error?.errorType, 'EventAgeExceeded');
    const logs = (await (await old.fetchV1('/v1/functions/async-flaky/logs?since=0')).json()) as {
      lines: unknown[];
    };
    assert.equal(logs.lines.length, 0, 'the function never ran');
  });
});

installLeakGuard();
