// Cross-app references (issue 8, item 4): two apps on one real server; app A's token names app B's
// resources through every /v1 API that takes a reference (dead-letter queue, redrive destination,
// topic subscription to a queue or a function, copy source, invocation id). Each answer is exactly
// the answer for a resource that does not exist (one A declared, since deleted, and for functions
// one never deployed), and nothing reaches B. Per store.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { installLeakGuard } from '../helpers/leak-guard.js';
import { forEachStore } from '../helpers/test-stores.js';
import { startTestServer, type TestServer } from '../helpers/test-server.js';

installLeakGuard();

const handler = 'export const handler = async (event) => ({ got: event });\n';

const APP_A = {
  'nimbus.yml': [
    'app: xa',
    'functions:',
    '  fn:',
    '    handler: fn.handler',
    'resources:',
    '  queues: [xa-jobs, xa-dlq, xa-gone]',
    '  topics: [xa-news]',
    '  buckets: [xa-files, xa-gone-files]',
    '',
  ].join('\n'),
  'fn.mjs': handler,
};

const APP_B = {
  'nimbus.yml': [
    'app: xb',
    'functions:',
    '  fn:',
    '    handler: fn.handler',
    'resources:',
    '  queues: [xb-jobs]',
    '  buckets: [xb-files]',
    '',
  ].join('\n'),
  'fn.mjs': handler,
};

/** An answer reduced to what a caller sees, with the named target replaced by `<target>`. */
interface Answer {
  readonly status: number;
  readonly code: unknown;
  readonly message: string;
}

forEachStore((name, open) => {
  let t: TestServer;
  let tokenA: string;

  before(async () => {
    t = await startTestServer({ store: await open() });
    await t.deployFiles(APP_A);
    await t.deployFiles(APP_B);
    tokenA = await t.server.platform.auth.appToken('xa');
    // Declared by A, then deleted: A may use these names, and they do not exist. The strictest
    // "missing" to compare with (a name A may not use was refused even before the fix).
    assert.equal((await t.fetchV1('/v1/queues/xa-gone', { method: 'DELETE' })).status, 204);
    assert.equal((await t.fetchV1('/v1/buckets/xa-gone-files', { method: 'DELETE' })).status, 204);
    const put = await t.fetchV1('/v1/buckets/xb-files/objects/secret.txt', { method: 'PUT', body: 'b only' });
    assert.equal(put.status, 200);
  });
  after(() => t.close());

  /** A's request; the answer with `target` masked. */
  const asA = async (method: string, path: string, body: unknown, target: string): Promise<Answer> => {
    const res = await fetch(t.url + path, {
      method,
      headers: { authorization: `Bearer ${tokenA}`, 'content-type': 'application/json' },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const json = (await res.json().catch(() => ({}))) as { code?: unknown; message?: unknown };
    return {
      status: res.status,
      code: json.code,
      message: String(json.message).split(target).join('<target>'),
    };
  };

  /** B's resource and a missing one, through the same request: the same answer, and a refusal. */
  const same = async (
    what: string,
    request: (target: string) => Promise<Answer>,
    other: string,
    missing: string,
  ): Promise<Answer> => {
    const toOther = await request(other);
    const toMissing = await request(missing);
    assert.deepEqual(toOther, toMissing, `${what}: another app's resource must answer as a missing one`);
    assert.ok(toOther.status >= 400, `${what}: refused (got ${toOther.status})`);
    return toOther;
  };

  const bQueueCount = async (): Promise<number> => {
    const res = await t.fetchV1('/v1/queues/xb-jobs');
    const info = (await res.json()) as { counts: Record<string, number> };
    return Object.values(info.counts).reduce((a, b) => a + b, 0);
  };

  test(`${name}: PATCH a queue's deadLetter to another app's queue answers as a missing queue`, async () => {
    const a = await same(
      'deadLetter',
      (q) => asA('PATCH', '/v1/queues/xa-jobs', { deadLetter: { queue: q, maxReceiveCount: 1 } }, q),
      'xb-jobs',
      'xa-gone',
    );
    assert.equal(a.status, 400);
    const info = (await (await t.fetchV1('/v1/queues/xa-jobs')).json()) as {
      settings: { deadLetter?: unknown };
    };
    assert.equal(info.settings.deadLetter, undefined, 'the redrive policy was not set');
    // Its own queue is fine.
    const own = await asA('PATCH', '/v1/queues/xa-jobs', { deadLetter: { queue: 'xa-dlq' } }, 'xa-dlq');
    assert.equal(own.status, 200, own.message);
    await asA('PATCH', '/v1/queues/xa-jobs', { deadLetter: null }, 'x');
  });

  test(`${name}: redrive to another app's queue answers as a missing queue and moves nothing`, async () => {
    const sent = await asA('POST', '/v1/queues/xa-dlq/messages', { body: 'poison' }, 'x');
    assert.equal(sent.status, 200);
    const a = await same(
      'redrive toQueue',
      (q) => asA('POST', '/v1/queues/xa-dlq/redrive', { toQueue: q }, q),
      'xb-jobs',
      'xa-gone',
    );
    assert.equal(a.status, 404);
    assert.equal(await bQueueCount(), 0);
  });

  test(`${name}: subscribing a topic to another app's queue or function answers as a missing one; a publish reaches nothing of B`, async () => {
    await same(
      'subscription to a queue',
      (q) => asA('POST', '/v1/topics/xa-news/subscriptions', { queue: q }, q),
      'xb-jobs',
      'xa-gone',
    );
    await same(
      'subscription to a function',
      (f) => asA('POST', '/v1/topics/xa-news/subscriptions', { function: f }, f),
      'xb-fn',
      'xz-fn',
    );
    const subs = (await (await t.fetchV1('/v1/topics/xa-news/subscriptions')).json()) as {
      subscriptions: unknown[];
    };
    assert.equal(subs.subscriptions.length, 0);
    const published = await asA('POST', '/v1/topics/xa-news/publish', { message: 'hi' }, 'x');
    assert.equal(published.status, 200);
    assert.equal(await bQueueCount(), 0);
  });

  test(`${name}: copying from another app's bucket answers as a missing bucket and copies nothing`, async () => {
    const a = await same(
      'copy source',
      (b) =>
        asA(
          'POST',
          '/v1/buckets/xa-files/copy',
          { source: { bucket: b, key: 'secret.txt' }, key: 'stolen' },
          b,
        ),
      'xb-files',
      'xa-gone-files',
    );
    assert.equal(a.status, 404);
    assert.equal((await t.fetchV1('/v1/buckets/xa-files/objects/stolen')).status, 404);
  });

  test(`${name}: another app's invocation id answers as an unknown one`, async () => {
    const accepted = await t.fetchV1('/v1/functions/xb-fn/invoke?async=true', { method: 'POST', body: '{}' });
    const { invocationId } = (await accepted.json()) as { invocationId: string };
    const unknown = '00000000-0000-4000-8000-000000000000';
    const a = await same(
      'invocation',
      (id) => asA('GET', `/v1/invocations/${id}`, undefined, id),
      invocationId,
      unknown,
    );
    assert.equal(a.status, 404);
  });
});
