// ScheduleStore contract, run on every backend: replace keeps unchanged ticks, compare-and-set claims.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { ScheduleDefinition } from '../../src/store/ports/schedules.js';
import { installLeakGuard } from '../helpers/leak-guard.js';
import { forEachStore } from '../helpers/test-stores.js';

const def = (name: string, over: Partial<ScheduleDefinition> = {}): ScheduleDefinition => ({
  app: 'shop',
  functionName: 'shop-work',
  name,
  expression: 'rate(5 minutes)',
  timeZone: 'UTC',
  enabled: true,
  catchUp: false,
  ...over,
});

forEachStore((_name, open, stores) => {
  test('replaceApp stores schedules and keeps the tick of unchanged ones', async () => {
    const store = await open();
    const s = store.schedules;
    await s.replaceApp('shop', [def('a'), def('b', { input: '{"x":1}', description: 'd' })], {
      firstTick: () => 1_000,
    });
    let list = await s.list('shop');
    assert.deepEqual(
      list.map((r) => [r.id, r.nextFireAt, r.input, r.enabled]),
      [
        ['shop:a', 1000, undefined, true],
        ['shop:b', 1000, '{"x":1}', true],
      ],
    );
    assert.equal(await s.claimTick('shop:a', 1000, { next: 2000, fire: 1000, now: 1500 }), true);
    // Redeploy: a unchanged (keeps 2000), b's expression changed (new tick), c new, nothing else.
    await s.replaceApp(
      'shop',
      [def('a'), def('b', { expression: 'rate(1 hour)' }), def('c', { enabled: false })],
      {
        firstTick: () => 9_000,
      },
    );
    list = await s.list('shop');
    assert.deepEqual(
      list.map((r) => [r.name, r.nextFireAt, r.lastTick, r.enabled]),
      [
        ['a', 2000, 1000, true],
        ['b', 9000, undefined, true],
        ['c', undefined, undefined, false],
      ],
    );
    // Scoped to one function: other functions' schedules stay.
    await s.replaceApp('shop', [def('z', { functionName: 'shop-other' })], {
      functions: ['shop-other'],
      firstTick: () => 5,
    });
    assert.equal((await s.list('shop')).length, 4);
    await s.replaceApp('shop', [def('a')], { firstTick: () => 5 });
    assert.deepEqual(
      (await s.list()).map((r) => r.id),
      ['shop:a'],
    );
    assert.equal(await s.deleteFunction('shop-work'), 1);
    assert.equal(await s.get('shop:a'), undefined);
  });

  test('claimTick: one winner per tick; due and earliest; pending repair', async () => {
    const store = await open();
    const s = store.schedules;
    await s.replaceApp('shop', [def('a'), def('b')], { firstTick: (d) => (d.name === 'a' ? 100 : 200) });
    assert.equal(await s.earliest(), 100);
    assert.deepEqual(
      (await s.due(150, 10)).map((r) => r.id),
      ['shop:a'],
    );
    const results = await Promise.all([
      s.claimTick('shop:a', 100, { next: 400, fire: 100, now: 150 }),
      s.claimTick('shop:a', 100, { next: 400, fire: 100, now: 150 }),
    ]);
    assert.deepEqual(results.sort(), [false, true]);
    let a = (await s.get('shop:a'))!;
    assert.equal(a.pendingTick, 100);
    assert.equal(a.lastTick, 100);
    assert.deepEqual(
      (await s.stalePending(151)).map((r) => r.id),
      ['shop:a'],
    );
    assert.equal(await s.reclaimPending('shop:a', 100, 150, 300), true);
    assert.equal(await s.reclaimPending('shop:a', 100, 150, 300), false);
    await s.confirmTick('shop:a', 100);
    a = (await s.get('shop:a'))!;
    assert.equal(a.pendingTick, undefined);
    assert.equal(a.nextFireAt, 400);
    // Disabled: no claim, not due, no earliest.
    assert.equal(await s.setEnabled('shop:b', false, undefined), true);
    assert.equal(await s.claimTick('shop:b', 200, { next: 300, now: 250 }), false);
    assert.deepEqual(
      (await s.due(1000, 10)).map((r) => r.id),
      ['shop:a'],
    );
    assert.equal(await s.setEnabled('nope:x', true, 1), false);
    assert.equal(await s.deleteApp('shop'), 2);
    assert.equal(await s.earliest(), undefined);
  });

  test('two stores on one database: a tick is claimed once', async () => {
    const target = stores.target();
    const one = await stores.openAt(target);
    const two = await stores.openAt(target);
    await one.schedules.replaceApp('shop', [def('a')], { firstTick: () => 60_000 });
    let wins = 0;
    for (let tick = 60_000; tick < 60_000 * 20; tick += 60_000) {
      const r = await Promise.all(
        [one, two].map((st) =>
          st.schedules.claimTick('shop:a', tick, { next: tick + 60_000, fire: tick, now: tick }),
        ),
      );
      assert.equal(r.filter(Boolean).length, 1);
      wins += 1;
    }
    assert.equal(wins, 19);
  });
});

installLeakGuard();
