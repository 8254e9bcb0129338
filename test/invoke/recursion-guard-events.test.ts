// Recursive loop detection through topics and buckets, with real deployed functions: a function
// that publishes to the topic that triggers it, or writes to the bucket that triggers it, is
// dropped at its 17th run (to its on-failure destination); a chain A → topic → B (and through a
// queue subscription) carries A's lineage on without stopping anything.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { lineageHash } from '../../src/invoke/recursion-guard.js';
import { s3For } from '../api/s3-test-helpers.js';
import { installLeakGuard } from '../helpers/leak-guard.js';
import { forEachStore } from '../helpers/test-stores.js';
import { startTestServer, type TestServer } from '../helpers/test-server.js';

/** Runaway stop for the unfixed platform: without a guard the loops below end here instead. */
const RUNAWAY = 30;

const APP = {
  'nimbus.yml': `app: rece
functions:
  topicloop:
    handler: index.topicloop
    timeout: 30
    maximumRetryAttempts: 0
    destinations: { onFailure: queue:topic-failed }
    events:
      - topic: loopt
  bucketloop:
    handler: index.bucketloop
    timeout: 30
    maximumRetryAttempts: 0
    destinations: { onFailure: queue:bucket-failed }
    events:
      - bucket: { bucket: rece-loopb, on: created }
  pub: { handler: index.pub, timeout: 30 }
  sub:
    handler: index.sub
    timeout: 30
    events:
      - topic: chaint
  qsub:
    handler: index.sub
    timeout: 30
    events:
      - queue: { queue: chainq, batchSize: 1 }
resources:
  queues:
    topic-failed: {}
    bucket-failed: {}
    chainq: { visibilityTimeout: 30 }
  topics:
    chaint:
      subscriptions:
        - { queue: chainq, rawMessageDelivery: true }
`,
  'index.mjs': `
import { buckets, topics } from 'nimbus/sdk';
export const topicloop = async (event) => {
  const n = Number(event.Records[0].Sns.Message);
  console.log('TOPIC ' + n);
  if (n < ${RUNAWAY}) await topics.publish('loopt', String(n + 1));
  return {};
};
export const bucketloop = async (event) => {
  const n = Number(event.Records[0].s3.object.key);
  console.log('OBJECT ' + n);
  if (n < ${RUNAWAY}) await buckets.put('rece-loopb', String(n + 1), 'x');
  return {};
};
export const pub = async () => topics.publish('chaint', 'hello');
export const sub = async () => {
  console.log('TRACE ' + process.env._X_AMZN_TRACE_ID);
  return {};
};
`,
};

async function logLines(t: TestServer, fn: string): Promise<string[]> {
  const res = await t.fetchV1(`/v1/functions/${fn}/logs?limit=10000`);
  const { lines } = (await res.json()) as { lines: Array<{ message: string }> };
  return lines.map((l) => l.message);
}

/** Numbers logged as `<label> n` by `fn`, sorted. */
async function rounds(t: TestServer, fn: string, label: string): Promise<number[]> {
  const re = new RegExp(`${label} (\\d+)`);
  return (await logLines(t, fn))
    .flatMap((l) => re.exec(l)?.[1] ?? [])
    .map(Number)
    .sort((x, y) => x - y);
}

/** Wait for the on-failure record in `queue`, or for the loop to reach RUNAWAY (the unfixed platform). */
async function awaitStop(
  t: TestServer,
  queue: string,
  fn: string,
  label: string,
): Promise<Array<{ body: string }>> {
  let failed: Array<{ body: string }> = [];
  const deadline = Date.now() + 90_000;
  while (failed.length === 0 && Date.now() < deadline) {
    const res = await t.fetchV1(`/v1/queues/${queue}/receive`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ maxMessages: 10, waitTimeSeconds: 1 }),
    });
    failed = ((await res.json()) as { messages: Array<{ body: string }> }).messages;
    if ((await rounds(t, fn, label)).includes(RUNAWAY)) break;
  }
  // Log lines are stored in batches (every 200 ms, log-sink.ts): the on-failure record can
  // arrive before the last runs' lines do, so wait for them before counting.
  const logged = Date.now() + 10_000;
  while ((await rounds(t, fn, label)).length < 16 && Date.now() < logged) {
    await new Promise((r) => setTimeout(r, 100));
  }
  return failed;
}

const sixteen = Array.from({ length: 16 }, (_, i) => i + 1);

installLeakGuard();
forEachStore((_name, open) => {
  let t: TestServer;
  before(async () => {
    t = await startTestServer({ store: await open() });
    await t.deployFiles(APP);
  });
  after(() => t.close());

  test('a function publishing to the topic that triggers it is dropped at its 17th run', async () => {
    const res = await t.fetchV1('/v1/topics/loopt/publish', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ message: '1' }),
    });
    assert.equal(res.status, 200, await res.text());
    const failed = await awaitStop(t, 'topic-failed', 'rece-topicloop', 'TOPIC');
    assert.deepEqual(await rounds(t, 'rece-topicloop', 'TOPIC'), sixteen, 'runs 1-16 ran, the 17th did not');
    assert.equal(failed.length, 1);
    const record = JSON.parse(failed[0]!.body) as {
      requestPayload: { Records: Array<{ Sns: { Message: string } }> };
      responsePayload: { errorType: string };
    };
    assert.equal(record.requestPayload.Records[0]!.Sns.Message, '17');
    assert.equal(record.responsePayload.errorType, 'RecursiveInvocationException');
  });

  test('a function writing to the bucket that triggers it is dropped at its 17th run', async () => {
    const res = await t.fetchV1('/v1/buckets/rece-loopb/objects/1', {
      method: 'PUT',
      headers: { 'content-type': 'text/plain' },
      body: 'x',
    });
    assert.equal(res.status, 200, await res.text());
    const failed = await awaitStop(t, 'bucket-failed', 'rece-bucketloop', 'OBJECT');
    assert.deepEqual(
      await rounds(t, 'rece-bucketloop', 'OBJECT'),
      sixteen,
      'runs 1-16 ran, the 17th did not',
    );
    assert.equal(failed.length, 1);
    const record = JSON.parse(failed[0]!.body) as {
      requestPayload: { Records: Array<{ s3: { object: { key: string } } }> };
      responsePayload: { errorType: string };
    };
    assert.equal(record.requestPayload.Records[0]!.s3.object.key, '17');
    assert.equal(record.responsePayload.errorType, 'RecursiveInvocationException');
  });

  test("the S3 API honours the AWS SDK's trace header: a write 16 runs deep stops the trigger", async () => {
    const saved = { name: process.env.AWS_LAMBDA_FUNCTION_NAME, trace: process.env._X_AMZN_TRACE_ID };
    // As inside rece-bucketloop's 16th run: the AWS SDK copies _X_AMZN_TRACE_ID into X-Amzn-Trace-Id.
    process.env.AWS_LAMBDA_FUNCTION_NAME = 'rece-bucketloop';
    process.env._X_AMZN_TRACE_ID = `Root=1-5759e988-bd862e3fe1be46a994272793;Sampled=0;Lineage=${lineageHash('rece-bucketloop')}:16`;
    const s3 = s3For(t);
    try {
      await s3.send(new PutObjectCommand({ Bucket: 'rece-loopb', Key: 'via-s3', Body: 'x' }));
    } finally {
      s3.destroy();
      for (const [key, value] of [
        ['AWS_LAMBDA_FUNCTION_NAME', saved.name],
        ['_X_AMZN_TRACE_ID', saved.trace],
      ] as const) {
        if (value === undefined) delete process.env[key];
        else process.env[key] = value;
      }
    }
    let keys: string[] = [];
    const deadline = Date.now() + 30_000;
    while (!keys.includes('via-s3') && Date.now() < deadline) {
      const res = await t.fetchV1('/v1/queues/bucket-failed/receive', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ maxMessages: 10, waitTimeSeconds: 1 }),
      });
      const { messages } = (await res.json()) as { messages: Array<{ body: string }> };
      keys = keys.concat(
        messages.map(
          (m) =>
            (
              JSON.parse(m.body) as {
                requestPayload: { Records: Array<{ s3: { object: { key: string } } }> };
              }
            ).requestPayload.Records[0]!.s3.object.key,
        ),
      );
    }
    assert.ok(keys.includes('via-s3'), 'the triggered 17th run went to the on-failure destination');
    assert.ok(
      !(await logLines(t, 'rece-bucketloop')).some((l) => l.includes('OBJECT NaN')),
      'the triggered run did not run',
    );
  });

  test("a chain A → topic → B (and → queue → C) runs, carrying A's lineage", async () => {
    const res = await t.client.invoke('rece-pub', { payload: '{}' });
    assert.equal(res.kind, 'sync');
    if (res.kind === 'sync') assert.equal(res.functionError, undefined, res.body);
    const traces = async (fn: string) =>
      (await logLines(t, fn)).flatMap((l) => /TRACE (\S+)/.exec(l)?.[1] ?? []);
    const deadline = Date.now() + 30_000;
    while (Date.now() < deadline) {
      if ((await traces('rece-sub')).length > 0 && (await traces('rece-qsub')).length > 0) break;
      await new Promise((r) => setTimeout(r, 200));
    }
    for (const fn of ['rece-sub', 'rece-qsub']) {
      const seen = await traces(fn);
      assert.equal(seen.length, 1, `${fn} ran once`);
      const lineage = /Lineage=([^;]+)/.exec(seen[0]!)?.[1]?.split('|') ?? [];
      assert.deepEqual(
        lineage.sort(),
        [`${lineageHash('rece-pub')}:1`, `${lineageHash(fn)}:1`].sort(),
        `${fn} continues rece-pub's chain, each function once`,
      );
    }
  });
});
