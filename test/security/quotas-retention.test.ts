// Retention on both stores: the sweep deletes log lines, finished async invocations and finished
// webhook deliveries older than their windows and keeps fresh ones and unfinished work; an app's
// logs past its byte quota lose their oldest lines. Normal traffic cannot fill the disk.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { RetentionSweeper } from '../../src/observe/retention.js';
import type { LogLine, Store } from '../../src/store/store.js';
import { installLeakGuard } from '../helpers/leak-guard.js';
import { forEachStore } from '../helpers/test-stores.js';

installLeakGuard();

const HOUR = 60 * 60 * 1000;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function line(functionName: string, timestamp: number, message: string): LogLine {
  return { functionName, version: '$LATEST', requestId: randomUUID(), timestamp, stream: 'stdout', message };
}

async function finishInvocation(store: Store, options: { deliveryPending?: boolean } = {}): Promise<string> {
  const id = await store.invocations.enqueue({
    id: randomUUID(),
    functionName: 'app-fn',
    qualifier: '$LATEST',
    payload: Buffer.from('{}'),
  });
  const claimed = await store.invocations.claim(10, 60_000);
  assert.ok(claimed.some((c) => c.id === id));
  await store.invocations.complete(id, {
    status: 'succeeded',
    ...(options.deliveryPending ? { deliveryLeaseMs: 60_000 } : {}),
  });
  return id;
}

async function finishDelivery(store: Store, status: 'delivered' | 'failed'): Promise<string> {
  const id = randomUUID();
  await store.topics.addDeliveries([
    {
      id,
      subscriptionId: 'sub',
      topic: 'news',
      messageId: randomUUID(),
      protocol: 'webhook',
      endpoint: 'http://example.invalid/',
      body: Buffer.from('{}'),
      maxAttempts: 3,
    },
  ]);
  const claimed = await store.topics.claimDeliveries(10, 60_000);
  assert.ok(claimed.some((c) => c.id === id));
  await store.topics.completeDelivery(id, { status });
  return id;
}

forEachStore((_name, open) => {
  test('the sweep removes what is past its window and keeps fresh rows and unfinished work', async () => {
    const store = await open();
    const now = Date.now();
    // Logs: 30 lines of 8 days ago, 5 of an hour ago (the first id-ordered batch is the old ones).
    await store.logs.append([
      ...Array.from({ length: 30 }, (_, i) => line('app-fn', now - 8 * 24 * HOUR + i, `old ${i}`)),
      ...Array.from({ length: 5 }, (_, i) => line('app-fn', now - HOUR + i, `fresh ${i}`)),
    ]);
    // Invocations and deliveries finished before `cut`, and after it.
    const oldInvocation = await finishInvocation(store);
    const oldPending = await finishInvocation(store, { deliveryPending: true });
    const oldDelivered = await finishDelivery(store, 'delivered');
    const oldFailed = await finishDelivery(store, 'failed');
    await sleep(30);
    const cut = Date.now();
    await sleep(30);
    const freshInvocation = await finishInvocation(store);
    const freshDelivered = await finishDelivery(store, 'delivered');
    const queued = await store.invocations.enqueue({
      id: randomUUID(),
      functionName: 'app-fn',
      qualifier: '$LATEST',
      payload: Buffer.from('{}'),
      availableAt: cut + 10 * HOUR,
    });

    // Windows of one hour, swept as if an hour after `cut`; small batches to exercise the loop.
    const sweeper = new RetentionSweeper(
      { store, onError: (err) => assert.fail(String(err)) },
      { invocationsMs: HOUR, deliveriesMs: HOUR, batchSize: 7 },
    );
    const result = await sweeper.sweep(cut + HOUR);
    assert.equal(result.logLines, 30);
    assert.equal(result.invocations, 1);
    assert.equal(result.deliveries, 2);

    const logs = await store.logs.query({ functionName: 'app-fn' });
    assert.deepEqual(
      logs.map((l) => l.message),
      ['fresh 0', 'fresh 1', 'fresh 2', 'fresh 3', 'fresh 4'],
    );
    assert.equal(await store.invocations.get(oldInvocation), undefined);
    assert.ok(
      await store.invocations.get(oldPending),
      'a finished invocation with a pending destination stays',
    );
    assert.ok(await store.invocations.get(freshInvocation));
    assert.ok(await store.invocations.get(queued), 'unfinished work stays');
    assert.equal(await store.topics.getDelivery(oldDelivered), undefined);
    assert.equal(await store.topics.getDelivery(oldFailed), undefined);
    assert.ok(await store.topics.getDelivery(freshDelivered));

    // A second sweep finds nothing more.
    assert.deepEqual(await sweeper.sweep(cut + HOUR), {
      logLines: 0,
      logLinesOverQuota: 0,
      invocations: 0,
      deliveries: 0,
    });
  });

  test("an app's logs past its byte quota lose their oldest lines; other apps keep theirs", async () => {
    const store = await open();
    const now = Date.now();
    // 10 lines of 10 characters for `noisy-fn`, 3 for `quiet-fn` (no deployed functions: each
    // function's lines count as their own app).
    await store.logs.append([
      ...Array.from({ length: 10 }, (_, i) => line('noisy-fn', now + i, `line ${i}`.padEnd(10, '.'))),
      ...Array.from({ length: 3 }, (_, i) => line('quiet-fn', now + i, `line ${i}`.padEnd(10, '.'))),
    ]);
    const sweeper = new RetentionSweeper({
      store,
      logBytesPerApp: 45,
      onError: (err) => assert.fail(String(err)),
    });
    const result = await sweeper.sweep(now);
    assert.equal(result.logLinesOverQuota, 6);
    assert.deepEqual(
      (await store.logs.query({ functionName: 'noisy-fn' })).map((l) => l.message.slice(0, 6)),
      ['line 6', 'line 7', 'line 8', 'line 9'],
    );
    assert.equal((await store.logs.query({ functionName: 'quiet-fn' })).length, 3);
    assert.deepEqual(
      await store.logs.sizeByFunction(),
      new Map([
        ['noisy-fn', 40],
        ['quiet-fn', 30],
      ]),
    );
  });

  test('started, the sweeper runs on its own timer and stops cleanly', async () => {
    const store = await open();
    await store.logs.append([line('app-fn', Date.now() - 8 * 24 * HOUR, 'ancient')]);
    const sweeper = new RetentionSweeper(
      { store, onError: (err) => assert.fail(String(err)) },
      { intervalMs: 20 },
    );
    sweeper.start();
    for (let i = 0; i < 200 && (await store.logs.query({ functionName: 'app-fn' })).length > 0; i++)
      await sleep(10);
    await sweeper.stop();
    assert.equal((await store.logs.query({ functionName: 'app-fn' })).length, 0);
  });
});
