// Schedules end to end on every store: a deployed rate(1 minute) function fired by the server's
// scheduler at a chosen time, the /v1 routes, `nimbus schedules`, redeploy and removal.

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { run } from '../cli/cli-test-io.js';
import { installLeakGuard } from '../helpers/leak-guard.js';
import { forEachStore } from '../helpers/test-stores.js';
import { startTestServer, type TestServer } from '../helpers/test-server.js';

const APP = `app: sched
functions:
  tick:
    handler: index.tick
    events:
      - schedule: rate(1 minute)
      - schedule:
          rate: cron(0 12 * * ? *)
          timezone: Europe/Berlin
          input: { job: nightly }
          name: nightly
          enabled: false
`;

const CODE = `exports.tick = async (event) => ({ got: event });`;

interface Inv {
  status: string;
  result?: { got: Record<string, unknown> };
}

async function settle(server: TestServer, id: string): Promise<Inv> {
  for (let i = 0; i < 400; i++) {
    const inv = (await (await server.fetchV1(`/v1/invocations/${id}`)).json()) as Inv;
    if (inv.status === 'succeeded' || inv.status === 'failed') return inv;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`invocation ${id} did not finish`);
}

forEachStore((_name, open) => {
  describe('schedules on a server', () => {
    let t: TestServer;
    before(async () => {
      t = await startTestServer({ store: await open() });
      await t.deployFiles({ 'nimbus.yml': APP, 'index.js': CODE });
    });
    after(() => t.close());

    test('the deployed rate(1 minute) fires a Scheduled Event once per tick', async () => {
      const scheduler = t.server.platform.scheduler;
      const s = await t.server.platform.store.schedules.get('sched:tick-schedule-1');
      assert.ok(s?.nextFireAt !== undefined);
      assert.equal(s.nextFireAt % 60_000, 0);
      // Don't wait a minute: evaluate at the tick (the server's own timer sees it as future).
      const tick = s.nextFireAt + 60_000 * 10;
      await t.server.platform.store.schedules.setEnabled(s.id, true, tick);
      const fired = await scheduler.evaluate(tick);
      assert.equal(fired.length, 1);
      assert.deepEqual(await scheduler.evaluate(tick), []);
      const inv = await settle(t, fired[0]!.invocationId);
      assert.equal(inv.status, 'succeeded');
      assert.equal(inv.result?.got['detail-type'], 'Scheduled Event');
      assert.equal(inv.result?.got['time'], new Date(tick).toISOString().replace('.000Z', 'Z'));
    });

    test('a crash after the enqueue, before the confirm: the repair dedupes by idempotency key', async () => {
      const { store, scheduler, services } = t.server.platform;
      const s = (await store.schedules.get('sched:tick-schedule-1'))!;
      const tick = s.nextFireAt! + 60_000 * 100;
      await store.schedules.setEnabled(s.id, true, tick);
      // What a node did before dying: claim the tick and enqueue it, but not confirm.
      assert.equal(
        await store.schedules.claimTick(s.id, tick, { next: tick + 60_000, fire: tick, now: tick }),
        true,
      );
      const first = await services.enqueueAsync(s.functionName, Buffer.from('{}'), {
        idempotencyKey: `schedule:${s.id}:${tick}`,
      });
      // After the lease, any node repairs the pending tick with the same key.
      const repaired = await scheduler.evaluate(tick + 31_000);
      assert.equal(repaired.length, 1);
      assert.equal(repaired[0]!.invocationId, first, 'the second enqueue returns the first invocation');
      assert.equal((await store.schedules.get(s.id))!.pendingTick, undefined);
    });

    test('GET /v1/schedules lists with next fire times; show by id or name', async () => {
      const res = await t.fetchV1('/v1/schedules?app=sched');
      assert.equal(res.status, 200);
      const body = (await res.json()) as { schedules: Array<Record<string, unknown>> };
      assert.deepEqual(
        body.schedules.map((s) => [s['id'], s['expression'], s['timeZone'], s['enabled']]),
        [
          ['sched:nightly', 'cron(0 12 * * ? *)', 'Europe/Berlin', false],
          ['sched:tick-schedule-1', 'rate(1 minute)', 'UTC', true],
        ],
      );
      assert.equal(body.schedules[0]!['nextFireAt'], null);
      assert.match(String(body.schedules[1]!['nextFireAt']), /^\d{4}-\d\d-\d\dT\d\d:\d\d:00\.000Z$/);
      const one = (await (await t.fetchV1('/v1/schedules/nightly')).json()) as Record<string, unknown>;
      assert.deepEqual(one['input'], { job: 'nightly' });
      const missing = await t.fetchV1('/v1/schedules/sched:nope');
      assert.equal(missing.status, 404);
      assert.match(((await missing.json()) as { message: string }).message, /nimbus schedules ls/);
    });

    test('enable, run and disable over the API', async () => {
      const enabled = (await (
        await t.fetchV1('/v1/schedules/sched:nightly/enable', { method: 'POST' })
      ).json()) as {
        enabled: boolean;
        nextFireAtZone: string;
      };
      assert.equal(enabled.enabled, true);
      assert.match(enabled.nextFireAtZone, /T12:00:00\+0[12]:00$/);
      const ran = await t.fetchV1('/v1/schedules/sched:nightly/run', { method: 'POST' });
      assert.equal(ran.status, 202);
      const { invocationId } = (await ran.json()) as { invocationId: string };
      const inv = await settle(t, invocationId);
      assert.deepEqual(inv.result?.got, { job: 'nightly' });
      const disabled = (await (
        await t.fetchV1('/v1/schedules/sched:nightly/disable', { method: 'POST' })
      ).json()) as {
        enabled: boolean;
        nextFireAt: null;
      };
      assert.equal(disabled.enabled, false);
      assert.equal(disabled.nextFireAt, null);
    });

    test('nimbus schedules ls / disable / enable / run / next', async () => {
      const env = { NIMBUS_ENDPOINT: t.url, NIMBUS_TOKEN: t.credentials.token };
      const ls = await run(['schedules', 'ls', '--app', 'sched'], { env });
      assert.equal(ls.code, 0, ls.stderr);
      assert.match(ls.stdout, /sched:tick-schedule-1\s+sched-tick\s+rate\(1 minute\)\s+UTC/);
      assert.match(ls.stdout, /sched:nightly.*Europe\/Berlin.*no/);
      const dis = await run(['schedules', 'disable', 'tick-schedule-1'], { env });
      assert.equal(dis.code, 0, dis.stderr);
      assert.match(dis.stdout, /disabled sched:tick-schedule-1/);
      const en = await run(['schedules', 'enable', 'sched:tick-schedule-1'], { env });
      assert.match(en.stdout, /enabled sched:tick-schedule-1; next run \d{4}-/);
      const r = await run(['schedules', 'run', 'sched:tick-schedule-1', '--json'], { env });
      assert.equal(r.code, 0, r.stderr);
      assert.ok((JSON.parse(r.stdout) as { invocationId: string }).invocationId);
      const next = await run([
        'schedules',
        'next',
        'cron(0 12 ? * MON-FRI *)',
        '--tz',
        'Europe/Berlin',
        '--count',
        '3',
      ]);
      assert.equal(next.code, 0, next.stderr);
      assert.equal(next.stdout.trim().split('\n').length, 3);
      assert.match(next.stdout, /T12:00:00\+0[12]:00/);
      const bad = await run(['schedules', 'next', 'rate(1 minutes)']);
      assert.notEqual(bad.code, 0);
      assert.match(bad.stderr, /rate\(1 minute\)/);
    });

    test('redeploy keeps the next tick; a bad schedule refuses the deploy with its path', async () => {
      const before = await t.server.platform.store.schedules.get('sched:tick-schedule-1');
      await t.deployFiles({ 'nimbus.yml': APP, 'index.js': CODE });
      const afterDeploy = await t.server.platform.store.schedules.get('sched:tick-schedule-1');
      assert.equal(afterDeploy?.nextFireAt, before?.nextFireAt);
      await assert.rejects(
        t.deployFiles({
          'nimbus.yml': APP.replace('timezone: Europe/Berlin', 'timezone: Europe/Atlantis'),
          'index.js': CODE,
        }),
        /functions\.tick\.events\[1\]\.schedule\.timezone: unknown time zone 'Europe\/Atlantis'/,
      );
      const del = await t.fetchV1('/v1/apps/sched', { method: 'DELETE' });
      assert.equal(del.status, 200);
      assert.deepEqual(await t.server.platform.store.schedules.list('sched'), []);
    });
  });
});

installLeakGuard();
