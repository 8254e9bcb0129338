// Async destinations on both stores through a real server and the real queue and topic services:
// onSuccess/onFailure records in Lambda's shape (functions, queues, topics), dead letters with
// Lambda's message attributes, EventAgeExceeded, and redelivery of a record left pending by a crash.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';

import { installLeakGuard } from '../helpers/leak-guard.js';
import { forEachStore } from '../helpers/test-stores.js';
import { startTestServer, type TestServer, startNodeOn } from '../helpers/test-server.js';
import type { Store } from '../../src/store/store.js';
import type { InvocationRecord } from '../../src/invoke/destinations.js';

interface Inv {
  status: string;
  attempts: number;
  condition?: string;
  result?: unknown;
  error?: { errorType: string; errorMessage: string };
  destination?: { status: string; attempts: number; error?: string };
}

const APP = `app: dest
resources:
  queues:
    dlq: {}
    records: {}
    inbox: {}
  topics:
    updates:
      subscriptions:
        - { queue: inbox, rawMessageDelivery: true }
functions:
  flaky:
    handler: index.flaky
    destinations:
      onSuccess: function:sink
  fail:
    handler: index.fail
    maximumRetryAttempts: 1
    destinations:
      onFailure: sink
    onError: arn:aws:sqs:us-east-1:000000000000:dlq
  failq:
    handler: index.fail
    maximumRetryAttempts: 0
    destinations:
      onFailure: queue:records
  aged:
    handler: index.fail
    destinations:
      onFailure: queue:records
    deadLetter: { queue: dlq }
  okt:
    handler: index.ok
    destinations:
      onSuccess: { type: topic, name: updates }
  sink:
    handler: index.sink
`;

// Module state survives on a warm instance: `flaky` fails its first call only.
const CODE = `
let calls = 0;
exports.ok = async (event) => ({ echoed: event });
exports.fail = async () => { throw new Error('always fails'); };
exports.flaky = async () => { calls++; if (calls === 1) throw new Error('first try fails'); return { calls }; };
exports.sink = async (event) => { console.log('RECORD ' + JSON.stringify(event)); return 'ok'; };
`;

async function settle(
  server: TestServer,
  id: string,
  done = (i: Inv) => i.destination?.status !== 'pending',
): Promise<Inv> {
  let inv: Inv | undefined;
  for (let i = 0; i < 400; i++) {
    inv = (await (await server.fetchV1(`/v1/invocations/${id}`)).json()) as Inv;
    if ((inv.status === 'succeeded' || inv.status === 'failed') && done(inv)) return inv;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`invocation ${id} did not finish: ${JSON.stringify(inv)}`);
}

async function enqueue(server: TestServer, fn: string, payload: unknown): Promise<string> {
  const res = await server.client.invoke(fn, { payload: JSON.stringify(payload), async: true });
  assert.equal(res.kind, 'async');
  return res.kind === 'async' ? res.invocationId : '';
}

/** The records the `sink` function logged, waiting until one for `requestId` arrives. */
async function sinkRecord(server: TestServer, requestId: string): Promise<InvocationRecord> {
  for (let i = 0; i < 400; i++) {
    const res = (await (await server.fetchV1('/v1/functions/dest-sink/logs?since=0')).json()) as {
      lines: { message: string }[];
    };
    for (const line of res.lines) {
      const at = line.message.indexOf('RECORD ');
      if (at < 0) continue;
      const record = JSON.parse(line.message.slice(at + 7)) as InvocationRecord;
      if (record.requestContext?.requestId === requestId) return record;
    }
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`no destination record for ${requestId}`);
}

async function receiveOne(server: TestServer, queue: string) {
  for (let i = 0; i < 100; i++) {
    const [m] = await server.server.platform.queues.receiveMessages(queue, { maxMessages: 1 });
    if (m) return m;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`nothing arrived on queue ${queue}`);
}

forEachStore((_name, open, stores) => {
  let t: TestServer;
  before(async () => {
    t = await startTestServer({ store: await open(), async: { retryBaseMs: 20 } });
    await t.deployFiles({ 'nimbus.yml': APP, 'index.js': CODE });
  });
  after(() => t.close());

  test('a retry that succeeds sends a Success record to the onSuccess function', async () => {
    const id = await enqueue(t, 'dest-flaky', { order: 1 });
    const inv = await settle(t, id);
    assert.equal(inv.status, 'succeeded');
    assert.equal(inv.attempts, 2);
    assert.equal(inv.destination?.status, 'delivered');
    const record = await sinkRecord(t, id);
    assert.equal(record.version, '1.0');
    assert.ok(!Number.isNaN(Date.parse(record.timestamp)));
    assert.deepEqual(record.requestContext, {
      requestId: id,
      functionArn: 'arn:aws:lambda:us-east-1:000000000000:function:dest-flaky:$LATEST',
      condition: 'Success',
      approximateInvokeCount: 2,
    });
    assert.deepEqual(record.requestPayload, { order: 1 });
    assert.deepEqual(record.responseContext, { statusCode: 200, executedVersion: '$LATEST' });
    assert.deepEqual(record.responsePayload, { calls: 2 });
  });

  test('retries exhausted: RetriesExhausted record to onFailure, original event to the DLQ', async () => {
    const id = await enqueue(t, 'dest-fail', { order: 2 });
    const inv = await settle(t, id);
    assert.equal(inv.status, 'failed');
    assert.equal(inv.attempts, 2, 'maximumRetryAttempts: 1 → two attempts');
    assert.equal(inv.condition, 'RetriesExhausted');
    const record = await sinkRecord(t, id);
    assert.equal(record.requestContext.condition, 'RetriesExhausted');
    assert.equal(record.requestContext.approximateInvokeCount, 2);
    assert.deepEqual(record.responseContext, {
      statusCode: 200,
      executedVersion: '$LATEST',
      functionError: 'Unhandled',
    });
    assert.equal((record.responsePayload as { errorMessage: string }).errorMessage, 'always fails');

    const dead = await receiveOne(t, 'dlq');
    assert.deepEqual(JSON.parse(dead.body), { order: 2 });
    assert.equal(dead.attributes.RequestID?.StringValue, id);
    assert.equal(dead.attributes.ErrorCode?.DataType, 'Number');
    assert.equal(dead.attributes.ErrorCode?.StringValue, '200');
    assert.equal(dead.attributes.ErrorMessage?.StringValue, 'always fails');
  });

  test('an onFailure queue receives the record (maximumRetryAttempts 0: one attempt)', async () => {
    const id = await enqueue(t, 'dest-failq', { order: 3 });
    const inv = await settle(t, id);
    assert.equal(inv.attempts, 1);
    assert.equal(inv.destination?.status, 'delivered');
    const m = await receiveOne(t, 'records');
    const record = JSON.parse(m.body) as InvocationRecord;
    assert.equal(record.requestContext.requestId, id);
    assert.equal(record.requestContext.condition, 'RetriesExhausted');
    assert.deepEqual(record.requestPayload, { order: 3 });
  });

  test('an onSuccess topic publishes the record to its subscribers', async () => {
    const id = await enqueue(t, 'dest-okt', { order: 4 });
    await settle(t, id);
    const m = await receiveOne(t, 'inbox');
    const record = JSON.parse(m.body) as InvocationRecord;
    assert.equal(record.requestContext.requestId, id);
    assert.equal(record.requestContext.condition, 'Success');
    assert.deepEqual(record.responsePayload, { echoed: { order: 4 } });
  });

  test('a missing destination queue marks the delivery failed after its attempts, with the reason', async () => {
    await t.server.platform.queues.deleteQueue('records');
    try {
      const id = await enqueue(t, 'dest-failq', { order: 5 });
      const inv = await settle(t, id, (i) => i.destination?.status === 'failed');
      assert.equal(inv.destination?.attempts, 5);
      assert.match(inv.destination?.error ?? '', /records/);
    } finally {
      await t.server.platform.queues.createQueue('records');
    }
  });

  describe('event age and crashes', () => {
    let store: Store;
    before(async () => {
      store = await open();
    });

    test('an event past its maximum age sends an EventAgeExceeded record without running', async () => {
      // A zero node-wide cap: every event is already too old when it is claimed.
      const old = await startTestServer({ store, async: { maxEventAgeMs: 0 } });
      try {
        await old.deployFiles({ 'nimbus.yml': APP, 'index.js': CODE });
        const id = await enqueue(old, 'dest-aged', { order: 6 });
        const inv = await settle(old, id);
        assert.equal(inv.condition, 'EventAgeExceeded');
        assert.equal(inv.attempts, 0);
        assert.equal(inv.destination?.status, 'delivered');
        // A queue target: with a zero age cap a function destination would be dropped as well.
        const record = JSON.parse((await receiveOne(old, 'records')).body) as InvocationRecord;
        assert.equal(record.requestContext.requestId, id);
        assert.equal(record.requestContext.condition, 'EventAgeExceeded');
        assert.equal(record.requestContext.approximateInvokeCount, 0);
        assert.deepEqual(record.requestPayload, { order: 6 });
        assert.equal(record.responseContext, undefined);
        // Lambda also sends expired events to the dead-letter queue.
        const dead = await receiveOne(old, 'dlq');
        assert.equal(dead.attributes.RequestID?.StringValue, id);
      } finally {
        await old.close();
      }
    });

    test('a record left pending by a crash is delivered by the next node to claim it', async () => {
      const target = stores.target();
      const crashed = await stores.openAt(target);
      // concurrency 0: this node never claims, so the test plays the crashed node by hand.
      const idle = await startTestServer({ store: crashed, async: { concurrency: 0 } });
      await idle.deployFiles({ 'nimbus.yml': APP, 'index.js': CODE });
      await idle.close();
      const id = randomUUID();
      await crashed.invocations.enqueue({
        id,
        functionName: 'dest-failq',
        qualifier: '',
        payload: Buffer.from('{"order":7}'),
      });
      assert.equal((await crashed.invocations.claim(10, 60_000)).length, 1);
      // The outcome is committed with the delivery pending, then the node "dies" (lease 1 ms).
      await crashed.invocations.complete(id, {
        status: 'failed',
        error: '{"errorType":"Error","errorMessage":"boom"}',
        condition: 'RetriesExhausted',
        deliveryLeaseMs: 1,
      });
      assert.equal((await crashed.invocations.get(id))?.delivery, 'pending');
      await new Promise((r) => setTimeout(r, 5));
      // The next node: a plain server on the same database (not a fresh test server: the
      // database already has its root credentials).
      const next = await startNodeOn(crashed);
      try {
        let inv = await crashed.invocations.get(id);
        for (let i = 0; i < 400 && inv?.delivery !== 'delivered'; i++) {
          await new Promise((r) => setTimeout(r, 25));
          inv = await crashed.invocations.get(id);
        }
        assert.equal(inv?.delivery, 'delivered');
        assert.equal(inv?.status, 'failed', 'the outcome is not rerun');
        let m;
        for (let i = 0; i < 100 && !m; i++) {
          [m] = await next.platform.queues.receiveMessages('records', { maxMessages: 1 });
          if (!m) await new Promise((r) => setTimeout(r, 25));
        }
        assert.ok(m, 'the record arrived');
        const record = JSON.parse(m.body) as InvocationRecord;
        assert.equal(record.requestContext.requestId, id);
        assert.equal((record.responsePayload as { errorMessage: string }).errorMessage, 'boom');
      } finally {
        await next.close();
      }
    });
  });
});

installLeakGuard();
