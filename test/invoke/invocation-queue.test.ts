// The async parts of InvocationQueue on both stores: completion with a pending delivery, its
// settlement and redelivery claims, unclaim of events claimed ahead, and group-committed enqueues.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { installLeakGuard } from '../helpers/leak-guard.js';
import { forEachStore } from '../helpers/test-stores.js';

const base = { functionName: 'app-f', qualifier: '', payload: Buffer.from('{"a":1}') };

forEachStore((_name, open) => {
  test('a pending delivery is claimed again after its lease, keeping status and attempts', async () => {
    const store = await open();
    const id = randomUUID();
    await store.invocations.enqueue({ ...base, id });
    const [claimed] = await store.invocations.claim(5, 60_000);
    assert.equal(claimed?.attempts, 1);
    assert.ok(claimed?.startedAt !== undefined);
    await store.invocations.complete(id, {
      status: 'succeeded',
      result: Buffer.from('42'),
      condition: 'Success',
      executedVersion: '3',
      deliveryLeaseMs: 60_000,
    });
    assert.deepEqual(await store.invocations.claim(5, 60_000), [], 'leased: not yet');
    const row = await store.invocations.get(id);
    assert.equal(row?.status, 'succeeded');
    assert.equal(row?.delivery, 'pending');
    assert.equal(row?.condition, 'Success');
    assert.equal(row?.executedVersion, '3');

    // A failed delivery waits for its retry time, then is claimed as a redelivery.
    await store.invocations.settleDelivery(id, {
      state: 'pending',
      error: 'queue down',
      retryAt: Date.now() - 1,
    });
    const [again] = await store.invocations.claim(5, 60_000);
    assert.equal(again?.id, id);
    assert.equal(again?.status, 'succeeded', 'a redelivery does not rerun the invocation');
    assert.equal(again?.attempts, 1);
    assert.equal(again?.deliveryAttempts, 1);
    assert.equal(again?.deliveryError, 'queue down');
    await store.invocations.settleDelivery(id, { state: 'delivered' });
    assert.equal((await store.invocations.get(id))?.delivery, 'delivered');
    await store.invocations.settleDelivery(id, { state: 'failed', error: 'late' });
    assert.equal((await store.invocations.get(id))?.delivery, 'delivered', 'only a pending delivery settles');
  });

  test('requeueRunning makes pending deliveries claimable at once; unclaim undoes a claim', async () => {
    const store = await open();
    const [a, b] = [randomUUID(), randomUUID()];
    await store.invocations.enqueue({ ...base, id: a });
    await store.invocations.enqueue({ ...base, id: b });
    const claimed = await store.invocations.claim(5, 3_600_000);
    assert.equal(claimed.length, 2);
    await store.invocations.complete(a, { status: 'failed', error: '{}', deliveryLeaseMs: 3_600_000 });
    await store.invocations.unclaim([b]);
    const back = await store.invocations.get(b);
    assert.equal(back?.status, 'queued');
    assert.equal(back?.attempts, 0);
    assert.equal(await store.invocations.requeueRunning(), 0);
    const ids = (await store.invocations.claim(5, 60_000)).map((i) => i.id).sort();
    assert.deepEqual(ids, [a, b].sort());
  });

  test("requeueRunning({ claimedBy }) takes back only that node's claims", async () => {
    const store = await open();
    const [a, b] = [randomUUID(), randomUUID()];
    await store.invocations.enqueue({ ...base, id: a });
    assert.equal((await store.invocations.claim(1, 3_600_000, 'node-a')).length, 1);
    await store.invocations.enqueue({ ...base, id: b });
    assert.equal((await store.invocations.claim(1, 3_600_000, 'node-b')).length, 1);
    assert.equal(await store.invocations.requeueRunning({ claimedBy: 'node-a' }), 1);
    assert.equal((await store.invocations.get(a))?.status, 'queued');
    assert.equal((await store.invocations.get(b))?.status, 'running', "another node's claim stays");
    const [again] = await store.invocations.claim(5, 60_000, 'node-a');
    assert.equal(again?.id, a);
    assert.equal(again?.attempts, 2);
  });

  test('extendLeases keeps a running claim from being retaken; a lapsed lease is retaken', async () => {
    const store = await open();
    const [a, b] = [randomUUID(), randomUUID()];
    await store.invocations.enqueue({ ...base, id: a });
    await store.invocations.enqueue({ ...base, id: b });
    assert.equal((await store.invocations.claim(2, 1, 'node-a')).length, 2, 'both claimed, 1 ms leases');
    // node-a renews only `a` (it is still working on it); `b` it has lost.
    assert.equal(
      await store.invocations.extendLeases([a, b], Date.now() + 60_000, 'node-b'),
      0,
      'not its claims',
    );
    assert.equal(await store.invocations.extendLeases([a], Date.now() + 60_000, 'node-a'), 1);
    await new Promise((r) => setTimeout(r, 5));
    const retaken = await store.invocations.claim(5, 60_000, 'node-b');
    assert.deepEqual(
      retaken.map((i) => [i.id, i.attempts]),
      [[b, 2]],
      'the lapsed claim is retaken (attempt 2), the renewed one is not',
    );
    assert.equal(
      await store.invocations.extendLeases([b], Date.now() + 60_000, 'node-a'),
      0,
      'node-a lost b',
    );
  });

  test('concurrent enqueues are all stored (group commit) and claimed oldest first', async () => {
    const store = await open();
    const ids = Array.from({ length: 300 }, () => randomUUID());
    const stored = await Promise.all(ids.map((id) => store.invocations.enqueue({ ...base, id })));
    assert.deepEqual(stored, ids);
    let seen = 0;
    for (;;) {
      const batch = await store.invocations.claim(64, 60_000);
      if (batch.length === 0) break;
      seen += batch.length;
      for (const inv of batch) await store.invocations.complete(inv.id, { status: 'succeeded' });
    }
    assert.equal(seen, 300);
    const one = await store.invocations.get(ids[150]!);
    assert.equal(one?.status, 'succeeded');
    assert.ok(one?.finishedAt !== undefined);
  });
});

installLeakGuard();
