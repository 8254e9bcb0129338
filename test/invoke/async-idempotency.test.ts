// Idempotency keys of async invocations on both stores: the X-Nimbus-Idempotency-Key header,
// concurrent double enqueues (one invocation), the window, and EnqueueOptions.idempotencyKey.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { installLeakGuard } from '../helpers/leak-guard.js';
import { forEachStore } from '../helpers/test-stores.js';
import { startTestServer, type TestServer } from '../helpers/test-server.js';

const FILES = {
  'nimbus.yml': `app: idem
functions:
  count:
    handler: index.count
`,
  'index.js': `exports.count = async (event) => { console.log('RAN ' + event.n); return event.n; };`,
};

async function post(t: TestServer, fn: string, body: unknown, key?: string): Promise<Response> {
  return t.fetchV1(`/v1/functions/${fn}/invoke?async=true`, {
    method: 'POST',
    body: JSON.stringify(body),
    headers: { 'content-type': 'application/json', ...(key ? { 'x-nimbus-idempotency-key': key } : {}) },
  });
}

async function idOf(res: Response): Promise<string> {
  assert.equal(res.status, 202, await res.clone().text());
  return ((await res.json()) as { invocationId: string }).invocationId;
}

async function settled(t: TestServer, id: string): Promise<{ status: string; idempotencyKey?: string }> {
  for (let i = 0; i < 400; i++) {
    const inv = (await (await t.fetchV1(`/v1/invocations/${id}`)).json()) as { status: string };
    if (inv.status === 'succeeded' || inv.status === 'failed') return inv;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`invocation ${id} did not finish`);
}

async function runs(t: TestServer, n: number): Promise<number> {
  const res = (await (await t.fetchV1('/v1/functions/idem-count/logs?since=0')).json()) as {
    lines: { message: string }[];
  };
  return res.lines.filter((l) => l.message.includes(`RAN ${n}`)).length;
}

forEachStore((_name, open) => {
  let t: TestServer;
  before(async () => {
    t = await startTestServer({ store: await open(), async: { retryBaseMs: 20 } });
    await t.deployFiles(FILES);
  });
  after(() => t.close());

  test('the same key twice returns the first id and runs the function once', async () => {
    const key = `order-${randomUUID()}`;
    const first = await idOf(await post(t, 'idem-count', { n: 1 }, key));
    const second = await idOf(await post(t, 'idem-count', { n: 1 }, key));
    assert.equal(second, first);
    const inv = await settled(t, first);
    assert.equal(inv.idempotencyKey, key);
    await new Promise((r) => setTimeout(r, 100));
    assert.equal(await runs(t, 1), 1);
    // Without a key every enqueue is its own invocation.
    const a = await idOf(await post(t, 'idem-count', { n: 2 }));
    const b = await idOf(await post(t, 'idem-count', { n: 2 }));
    assert.notEqual(a, b);
  });

  test('concurrent enqueues with one key store one invocation', async () => {
    const key = randomUUID();
    const ids = await Promise.all(
      Array.from({ length: 12 }, async () => idOf(await post(t, 'idem-count', { n: 3 }, key))),
    );
    assert.equal(new Set(ids).size, 1, `ids: ${ids.join(', ')}`);
    await settled(t, ids[0]!);
    await new Promise((r) => setTimeout(r, 100));
    assert.equal(await runs(t, 3), 1);
  });

  test('EnqueueOptions.idempotencyKey (triggers) dedupes the same way; keys are per function', async () => {
    const ctx = t.server.platform.services;
    const payload = Buffer.from('{"n":4}');
    const a = await ctx.enqueueAsync('idem-count', payload, { idempotencyKey: 'tick-1' });
    const b = await ctx.enqueueAsync('idem-count', payload, { idempotencyKey: 'tick-1' });
    assert.equal(a, b);
    // The header on the HTTP API shares the key space of the function.
    assert.equal(await idOf(await post(t, 'idem-count', { n: 4 }, 'tick-1')), a);
  });

  test('a bad key is a 400 with the fix', async () => {
    const res = await post(t, 'idem-count', {}, 'has space');
    assert.equal(res.status, 400);
    const body = (await res.json()) as { code?: string; message?: string; Type?: string };
    assert.match(JSON.stringify(body), /InvalidParameterValueException/);
    assert.match(JSON.stringify(body), /printable ASCII/);
  });

  test('store: concurrent enqueues race on the unique key; an expired key may be reused', async () => {
    const store = await open();
    const base = { functionName: 'f', qualifier: '', payload: Buffer.from('{}') };
    const ids = Array.from({ length: 20 }, () => randomUUID());
    const got = await Promise.all(
      ids.map((id) => store.invocations.enqueue({ ...base, id, idempotencyKey: 'k' })),
    );
    const winner = got[0]!;
    assert.ok(got.every((g) => g === winner));
    const stored = await Promise.all(ids.map((id) => store.invocations.get(id)));
    assert.equal(stored.filter((s) => s !== undefined).length, 1, 'exactly one invocation stored');
    // Same key, other function: its own invocation.
    const other = randomUUID();
    assert.equal(
      await store.invocations.enqueue({ ...base, functionName: 'g', id: other, idempotencyKey: 'k' }),
      other,
    );
    // A window of 1 ms has passed: the key is free again.
    await new Promise((r) => setTimeout(r, 5));
    const again = randomUUID();
    assert.equal(
      await store.invocations.enqueue({ ...base, id: again, idempotencyKey: 'k', idempotencyWindowMs: 1 }),
      again,
    );
    assert.equal(await store.invocations.purgeIdempotencyKeys(Date.now() + 1), 2);
  });
});

installLeakGuard();
