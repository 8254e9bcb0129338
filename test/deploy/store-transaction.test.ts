// Store.transaction, which deploys run in: all or nothing across ports, ports' own transactions
// join it, and a long one on SQLite (synchronous driver) still gives the event loop turns, so a
// big deploy does not stall other requests. The last is structural: it counts loop turns during
// the transaction, never how long anything took.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { installLeakGuard } from '../helpers/leak-guard.js';
import { forEachStore } from '../helpers/test-stores.js';

installLeakGuard();

forEachStore((_name, open) => {
  test('a throw rolls back every port; nested transactions join the outer one', async () => {
    const store = await open();
    await assert.rejects(
      store.transaction(async (tx) => {
        await tx.settings.set('a', '1');
        await tx.objects.createBucket('rolled-back', Date.now());
        await tx.transaction(async (inner) => inner.settings.set('b', '2'));
        throw new Error('boom');
      }),
      /boom/,
    );
    assert.equal(await store.settings.get('a'), undefined);
    assert.equal(await store.settings.get('b'), undefined);
    assert.equal(await store.objects.getBucket('rolled-back'), undefined);

    await store.transaction(async (tx) => {
      await tx.settings.set('a', '1');
      // deployApp opens a transaction of its own: it joins this one.
      await tx.functions.deployApp('txapp', [], { prune: true });
    });
    assert.equal(await store.settings.get('a'), '1');
  });

  test('the event loop gets turns while a long transaction runs', async () => {
    const store = await open();
    let turns = 0;
    let running = true;
    const spin = (): void => {
      turns++;
      if (running) setImmediate(spin);
    };
    let during = 0;
    await store.transaction(async (tx) => {
      setImmediate(spin);
      const start = turns;
      // Enough back-to-back queries to run well past the 5 ms slice on any machine.
      for (let i = 0; i < 400; i++) await tx.settings.set(`k${i % 20}`, String(i));
      during = turns - start;
    });
    running = false;
    await new Promise((r) => setImmediate(r));
    // Before the yielding plugin a SQLite transaction ran as one block: 0 turns.
    assert.ok(during >= 2, `the loop turned ${during} time(s) during the transaction`);
  });
});
