// Storage quotas seen by clients, per store, on a real server started with small quotas: the S3
// API answers QuotaExceeded (403) and the connection stays usable, the SQS API OverLimit (403),
// and /v1 answers 403 StorageQuotaExceeded for buckets, queues and tables, naming the fix.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CreateBucketCommand, GetObjectCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { SendMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { installLeakGuard } from '../helpers/leak-guard.js';
import { startTestServer, type TestServer } from '../helpers/test-server.js';
import { forEachStore } from '../helpers/test-stores.js';
import { errorOf, s3For } from '../api/s3-test-helpers.js';
import { SQSClient as Sqs } from '@aws-sdk/client-sqs';

installLeakGuard();

forEachStore((_name, open) => {
  test('each quota reached answers a stable, fix-naming 403 on every API', async () => {
    const t: TestServer = await startTestServer({
      store: await open(),
      prewarm: { nodejs: 0 },
      threadPrewarm: 0,
      quotas: { bucketBytes: 10, queueMessages: 2, tableItems: 1 },
    });
    const s3: S3Client = s3For(t);
    const sqs: SQSClient = new Sqs({
      endpoint: t.url,
      region: 'us-east-1',
      credentials: { accessKeyId: t.credentials.accessKeyId, secretAccessKey: t.credentials.secretAccessKey },
      maxAttempts: 1,
    });
    try {
      // S3: QuotaExceeded, nothing stored, and the keep-alive connection answers the next call.
      await s3.send(new CreateBucketCommand({ Bucket: 'full' }));
      await s3.send(new PutObjectCommand({ Bucket: 'full', Key: 'a', Body: '12345678' }));
      const err = await errorOf(s3.send(new PutObjectCommand({ Bucket: 'full', Key: 'b', Body: '12345' })));
      assert.equal(err.name, 'QuotaExceeded');
      assert.equal(err.$metadata.httpStatusCode, 403);
      assert.match(err.message, /bucketBytes quota/);
      const missing = await errorOf(s3.send(new GetObjectCommand({ Bucket: 'full', Key: 'b' })));
      assert.equal(missing.name, 'NoSuchKey');

      // /v1 buckets.
      const put = await t.fetchV1('/v1/buckets/full/objects/c', { method: 'PUT', body: '1234' });
      assert.equal(put.status, 403);
      const putBody = (await put.json()) as { code: string; message: string };
      assert.equal(putBody.code, 'StorageQuotaExceeded');
      assert.match(putBody.message, /nimbus start --quota bucketBytes=/);

      // SQS: OverLimit.
      const created = await t.fetchV1('/v1/queues', {
        method: 'POST',
        body: JSON.stringify({ name: 'jobs' }),
      });
      assert.equal(created.status, 201, await created.text());
      const url = `${t.url}/000000000000/jobs`;
      await sqs.send(new SendMessageCommand({ QueueUrl: url, MessageBody: '1' }));
      await sqs.send(new SendMessageCommand({ QueueUrl: url, MessageBody: '2' }));
      const over = await sqs.send(new SendMessageCommand({ QueueUrl: url, MessageBody: '3' })).then(
        () => assert.fail('a third message was accepted'),
        (e: Error & { $metadata?: { httpStatusCode?: number } }) => e,
      );
      assert.equal(over.name, 'OverLimit');
      assert.equal(over.$metadata?.httpStatusCode, 403);
      const sent = await t.fetchV1('/v1/queues/jobs/messages', {
        method: 'POST',
        body: JSON.stringify({ body: '3' }),
      });
      assert.equal(sent.status, 403);
      assert.equal(((await sent.json()) as { code: string }).code, 'StorageQuotaExceeded');

      // /v1 tables.
      const table = await t.fetchV1('/v1/tables', {
        method: 'POST',
        body: JSON.stringify({ name: 'things', partitionKey: 'id' }),
      });
      assert.equal(table.status, 201, await table.text());
      const one = await t.fetchV1('/v1/tables/things/items', {
        method: 'PUT',
        body: JSON.stringify({ item: { id: 'a' } }),
      });
      assert.equal(one.status, 200);
      const two = await t.fetchV1('/v1/tables/things/items', {
        method: 'PUT',
        body: JSON.stringify({ item: { id: 'b' } }),
      });
      assert.equal(two.status, 403);
      assert.match(((await two.json()) as { message: string }).message, /tableItems quota/);
    } finally {
      s3.destroy();
      sqs.destroy();
      await t.close();
    }
  });
});
