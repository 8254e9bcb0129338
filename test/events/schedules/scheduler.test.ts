// Scheduler on every store with a fake clock: exactly once per tick across two nodes and restarts,
// missed ticks skipped or caught up once, disabled schedules, static input, time zones, crash repair.

import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { test } from 'node:test';
import type { AppEventSpec } from '../../../src/deploy/app-deploy-hook.js';
import { Scheduler } from '../../../src/events/schedules/scheduler.js';
import type { ServiceContext } from '../../../src/services/service-context.js';
import type { Store } from '../../../src/store/store.js';
import { installLeakGuard } from '../../helpers/leak-guard.js';
import { forEachStore } from '../../helpers/test-stores.js';

interface Fired {
  readonly id: string;
  readonly functionName: string;
  readonly event: Record<string, unknown>;
  readonly key: string | undefined;
}

/** A node: a scheduler on `store` whose enqueues go to the real invocation queue and are recorded. */
function node(store: Store, fired: Fired[], opts: { failEnqueue?: () => boolean } = {}) {
  const errors: unknown[] = [];
  const ctx = nodeCtx(store, fired, errors, opts.failEnqueue);
  return { scheduler: new Scheduler(ctx, { timer: false }), errors };
}

const spec = (events: unknown[], app = 'shop'): AppEventSpec => ({
  app,
  resources: { buckets: {}, queues: {}, tables: {}, topics: {} },
  functions: [{ name: 'work', fullName: `${app}-work`, events }],
  prune: true,
});

const T0 = Date.UTC(2026, 5, 1, 10, 0, 30); // 10:00:30 UTC
const MIN = 60_000;

forEachStore((_name, open, stores) => {
  test('rate(1 minute): one Scheduled Event per tick, with the tick as its time', async () => {
    const store = await open();
    const fired: Fired[] = [];
    const { scheduler } = node(store, fired);
    await scheduler.deployHook.apply({ ...spec([{ schedule: 'rate(1 minute)' }]) });
    // Deployed "now" is the real clock; move the schedule's first tick to T0 + 30 s via enable.
    const [s] = await store.schedules.list('shop');
    assert.equal(s!.id, 'shop:work-schedule-1');
    await store.schedules.setEnabled(s!.id, true, T0 + 30_000);
    assert.equal((await scheduler.evaluate(T0)).length, 0);
    assert.equal((await scheduler.evaluate(T0 + 30_000)).length, 1);
    assert.equal((await scheduler.evaluate(T0 + 30_000)).length, 0);
    assert.equal((await scheduler.evaluate(T0 + 30_000 + MIN)).length, 1);
    assert.equal(fired.length, 2);
    const event = fired[0]!.event;
    assert.equal(event['detail-type'], 'Scheduled Event');
    assert.equal(event['source'], 'aws.events');
    assert.equal(event['time'], '2026-06-01T10:01:00Z');
    assert.deepEqual(event['resources'], [
      'arn:aws:events:eu-central-1:000000000000:rule/shop-work-schedule-1',
    ]);
    assert.deepEqual(event['detail'], {});
    assert.equal(fired[0]!.key, `schedule:shop:work-schedule-1:${T0 + 30_000}`);
    const inv = await store.invocations.get(fired[1]!.id);
    assert.equal(inv?.functionName, 'shop-work');
    assert.equal((await store.schedules.get(s!.id))!.nextFireAt, T0 + 30_000 + 2 * MIN);
  });

  test('two nodes on one database fire each tick exactly once', async () => {
    const target = stores.target();
    const fired: Fired[] = [];
    const a = node(await stores.openAt(target), fired).scheduler;
    const bStore = await stores.openAt(target);
    const b = node(bStore, fired).scheduler;
    await a.deployHook.apply(spec([{ schedule: 'rate(1 minute)' }, { schedule: 'cron(*/2 * * * *)' }]));
    for (const s of await bStore.schedules.list()) await bStore.schedules.setEnabled(s.id, true, T0 + 30_000);
    for (let t = T0 + 30_000; t < T0 + 30_000 + 10 * MIN; t += MIN) {
      await Promise.all([a.evaluate(t), b.evaluate(t), a.evaluate(t), b.evaluate(t)]);
    }
    const keys = fired.map((f) => f.key);
    assert.equal(new Set(keys).size, keys.length, 'no tick fired twice');
    // rate: 10 ticks; cron */2 first due at T0+30s then even minutes 10:02..10:10 → 1 + 5.
    assert.equal(fired.filter((f) => f.key!.includes('work-schedule-1')).length, 10);
    assert.equal(fired.filter((f) => f.key!.includes('work-schedule-2')).length, 6);
  });

  test('restart (reopen the store) does not re-fire; a redeploy keeps the next tick', async () => {
    const target = stores.target();
    const fired: Fired[] = [];
    const first = await stores.openAt(target);
    const one = node(first, fired).scheduler;
    await one.deployHook.apply(spec([{ schedule: 'rate(5 minutes)' }]));
    await first.schedules.setEnabled('shop:work-schedule-1', true, T0 + 4.5 * MIN);
    assert.equal((await one.evaluate(T0 + 4.5 * MIN)).length, 1);
    await one.stop();
    await first.close();
    const second = await stores.openAt(target);
    const two = node(second, fired).scheduler;
    await two.deployHook.apply(spec([{ schedule: 'rate(5 minutes)' }]));
    assert.equal((await second.schedules.get('shop:work-schedule-1'))!.nextFireAt, T0 + 9.5 * MIN);
    assert.equal((await two.evaluate(T0 + 4.5 * MIN + 1000)).length, 0);
    assert.equal((await two.evaluate(T0 + 9.5 * MIN)).length, 1);
    assert.equal(fired.length, 2);
  });

  test('missed ticks: skipped by default, fired once with catchUp', async () => {
    const store = await open();
    const fired: Fired[] = [];
    const { scheduler } = node(store, fired);
    await scheduler.deployHook.apply(
      spec([
        { schedule: 'rate(1 minute)' },
        { schedule: { rate: 'rate(1 minute)', catchUp: true, name: 'cu' } },
      ]),
    );
    const due = T0 + 30_000;
    for (const s of await store.schedules.list()) await store.schedules.setEnabled(s.id, true, due);
    // Down for an hour: at T0 + 1 h + 10 s the skipping one fires nothing, the other fires once.
    const now = due + 60 * MIN + 10_000;
    assert.equal((await scheduler.evaluate(now)).length, 1);
    assert.equal(fired.length, 1);
    assert.equal(fired[0]!.key, `schedule:shop:cu:${due + 60 * MIN}`);
    assert.equal(fired[0]!.event['time'], '2026-06-01T11:01:00Z');
    for (const s of await store.schedules.list()) assert.equal(s.nextFireAt, due + 61 * MIN, s.id);
    assert.equal((await scheduler.evaluate(now)).length, 0);
    assert.equal((await scheduler.evaluate(due + 61 * MIN)).length, 2);
  });

  test('disabled schedules never fire; enabling computes the next tick from now', async () => {
    const store = await open();
    const fired: Fired[] = [];
    const { scheduler } = node(store, fired);
    await scheduler.deployHook.apply(spec([{ schedule: { rate: 'rate(1 minute)', enabled: false } }]));
    const [s] = await store.schedules.list();
    assert.equal(s!.enabled, false);
    assert.equal(s!.nextFireAt, undefined);
    assert.equal((await scheduler.evaluate(Date.now() + 10 * MIN)).length, 0);
    const enabled = await scheduler.setEnabled(s!.id, true);
    assert.ok(enabled.nextFireAt! > Date.now() - 1000 && enabled.nextFireAt! <= Date.now() + MIN);
    const disabled = await scheduler.setEnabled(s!.id, false);
    assert.equal(disabled.nextFireAt, undefined);
    assert.equal((await scheduler.evaluate(Date.now() + 10 * MIN)).length, 0);
    assert.equal(fired.length, 0);
  });

  test('static input is the event; cron reads its zone', async () => {
    const store = await open();
    const fired: Fired[] = [];
    const { scheduler } = node(store, fired);
    await scheduler.deployHook.apply(
      spec([
        {
          schedule: {
            rate: 'cron(0 12 * * ? *)',
            timezone: 'Europe/Berlin',
            input: { job: 'nightly', n: 1 },
          },
        },
      ]),
    );
    const [s] = await store.schedules.list();
    assert.equal(s!.timeZone, 'Europe/Berlin');
    // The first tick is noon in Berlin: 10:00 or 11:00 UTC depending on DST.
    const first = s!.nextFireAt!;
    const hourUtc = new Date(first).getUTCHours();
    assert.ok(hourUtc === 10 || hourUtc === 11, `noon Berlin is ${hourUtc}:00 UTC`);
    assert.equal((await scheduler.evaluate(first)).length, 1);
    assert.deepEqual(fired[0]!.event, { job: 'nightly', n: 1 });
    assert.equal((await store.schedules.get(s!.id))!.nextFireAt! - first >= 23 * 60 * MIN, true);
  });

  test('a crash between claim and enqueue is repaired once, with the same idempotency key', async () => {
    const store = await open();
    const fired: Fired[] = [];
    let fail = true;
    const { scheduler, errors } = node(store, fired, { failEnqueue: () => fail });
    await scheduler.deployHook.apply(spec([{ schedule: 'rate(1 minute)' }]));
    await store.schedules.setEnabled('shop:work-schedule-1', true, T0 + 30_000);
    assert.equal((await scheduler.evaluate(T0 + 30_000)).length, 0);
    assert.equal(errors.length, 1);
    assert.equal((await store.schedules.get('shop:work-schedule-1'))!.pendingTick, T0 + 30_000);
    fail = false;
    // Within the lease nothing repairs it; after it, one evaluation re-enqueues the tick.
    assert.equal((await scheduler.evaluate(T0 + 40_000)).length, 0);
    assert.equal((await scheduler.evaluate(T0 + 30_000 + 31_000)).length, 1);
    assert.equal(fired[0]!.key, `schedule:shop:work-schedule-1:${T0 + 30_000}`);
    assert.equal((await store.schedules.get('shop:work-schedule-1'))!.pendingTick, undefined);
    // The next tick (T0 + 90 s) fires normally, once.
    assert.equal((await scheduler.evaluate(T0 + 30_000 + 62_000)).length, 1);
    assert.equal(fired[1]!.key, `schedule:shop:work-schedule-1:${T0 + 90_000}`);
    assert.equal(fired.length, 2);
  });

  test('deploy validation names the path and the fix; removeApp/removeFunction delete', async () => {
    const store = await open();
    const { scheduler } = node(store, []);
    const refuses = (events: unknown[], pattern: RegExp) =>
      assert.throws(() => scheduler.deployHook.validate(spec(events)), pattern);
    refuses(
      [{ http: 'GET /' }, { schedule: 'rate(1 minutes)' }],
      /functions\.work\.events\[1\]\.schedule: .*rate\(1 minute\)/,
    );
    refuses(
      [{ schedule: { rate: 'rate(1 hour)', timezone: 'Mars/Base' } }],
      /events\[0\]\.schedule\.timezone: unknown time zone/,
    );
    refuses(
      [{ schedule: { rate: ['rate(1 hour)', 'cron(0 12 * * * *)'] } }],
      /events\[0\]\.schedule\.rate\[1\]: cron/,
    );
    refuses([{ schedule: { rate: 'rate(1 hour)', inputPath: '$.x' } }], /unknown option 'inputPath'/);
    refuses(
      [{ schedule: { rate: 'rate(1 hour)', name: 'x' } }, { schedule: { rate: 'rate(2 hours)', name: 'x' } }],
      /name 'x'/,
    );
    await scheduler.deployHook.apply(
      spec([{ schedule: { rate: ['rate(1 hour)', 'cron(0 12 * * ? *)'], name: 'n' } }]),
    );
    assert.deepEqual(
      (await store.schedules.list()).map((s) => [s.name, s.expression]),
      [
        ['n-1', 'rate(1 hour)'],
        ['n-2', 'cron(0 12 * * ? *)'],
      ],
    );
    await scheduler.deployHook.removeFunction!('shop', 'shop-work');
    assert.equal((await store.schedules.list()).length, 0);
    await scheduler.deployHook.apply(spec([{ schedule: 'rate(1 hour)' }]));
    await scheduler.deployHook.removeApp('shop');
    assert.equal((await store.schedules.list()).length, 0);
  });

  test('the timer fires due ticks by itself and stop() leaves no timer', async () => {
    const store = await open();
    const fired: Fired[] = [];
    const errors: unknown[] = [];
    let clock = T0;
    const ctx = { ...nodeCtx(store, fired, errors) };
    const scheduler = new Scheduler(ctx, { now: () => clock, pollMs: 20 });
    await scheduler.deployHook.apply(spec([{ schedule: 'rate(1 minute)' }]));
    await store.schedules.setEnabled('shop:work-schedule-1', true, T0 + 30_000);
    scheduler.start();
    scheduler.start();
    clock = T0 + 30_000;
    const deadline = Date.now() + 5000;
    while (fired.length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    await scheduler.stop();
    await scheduler.stop();
    assert.equal(fired.length, 1);
    assert.deepEqual(errors, []);
  });

  test('with timers on one database, one leader (where locks exist) and each tick once', async () => {
    const target = stores.target();
    const fired: Fired[] = [];
    const errors: unknown[] = [];
    let clock = T0;
    const storeA = await stores.openAt(target);
    const storeB = await stores.openAt(target);
    const a = new Scheduler(nodeCtx(storeA, fired, errors), { now: () => clock, pollMs: 20 });
    const b = new Scheduler(nodeCtx(storeB, fired, errors), { now: () => clock, pollMs: 20 });
    await a.deployHook.apply(spec([{ schedule: 'rate(1 minute)' }]));
    await storeA.schedules.setEnabled('shop:work-schedule-1', true, T0 + 30_000);
    a.start();
    b.start();
    const deadline = Date.now() + 5000;
    const waitFor = async (n: number) => {
      while (fired.length < n && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    };
    clock = T0 + 30_000;
    await waitFor(1);
    clock = T0 + 90_000;
    await waitFor(2);
    await new Promise((r) => setTimeout(r, 100));
    const leaders = [a.isLeader, b.isLeader].filter(Boolean).length;
    await Promise.all([a.stop(), b.stop()]);
    assert.equal(leaders, storeA.capabilities.advisoryLocks ? 1 : 2);
    assert.deepEqual(
      fired.map((f) => f.key),
      [`schedule:shop:work-schedule-1:${T0 + 30_000}`, `schedule:shop:work-schedule-1:${T0 + 90_000}`],
    );
    assert.deepEqual(errors, []);
  });
});

/** A ServiceContext whose enqueues go to the real invocation queue and are recorded in `fired`. */
function nodeCtx(
  store: Store,
  fired: Fired[],
  errors: unknown[],
  failEnqueue?: () => boolean,
): ServiceContext {
  return {
    store,
    dataDir: '/tmp',
    invoker: undefined as never,
    enqueueAsync: async (functionName, payload, o) => {
      if (failEnqueue?.()) throw new Error('enqueue failed (simulated crash)');
      const id = randomUUID();
      await store.invocations.enqueue({ id, functionName, qualifier: '$LATEST', payload });
      fired.push({
        id,
        functionName,
        event: JSON.parse(payload.toString()) as Record<string, unknown>,
        key: o?.idempotencyKey,
      });
      return id;
    },
    region: 'eu-central-1',
    accountId: '000000000000',
    logger: { info: () => undefined, warn: () => undefined, error: () => undefined },
    onError: (err) => errors.push(err),
  };
}

installLeakGuard();
