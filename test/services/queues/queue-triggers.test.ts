// Queue triggers through a real server on every store: nimbus.yml resources.queues (DLQ created
// too), `queue:` and Serverless `sqs:` events, the SQS event shape, deletes on success, retries
// then the DLQ on failure, and ReportBatchItemFailures; the /v1 queue routes along the way.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { installLeakGuard } from '../../helpers/leak-guard.js';
import { forEachStore } from '../../helpers/test-stores.js';

import { startTestServer, type TestServer, startNodeOn } from '../../helpers/test-server.js';
import { queueService } from './queue-test-context.js';

installLeakGuard();

const APP = {
  'nimbus.yml': `app: qt
functions:
  work:
    handler: index.work
    runtime: nodejs
    events:
      - queue: jobs
  partial:
    handler: index.partial
    runtime: nodejs
    events:
      - sqs:
          arn: arn:aws:sqs:us-east-1:000000000000:partial
          batchSize: 5
          maximumBatchingWindow: 1
          functionResponseType: ReportBatchItemFailures
  big:
    handler: index.big
    runtime: nodejs
    events:
      - queue: { queue: bulk, batchSize: 25, batchWindow: 2, maxConcurrency: 1 }
resources:
  queues:
    bulk: {}
    jobs: { visibilityTimeout: 1, deadLetter: { queue: jobs-dlq, maxReceiveCount: 2 } }
    partial: { visibilityTimeout: 1 }
`,
  'index.mjs': `
export const work = async (event) => {
  for (const r of event.Records) {
    console.log('RECORD ' + JSON.stringify(r));
    if (r.body === 'fail') throw new Error('poison');
  }
  return {};
};
export const big = async (event) => {
  console.log('BATCH ' + event.Records.length);
};
export const partial = async (event) => ({
  batchItemFailures: event.Records.filter((r) => r.body.startsWith('bad')).map((r) => ({ itemIdentifier: r.messageId })),
});
`,
};

async function counts(
  t: TestServer,
  queue: string,
): Promise<{ visible: number; inFlight: number; delayed: number }> {
  const res = await t.fetchV1(`/v1/queues/${queue}`);
  assert.equal(res.status, 200);
  return ((await res.json()) as { counts: { visible: number; inFlight: number; delayed: number } }).counts;
}

async function until(what: string, check: () => Promise<boolean>, ms = 20_000): Promise<void> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`timed out waiting for ${what}`);
}

async function send(t: TestServer, queue: string, body: unknown): Promise<Response> {
  return t.fetchV1(`/v1/queues/${queue}/messages`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
}

forEachStore((_name, open) => {
  test('queue triggers: success deletes, failure retries into the DLQ, partial batch failures', async () => {
    const t = await startTestServer({ store: await open() });
    try {
      await t.deployFiles(APP);
      const list = (await (await t.fetchV1('/v1/queues')).json()) as {
        queues: Array<{ name: string; settings: { visibilityTimeout: number } }>;
      };
      assert.deepEqual(
        list.queues.map((q) => q.name),
        ['bulk', 'jobs', 'jobs-dlq', 'partial'],
      );
      assert.equal(list.queues[1]!.settings.visibilityTimeout, 1);

      // A batch larger than one receive, filled within the batching window.
      for (let i = 0; i < 25; i += 10) {
        const entries = Array.from({ length: Math.min(10, 25 - i) }, (_, j) => ({
          id: `e${j}`,
          body: `b${i + j}`,
        }));
        assert.equal((await send(t, 'bulk', { entries })).status, 200);
      }
      let sizes: number[] = [];
      await until('the bulk queue to be consumed', async () => {
        const { lines } = (await (await t.fetchV1('/v1/functions/qt-big/logs')).json()) as {
          lines: Array<{ message: string }>;
        };
        sizes = lines
          .filter((l) => l.message.includes('BATCH '))
          .map((l) => Number(/BATCH (\d+)/.exec(l.message)![1]));
        return sizes.reduce((a, b) => a + b, 0) === 25;
      });
      assert.ok(Math.max(...sizes) > 10, `a batch of more than 10 records (batches: ${sizes.join(', ')})`);

      // Success: the message is consumed and deleted; the function saw an SQS-shaped record.
      const sent = (await (
        await send(t, 'jobs', { body: 'hello', attributes: { k: { DataType: 'String', StringValue: 'v' } } })
      ).json()) as { messageId: string };
      await until('the message to be deleted', async () => {
        const c = await counts(t, 'jobs');
        return c.visible + c.inFlight === 0;
      });
      let record: Record<string, unknown> | undefined;
      await until('the record in the logs', async () => {
        const { lines } = (await (await t.fetchV1('/v1/functions/qt-work/logs')).json()) as {
          lines: Array<{ message: string }>;
        };
        const line = lines.find((l) => l.message.includes('RECORD'));
        if (line)
          record = JSON.parse(line.message.slice(line.message.indexOf('RECORD ') + 7)) as Record<
            string,
            unknown
          >;
        return record !== undefined;
      });
      assert.equal(record!['messageId'], sent.messageId);
      assert.equal(record!['body'], 'hello');
      assert.equal(record!['eventSource'], 'aws:sqs');
      assert.equal(record!['eventSourceARN'], 'arn:aws:sqs:us-east-1:000000000000:jobs');
      assert.equal(record!['awsRegion'], 'us-east-1');
      assert.equal(record!['md5OfBody'], '5d41402abc4b2a76b9719d911017c592');
      assert.equal(typeof record!['receiptHandle'], 'string');
      const attrs = record!['attributes'] as Record<string, string>;
      assert.equal(attrs['ApproximateReceiveCount'], '1');
      assert.match(attrs['SentTimestamp']!, /^\d+$/);
      assert.match(attrs['ApproximateFirstReceiveTimestamp']!, /^\d+$/);
      assert.deepEqual(record!['messageAttributes'], {
        k: { dataType: 'String', stringValue: 'v', stringListValues: [], binaryListValues: [] },
      });

      // A poison message: retried after each visibility timeout, then moved to the DLQ.
      assert.equal((await send(t, 'jobs', { body: 'fail' })).status, 200);
      await until('the poison message in the DLQ', async () => (await counts(t, 'jobs-dlq')).visible === 1);
      assert.deepEqual(await counts(t, 'jobs'), { visible: 0, inFlight: 0, delayed: 0 });

      // Partial batch failures: the good ones are deleted, the reported one stays.
      const batch = await send(t, 'partial', {
        entries: [
          { id: 'a', body: 'good-1' },
          { id: 'b', body: 'bad-1' },
          { id: 'c', body: 'good-2' },
        ],
      });
      assert.equal(((await batch.json()) as { successful: unknown[] }).successful.length, 3);
      await until('only the failed record to remain', async () => {
        const c = await counts(t, 'partial');
        return c.visible + c.inFlight === 1;
      });
      await new Promise((r) => setTimeout(r, 1500));
      const c = await counts(t, 'partial');
      assert.equal(c.visible + c.inFlight, 1, 'the reported failure is not deleted');

      // Redeploy without the triggers: they stop (the queues and their messages stay).
      await t.deployFiles({
        ...APP,
        'nimbus.yml': APP['nimbus.yml']
          .replace(/ {4}events:\n {6}- queue: jobs\n/, '')
          .replace(/ {4}events:\n {6}- sqs:[\s\S]*?ReportBatchItemFailures\n/, '')
          .replace(/ {4}events:\n {6}- queue: \{ queue: bulk.*\n/, ''),
      });
      assert.deepEqual(await t.server.platform.store.queues.listTriggers(), []);
      assert.equal((await send(t, 'jobs', { body: 'stays' })).status, 200);
      await new Promise((r) => setTimeout(r, 500));
      assert.equal((await counts(t, 'jobs')).visible, 1);
    } finally {
      await t.close();
    }
  });

  test('triggers survive a restart: a new server on the same store polls them', async () => {
    const store = await open();
    const first = await startTestServer({ store });
    try {
      await first.deployFiles({
        'nimbus.yml': `app: rs
functions:
  work:
    handler: index.work
    runtime: nodejs
    events:
      - queue: later
resources:
  queues:
    later: {}
`,
        'index.mjs': `export const work = async () => ({});`,
      });
    } finally {
      await first.close();
    }
    // Sent while no server runs: nobody consumes it.
    await store.queues.send(
      'later',
      [{ messageId: 'm-1', body: 'x', visibleAt: Date.now(), expiresAt: Date.now() + 60_000 }],
      Date.now(),
    );
    // A second server on the same store (startServer directly: the store already has its root
    // credentials, which startTestServer expects to create).
    const second = await startNodeOn(store, {
      prewarm: { nodejs: 1, python: 0, provided: 0 },
      threadPrewarm: 1,
    });
    try {
      const queues = queueService(store);
      await until('the message to be consumed after the restart', async () => {
        const c = await queues.counts('later');
        return c.visible + c.inFlight === 0;
      });
    } finally {
      await second.close();
    }
  });
});
