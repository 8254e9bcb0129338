// The /v1 queue routes over real HTTP on every store: CRUD with counts, send and batch send,
// receive, delete (path and batch), visibility, purge, redrive, errors, and long polls that end
// when the client goes away.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { installLeakGuard } from '../helpers/leak-guard.js';
import { forEachStore } from '../helpers/test-stores.js';
import { startTestServer, type TestServer } from '../helpers/test-server.js';

installLeakGuard();

interface Msg {
  messageId: string;
  receiptHandle: string;
  body: string;
  receiveCount: number;
}

async function call(
  t: TestServer,
  method: string,
  path: string,
  body?: unknown,
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- response bodies are asserted field by field
): Promise<{ status: number; json: any }> {
  const res = await t.fetchV1(path, {
    method,
    ...(body === undefined
      ? {}
      : { headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }),
  });
  const text = await res.text();
  return { status: res.status, json: text === '' ? undefined : JSON.parse(text) };
}

forEachStore((_name, open) => {
  test('/v1/queues: create, get with counts, patch, send, receive, delete, visibility, purge, redrive, delete queue', async () => {
    const t = await startTestServer({ store: await open() });
    try {
      assert.equal((await call(t, 'POST', '/v1/queues', { name: 'dlq' })).status, 201);
      const created = await call(t, 'POST', '/v1/queues', {
        name: 'jobs',
        visibilityTimeout: 60,
        deadLetter: { queue: 'dlq', maxReceiveCount: 1 },
      });
      assert.equal(created.status, 201);
      assert.match(created.json.arn, /^arn:aws:sqs:[^:]+:\d+:jobs$/);
      assert.equal(
        (
          await call(t, 'POST', '/v1/queues', {
            name: 'jobs',
            visibilityTimeout: 60,
            deadLetter: { queue: 'dlq', maxReceiveCount: 1 },
          })
        ).status,
        200,
      );
      assert.equal((await call(t, 'POST', '/v1/queues', { name: 'jobs', visibilityTimeout: 5 })).status, 409);

      const one = await call(t, 'POST', '/v1/queues/jobs/messages', {
        body: 'one',
        attributes: { a: { DataType: 'String', StringValue: 'x' } },
      });
      assert.equal(one.status, 200);
      assert.match(one.json.messageId, /^[0-9a-f-]{36}$/);
      const batch = await call(t, 'POST', '/v1/queues/jobs/messages', {
        entries: [
          { id: 'b', body: 'two' },
          { id: 'c', body: 'three', delaySeconds: 900 },
          { id: 'd', body: '' },
        ],
      });
      assert.equal(batch.json.successful.length, 2);
      assert.equal(batch.json.failed[0].id, 'd');
      assert.equal(batch.json.failed[0].code, 'InvalidParameterValueException');
      assert.equal(batch.json.failed[0].senderFault, true);

      const info = await call(t, 'GET', '/v1/queues/jobs');
      assert.deepEqual(info.json.counts, { visible: 2, inFlight: 0, delayed: 1 });
      assert.equal(info.json.settings.visibilityTimeout, 60);

      const got = await call(t, 'POST', '/v1/queues/jobs/receive', { maxMessages: 10 });
      const messages = got.json.messages as Msg[];
      assert.deepEqual(messages.map((m) => m.body).sort(), ['one', 'two']);
      const first = messages.find((m) => m.body === 'one')!;
      const second = messages.find((m) => m.body === 'two')!;
      assert.equal(
        (await call(t, 'DELETE', `/v1/queues/jobs/messages/${encodeURIComponent(first.receiptHandle)}`))
          .status,
        204,
      );
      assert.equal(
        (await call(t, 'DELETE', '/v1/queues/jobs/messages/not-a-handle')).json.code,
        'ReceiptHandleIsInvalid',
      );

      // Back to visible, then past maxReceiveCount: the next receive moves it to the DLQ.
      assert.equal(
        (
          await call(t, 'POST', '/v1/queues/jobs/visibility', {
            receiptHandle: second.receiptHandle,
            visibilityTimeout: 0,
          })
        ).status,
        204,
      );
      const stale = await call(t, 'POST', '/v1/queues/jobs/visibility', {
        receiptHandle: second.receiptHandle,
        visibilityTimeout: 10,
      });
      assert.equal(stale.status, 400);
      assert.equal(stale.json.code, 'MessageNotInflight');
      assert.deepEqual((await call(t, 'POST', '/v1/queues/jobs/receive', {})).json.messages, []);
      assert.deepEqual((await call(t, 'GET', '/v1/queues/dlq')).json.counts, {
        visible: 1,
        inFlight: 0,
        delayed: 0,
      });
      assert.deepEqual((await call(t, 'POST', '/v1/queues/dlq/redrive', {})).json, { moved: 1 });

      const again = (
        await call(t, 'POST', '/v1/queues/jobs/receive', { maxMessages: 10, visibilityTimeout: 30 })
      ).json.messages as Msg[];
      assert.deepEqual(
        again.map((m) => m.body),
        ['two'],
      );
      const deleted = await call(t, 'POST', '/v1/queues/jobs/delete', {
        receiptHandles: again.map((m) => m.receiptHandle),
      });
      assert.deepEqual(deleted.json, { successful: [{ id: '0' }], failed: [] });

      const patched = await call(t, 'PATCH', '/v1/queues/jobs', { visibilityTimeout: 5, deadLetter: null });
      assert.equal(patched.json.settings.visibilityTimeout, 5);
      assert.equal(patched.json.settings.deadLetter, undefined);

      assert.equal((await call(t, 'POST', '/v1/queues/jobs/purge')).status, 204);
      assert.deepEqual((await call(t, 'GET', '/v1/queues/jobs')).json.counts, {
        visible: 0,
        inFlight: 0,
        delayed: 0,
      });
      assert.deepEqual(
        (await call(t, 'GET', '/v1/queues?prefix=jo')).json.queues.map((q: { name: string }) => q.name),
        ['jobs'],
      );
      assert.equal((await call(t, 'DELETE', '/v1/queues/jobs')).status, 204);
      const gone = await call(t, 'GET', '/v1/queues/jobs');
      assert.equal(gone.status, 404);
      assert.match(gone.json.message, /nimbus queues create jobs/);
      assert.equal((await call(t, 'POST', '/v1/queues', { name: 'x', colour: 1 })).status, 400);
      assert.equal((await call(t, 'POST', '/v1/queues/dlq/receive', { maxMessages: 11 })).status, 400);
    } finally {
      await t.close();
    }
  });

  test('a long poll ends when the client disconnects (it does not take a later message)', async () => {
    const t = await startTestServer({ store: await open() });
    try {
      await call(t, 'POST', '/v1/queues', { name: 'lp' });
      const abort = new AbortController();
      const polling = t
        .fetchV1('/v1/queues/lp/receive', {
          method: 'POST',
          body: JSON.stringify({ waitTimeSeconds: 20 }),
          signal: abort.signal,
        })
        .catch((err: unknown) => err);
      await new Promise((r) => setTimeout(r, 200));
      abort.abort();
      await polling;
      await new Promise((r) => setTimeout(r, 200));
      await call(t, 'POST', '/v1/queues/lp/messages', { body: 'late' });
      const got = (await call(t, 'POST', '/v1/queues/lp/receive', { waitTimeSeconds: 2 })).json
        .messages as Msg[];
      assert.equal(got[0]?.body, 'late');
      assert.equal(got[0]?.receiveCount, 1, 'the abandoned poll did not receive it');
      // A long poll woken by a send.
      const waiting = call(t, 'POST', '/v1/queues/lp/receive', { waitTimeSeconds: 20 });
      await new Promise((r) => setTimeout(r, 100));
      await call(t, 'POST', '/v1/queues/lp/messages', { body: 'wake' });
      assert.equal((await waiting).json.messages[0].body, 'wake');
    } finally {
      await t.close();
    }
  });
});
