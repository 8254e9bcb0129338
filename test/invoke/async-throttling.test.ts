// Throttled async invocations are not lost, on every store: 1,000 events for a function with
// maxConcurrency 1 all run (none spends its retry attempts on TooManyRequestsException), and an
// event throttled by the node's memory budget is retried without using up maximumRetryAttempts.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { InvocationQueue } from '../../src/store/store.js';
import { installLeakGuard } from '../helpers/leak-guard.js';
import { startNodeOn, startTestServer, type TestServer } from '../helpers/test-server.js';
import { forEachStore } from '../helpers/test-stores.js';

installLeakGuard();

const APP = {
  'nimbus.yml': `app: thr
functions:
  one:
    handler: index.noop
    maxConcurrency: 1
  wide:
    handler: index.slow
    memory: 128
    maxConcurrency: 4
    maximumRetryAttempts: 0
`,
  'index.mjs': `
export const noop = async (e) => e.n;
export const slow = async (e) => { await new Promise((r) => setTimeout(r, 150)); return e.n; };
`,
};

/** Waits until every invocation has finished; returns them in order. */
async function settleAll(queue: InvocationQueue, ids: readonly string[], timeoutMs: number) {
  const deadline = Date.now() + timeoutMs;
  const done = [];
  for (const id of ids) {
    for (;;) {
      const inv = await queue.get(id);
      if (inv?.status === 'succeeded' || inv?.status === 'failed') {
        done.push(inv);
        break;
      }
      if (Date.now() > deadline)
        throw new Error(`${done.length} of ${ids.length} invocations finished in time`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }
  return done;
}

function summary(invs: ReadonlyArray<{ status: string; condition?: string | undefined; attempts: number }>) {
  const out: Record<string, number> = {};
  for (const i of invs) {
    const k = `${i.status}/${i.condition ?? '-'}/attempts=${i.attempts}`;
    out[k] = (out[k] ?? 0) + 1;
  }
  return out;
}

forEachStore((_name, open) => {
  let t: TestServer;
  before(async () => {
    // A 1 ms acquire timeout turns every wait for the one instance into a throttle, as a slow
    // function does under the default 1 s; the memory budget fits one 128 MB instance.
    t = await startTestServer({
      store: await open(),
      acquireTimeoutMs: 1,
      memoryBudgetMB: 128,
      async: { platformRetryBaseMs: 50 },
    });
    await t.deployFiles(APP);
  });
  after(() => t.close());

  test('1,000 async events to a function with maxConcurrency 1 all run, each on its first attempt', async () => {
    const enqueue = t.server.platform.services.enqueueAsync;
    const throttlesBefore = t.server.platform.pool.stats().throttles;
    const ids = await Promise.all(
      Array.from({ length: 1000 }, (_, n) => enqueue('thr-one', Buffer.from(JSON.stringify({ n })))),
    );
    const invs = await settleAll(t.server.platform.store.invocations, ids, 100_000);
    assert.deepEqual(summary(invs), { 'succeeded/Success/attempts=1': 1000 });
    assert.deepEqual(
      invs.map((i) => i.result?.toString()),
      ids.map((_, n) => String(n)),
    );
    // The dispatcher starts no more of them than the function may run: the pool never throttled.
    assert.equal(t.server.platform.pool.stats().throttles - throttlesBefore, 0);
  });

  test('events throttled by the memory budget are retried without using maximumRetryAttempts (0)', async () => {
    const enqueue = t.server.platform.services.enqueueAsync;
    // maxConcurrency 4, but the budget holds one instance: three of four are throttled at first.
    const ids = await Promise.all(
      Array.from({ length: 4 }, (_, n) => enqueue('thr-wide', Buffer.from(JSON.stringify({ n })))),
    );
    const invs = await settleAll(t.server.platform.store.invocations, ids, 60_000);
    assert.deepEqual(summary(invs), { 'succeeded/Success/attempts=1': 4 });
  });

  test('two nodes on one store run 300 events of a maxConcurrency 1 function, none lost', async () => {
    const second = await startNodeOn(t.server.platform.store, { acquireTimeoutMs: 1, memoryBudgetMB: 128 });
    try {
      const enqueue = t.server.platform.services.enqueueAsync;
      const ids = await Promise.all(
        Array.from({ length: 300 }, (_, n) => enqueue('thr-one', Buffer.from(JSON.stringify({ n })))),
      );
      const invs = await settleAll(t.server.platform.store.invocations, ids, 60_000);
      assert.deepEqual(summary(invs), { 'succeeded/Success/attempts=1': 300 });
    } finally {
      await second.close();
    }
  });
});
