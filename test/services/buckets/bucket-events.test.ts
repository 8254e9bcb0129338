// Bucket events on every store: trigger parsing and validation, prefix/suffix/event filters,
// the S3 record shape, and the outbox (a notification committed with its object survives a
// restart before delivery: at least once).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { installLeakGuard } from '../../helpers/leak-guard.js';
import { forEachStore } from '../../helpers/test-stores.js';
import type { AppEventSpec } from '../../../src/deploy/app-deploy-hook.js';
import { encodeEventKey, parseBucketTriggers } from '../../../src/events/buckets/bucket-triggers.js';
import { body, bucketService } from './bucket-test-context.js';

installLeakGuard();

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function spec(
  functions: Array<{ name: string; events: unknown[] }>,
  buckets: Record<string, Record<string, unknown>> = {},
): AppEventSpec {
  return {
    app: 'photos',
    resources: { buckets, queues: {}, tables: {}, topics: {} },
    functions: functions.map((f) => ({ ...f, fullName: `photos-${f.name}` })),
    prune: true,
  };
}

interface S3Record {
  eventVersion: string;
  eventSource: string;
  awsRegion: string;
  eventTime: string;
  eventName: string;
  s3: {
    s3SchemaVersion: string;
    configurationId: string;
    bucket: { name: string; arn: string; ownerIdentity: { principalId: string } };
    object: { key: string; size?: number; eTag?: string; sequencer: string };
  };
}

test('trigger forms: bucket shorthand, on/prefix/suffix, Serverless s3 with rules; bad entries name the fix', () => {
  const triggers = parseBucketTriggers(
    spec([
      {
        name: 'a',
        events: [
          { bucket: 'images' },
          { bucket: { bucket: 'images', on: 'removed', prefix: 'tmp/' } },
          {
            s3: {
              bucket: 'docs',
              event: 's3:ObjectCreated:Put',
              rules: [{ prefix: 'in/' }, { suffix: '.pdf' }],
            },
          },
          { http: 'GET /x' },
          { s3: 'arn:aws:s3:::logs' },
        ],
      },
    ]),
  );
  assert.deepEqual(
    triggers.map((t) => [t.position, t.bucket, t.events, t.prefix, t.suffix]),
    [
      [0, 'images', ['s3:ObjectCreated:*'], '', ''],
      [1, 'images', ['s3:ObjectRemoved:*'], 'tmp/', ''],
      [2, 'docs', ['s3:ObjectCreated:Put'], 'in/', '.pdf'],
      [4, 'logs', ['s3:ObjectCreated:*'], '', ''],
    ],
  );
  assert.throws(
    () =>
      parseBucketTriggers(spec([{ name: 'a', events: [{ bucket: { bucket: 'images', on: 'updated' } }] }])),
    {
      message: /functions\.a\.events\[0\]\.bucket\.on: 'updated' is not a bucket event/,
    },
  );
  assert.throws(
    () =>
      parseBucketTriggers(spec([{ name: 'a', events: [{ http: 'x' }, { s3: { bucket: 'Bad_Bucket' } }] }])),
    {
      message: /functions\.a\.events\[1\]\.s3: 'Bad_Bucket' is not a valid bucket name/,
    },
  );
  assert.throws(() => parseBucketTriggers(spec([{ name: 'a', events: [{ bucket: { on: 'created' } }] }])), {
    message: /needs a bucket name/,
  });
  assert.equal(encodeEventKey('uploads/my photo+1.jpg'), 'uploads/my+photo%2B1.jpg');
});

forEachStore((_name, open) => {
  test('deploy creates buckets and triggers; puts, copies, completes and deletes fire matching functions with S3 records', async () => {
    const store = await open();
    const t = bucketService(store, { eventPollMs: 50, minPartSize: 1, start: true });
    try {
      const s = spec(
        [
          {
            name: 'thumbs',
            events: [{ bucket: { bucket: 'images', on: 'created', prefix: 'uploads/', suffix: '.jpg' } }],
          },
          { name: 'audit', events: [{ s3: { bucket: 'images', event: 's3:ObjectRemoved:*' } }] },
          { name: 'all', events: [{ bucket: 'images' }] },
        ],
        { archive: {} },
      );
      await t.deployHook.validate(s);
      await t.deployHook.apply(s);
      assert.deepEqual(
        (await t.buckets.listBuckets()).map((b) => b.name),
        ['archive', 'images'],
      );
      const put = await t.buckets.putObject('images', 'uploads/cat photo.jpg', body('meow'));
      await t.buckets.putObject('images', 'uploads/notes.txt', body('x'));
      await t.buckets.putObject('images', 'other/dog.jpg', body('x'));
      await t.buckets.copyObject(
        { bucket: 'images', key: 'uploads/cat photo.jpg' },
        { bucket: 'images', key: 'uploads/copy.jpg' },
      );
      const up = await t.buckets.createMultipartUpload('images', 'uploads/multi.jpg');
      const part = await t.buckets.uploadPart('images', 'uploads/multi.jpg', up.uploadId, 1, body('mp'));
      await t.buckets.completeMultipartUpload('images', 'uploads/multi.jpg', up.uploadId, [
        { partNumber: 1, etag: part.etag },
      ]);
      await t.buckets.deleteObject('images', 'uploads/notes.txt');
      await t.buckets.deleteObject('images', 'never-existed'); // nothing deleted: no event
      await t.buckets.putObject('archive', 'a.jpg', body('x')); // no triggers on archive

      for (let i = 0; i < 200 && t.enqueued.length < 9; i++) await sleep(20);
      await sleep(100);
      const seen = t.enqueued.map((e) => {
        const r = (e.payload as { Records: S3Record[] }).Records[0]!;
        return `${e.functionName} ${r.eventName} ${r.s3.object.key}`;
      });
      assert.deepEqual(seen.sort(), [
        'photos-all ObjectCreated:CompleteMultipartUpload uploads/multi.jpg',
        'photos-all ObjectCreated:Copy uploads/copy.jpg',
        'photos-all ObjectCreated:Put other/dog.jpg',
        'photos-all ObjectCreated:Put uploads/cat+photo.jpg',
        'photos-all ObjectCreated:Put uploads/notes.txt',
        'photos-audit ObjectRemoved:Delete uploads/notes.txt',
        'photos-thumbs ObjectCreated:CompleteMultipartUpload uploads/multi.jpg',
        'photos-thumbs ObjectCreated:Copy uploads/copy.jpg',
        'photos-thumbs ObjectCreated:Put uploads/cat+photo.jpg',
      ]);
      const first = t.enqueued.find((e) => e.functionName === 'photos-thumbs')!;
      assert.match(first.idempotencyKey!, /^bucket-event:/);
      const rec = (first.payload as { Records: S3Record[] }).Records[0]!;
      assert.equal(rec.eventVersion, '2.1');
      assert.equal(rec.eventSource, 'aws:s3');
      assert.equal(rec.awsRegion, 'us-east-1');
      assert.ok(!Number.isNaN(Date.parse(rec.eventTime)));
      assert.equal(rec.s3.s3SchemaVersion, '1.0');
      assert.equal(rec.s3.configurationId, 'photos-thumbs-0');
      assert.deepEqual(rec.s3.bucket, {
        name: 'images',
        ownerIdentity: { principalId: '000000000000' },
        arn: 'arn:aws:s3:::images',
      });
      assert.equal(rec.s3.object.size, 4);
      assert.equal(rec.s3.object.eTag, put.etag.replace(/"/g, ''));
      assert.match(rec.s3.object.sequencer, /^[0-9A-F]{16}$/);
      const removed = t.enqueued.find((e) => e.functionName === 'photos-audit')!;
      const rr = (removed.payload as { Records: S3Record[] }).Records[0]!;
      assert.equal(rr.s3.object.size, undefined);
      assert.equal(rr.s3.object.eTag, undefined);
      assert.equal(await t.deployHook.apply(spec([{ name: 'thumbs', events: [] }])), undefined);
      // Redeploy without triggers: no more events.
      const before = t.enqueued.length;
      await t.buckets.putObject('images', 'uploads/late.jpg', body('x'));
      await sleep(200);
      assert.equal(t.enqueued.length, before);
      assert.equal(await store.objects.countNotifications(), 0);
    } finally {
      await t.close();
    }
  });

  test('a notification committed with its object is delivered after a restart (outbox)', async () => {
    const store = await open();
    // Not started: the change commits with its notification, but nothing drains it ("crash").
    const a = bucketService(store);
    await a.deployHook.apply(spec([{ name: 'fn', events: [{ bucket: 'images' }] }]));
    await a.buckets.putObject('images', 'k.jpg', body('x'));
    assert.equal(await store.objects.countNotifications(), 1);
    assert.equal(a.enqueued.length, 0);
    await a.close();
    const b = bucketService(store, { start: true, eventPollMs: 50 });
    try {
      for (let i = 0; i < 200 && b.enqueued.length === 0; i++) await sleep(20);
      assert.equal(b.enqueued.length, 1);
      assert.equal(b.enqueued[0]!.functionName, 'photos-fn');
      for (let i = 0; i < 100 && (await store.objects.countNotifications()) > 0; i++) await sleep(20);
      assert.equal(await store.objects.countNotifications(), 0);
    } finally {
      await b.close();
    }
  });

  test('removeFunction and removeApp drop triggers; a partial deploy keeps other functions triggers', async () => {
    const t = bucketService(await open());
    try {
      await t.deployHook.apply(
        spec([
          { name: 'a', events: [{ bucket: 'images' }] },
          { name: 'b', events: [{ bucket: 'docs' }] },
        ]),
      );
      await t.deployHook.apply({
        ...spec([{ name: 'a', events: [{ bucket: 'other' }] }]),
        prune: false,
      });
      const names = async () => (await t.buckets.listTriggers()).map((x) => `${x.functionName}:${x.bucket}`);
      assert.deepEqual(await names(), ['photos-a:other', 'photos-b:docs']);
      await t.deployHook.removeFunction!('photos', 'photos-b');
      assert.deepEqual(await names(), ['photos-a:other']);
      await t.deployHook.removeApp('photos');
      assert.deepEqual(await names(), []);
    } finally {
      await t.close();
    }
  });
});
