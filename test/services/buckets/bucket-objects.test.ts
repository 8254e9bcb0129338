// Bucket service on every store: buckets, put/get/head/delete, metadata, ranges, copy, listing.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { installLeakGuard } from '../../helpers/leak-guard.js';
import { forEachStore } from '../../helpers/test-stores.js';
import { body, bucketService, readAll } from './bucket-test-context.js';

installLeakGuard();

const md5hex = (s: string) => createHash('md5').update(s).digest('hex');

forEachStore((_name, open) => {
  test('buckets: create is idempotent, names are checked, a non-empty bucket cannot be deleted', async () => {
    const t = bucketService(await open());
    try {
      const a = await t.buckets.createBucket('images');
      const b = await t.buckets.createBucket('images');
      assert.equal(a.createdAt, b.createdAt);
      await t.buckets.createBucket('docs');
      assert.deepEqual(
        (await t.buckets.listBuckets()).map((x) => x.name),
        ['docs', 'images'],
      );
      await assert.rejects(t.buckets.createBucket('Bad_Name'), { code: 'InvalidBucketName' });
      await t.buckets.putObject('images', 'a.jpg', body('x'));
      await assert.rejects(t.buckets.deleteBucket('images'), (err: Error & { code: string }) => {
        assert.equal(err.code, 'BucketNotEmpty');
        assert.match(err.message, /--force/);
        return true;
      });
      await t.buckets.deleteObject('images', 'a.jpg');
      assert.equal(await t.buckets.deleteBucket('images'), true);
      assert.equal(await t.buckets.deleteBucket('images'), false);
      assert.equal(await t.buckets.getBucket('images'), undefined);
    } finally {
      await t.close();
    }
  });

  test('put/get/head/delete round-trip bytes, ETag, content type and user metadata', async () => {
    const t = bucketService(await open());
    try {
      await t.buckets.createBucket('docs');
      const key = 'dir/../we ird/ключ ☃.txt';
      const info = await t.buckets.putObject('docs', key, body('hello world'), {
        contentType: 'text/plain',
        cacheControl: 'max-age=60',
        metadata: { Owner: 'ada', 'x-y': 'z' },
        contentLength: 11,
        contentMd5: createHash('md5').update('hello world').digest('base64'),
      });
      assert.equal(info.etag, `"${md5hex('hello world')}"`);
      assert.equal(info.size, 11);
      const head = await t.buckets.headObject('docs', key);
      assert.deepEqual(head?.metadata, { owner: 'ada', 'x-y': 'z' });
      assert.equal(head?.contentType, 'text/plain');
      assert.equal(head?.cacheControl, 'max-age=60');
      const got = await t.buckets.getObject('docs', key);
      assert.equal((await readAll(got.body)).toString(), 'hello world');
      assert.equal(got.info.etag, info.etag);
      // Replace: new bytes, default content type, the old file is gone.
      await t.buckets.putObject('docs', key, body('v2'));
      const v2 = await t.buckets.getObject('docs', key);
      assert.equal((await readAll(v2.body)).toString(), 'v2');
      assert.equal(v2.info.contentType, 'application/octet-stream');
      assert.deepEqual(v2.info.metadata, {});
      await t.buckets.deleteObject('docs', key);
      await t.buckets.deleteObject('docs', key); // idempotent
      assert.equal(await t.buckets.headObject('docs', key), undefined);
      await assert.rejects(t.buckets.getObject('docs', key), { code: 'ResourceNotFoundException' });
      await assert.rejects(t.buckets.getObject('nope', key), /Bucket 'nope' does not exist/);
      await assert.rejects(t.buckets.putObject('nope', 'k', body('x')), {
        code: 'ResourceNotFoundException',
      });
      await assert.rejects(t.buckets.putObject('docs', 'x'.repeat(1025), body('x')), {
        code: 'KeyTooLongError',
      });
      // An empty object is an object.
      const empty = await t.buckets.putObject('docs', 'empty', body(''), { contentLength: 0 });
      assert.equal(empty.etag, `"${md5hex('')}"`);
      assert.equal((await readAll((await t.buckets.getObject('docs', 'empty')).body)).length, 0);
      await assert.rejects(t.buckets.getObject('docs', 'empty', { range: { start: 0 } }), {
        code: 'InvalidRange',
      });
      assert.deepEqual(await t.buckets.files.tempFiles(), []);
    } finally {
      await t.close();
    }
  });

  test('a wrong Content-MD5 or length stores nothing', async () => {
    const t = bucketService(await open());
    try {
      await t.buckets.createBucket('docs');
      await assert.rejects(
        t.buckets.putObject('docs', 'k', body('abc'), {
          contentMd5: createHash('md5').update('x').digest('base64'),
        }),
        { code: 'BadDigest' },
      );
      await assert.rejects(t.buckets.putObject('docs', 'k', body('abc'), { contentLength: 5 }), {
        code: 'IncompleteBody',
      });
      await assert.rejects(t.buckets.putObject('docs', 'k', body('abcdef'), { contentLength: 5 }), {
        code: 'IncompleteBody',
      });
      assert.equal(await t.buckets.headObject('docs', 'k'), undefined);
      assert.deepEqual(await t.buckets.files.tempFiles(), []);
    } finally {
      await t.close();
    }
  });

  test('ranges: first bytes, last bytes, suffix, open-ended, unsatisfiable', async () => {
    const t = bucketService(await open());
    try {
      await t.buckets.createBucket('docs');
      await t.buckets.putObject('docs', 'r', body('0123456789'));
      const read = async (range: { start?: number; end?: number; suffixLength?: number }) => {
        const r = await t.buckets.getObject('docs', 'r', { range });
        return [(await readAll(r.body)).toString(), r.range];
      };
      assert.deepEqual(await read({ start: 0, end: 3 }), ['0123', { start: 0, end: 3 }]);
      assert.deepEqual(await read({ start: 7 }), ['789', { start: 7, end: 9 }]);
      assert.deepEqual(await read({ start: 8, end: 100 }), ['89', { start: 8, end: 9 }]);
      assert.deepEqual(await read({ suffixLength: 4 }), ['6789', { start: 6, end: 9 }]);
      assert.deepEqual(await read({ suffixLength: 40 }), ['0123456789', { start: 0, end: 9 }]);
      await assert.rejects(
        t.buckets.getObject('docs', 'r', { range: { start: 10 } }),
        (err: Error & { code: string; status: number; headers: Record<string, string> }) => {
          assert.equal(err.code, 'InvalidRange');
          assert.equal(err.status, 416);
          assert.equal(err.headers['content-range'], 'bytes */10');
          return true;
        },
      );
      await assert.rejects(t.buckets.getObject('docs', 'r', { range: { suffixLength: 0 } }), {
        code: 'InvalidRange',
      });
    } finally {
      await t.close();
    }
  });

  test('copy keeps or replaces metadata', async () => {
    const t = bucketService(await open());
    try {
      await t.buckets.createBucket('a-src');
      await t.buckets.createBucket('b-dst');
      const src = await t.buckets.putObject('a-src', 'k', body('copy me'), {
        contentType: 'text/plain',
        metadata: { a: '1' },
      });
      const kept = await t.buckets.copyObject({ bucket: 'a-src', key: 'k' }, { bucket: 'b-dst', key: 'k2' });
      assert.equal(kept.etag, src.etag);
      assert.deepEqual(kept.metadata, { a: '1' });
      assert.equal(kept.contentType, 'text/plain');
      const replaced = await t.buckets.copyObject(
        { bucket: 'a-src', key: 'k' },
        { bucket: 'a-src', key: 'k' },
        { contentType: 'application/json', metadata: { b: '2' } },
      );
      assert.deepEqual(replaced.metadata, { b: '2' });
      assert.equal((await readAll((await t.buckets.getObject('b-dst', 'k2')).body)).toString(), 'copy me');
      assert.equal((await readAll((await t.buckets.getObject('a-src', 'k')).body)).toString(), 'copy me');
      assert.equal((await t.buckets.headObject('a-src', 'k'))?.contentType, 'application/json');
      await assert.rejects(
        t.buckets.copyObject({ bucket: 'a-src', key: 'nope' }, { bucket: 'b-dst', key: 'x' }),
        {
          code: 'ResourceNotFoundException',
        },
      );
    } finally {
      await t.close();
    }
  });
});

forEachStore((_name, open) => {
  test('concurrent puts of one key leave one file; reads during replaces always see a whole version', async () => {
    const t = bucketService(await open());
    try {
      await t.buckets.createBucket('race');
      const versions = Array.from({ length: 10 }, (_, i) => `version ${i} `.repeat(2000));
      await Promise.all(versions.map((v) => t.buckets.putObject('race', 'k', body(v))));
      const dataFiles = () =>
        readdirSync(join(t.dataDir, 'objects', 'data'), { recursive: true, withFileTypes: true }).filter(
          (e) => e.isFile(),
        ).length;
      assert.equal(dataFiles(), 1);
      const reads: Array<Promise<string>> = [];
      const writes: Array<Promise<unknown>> = [];
      for (const v of versions) {
        writes.push(t.buckets.putObject('race', 'k', body(v)));
        reads.push(
          t.buckets.getObject('race', 'k').then(async (got) => (await readAll(got.body)).toString()),
        );
      }
      await Promise.all(writes);
      for (const text of await Promise.all(reads))
        assert.ok(versions.includes(text), 'a read saw a torn object');
      assert.equal(dataFiles(), 1);
    } finally {
      await t.close();
    }
  });
});

forEachStore((_name, open) => {
  test('names that cannot exist answer not-found or 400, never a store error', async () => {
    const t = bucketService(await open());
    try {
      await t.buckets.createBucket('ok-bucket');
      assert.equal(await t.buckets.getBucket('bad\u0000name'), undefined);
      assert.equal(await t.buckets.deleteBucket('bad\u0000name'), false);
      await assert.rejects(t.buckets.headObject('bad\u0000name', 'k'), { code: 'ResourceNotFoundException' });
      await assert.rejects(t.buckets.getObject('ok-bucket', 'a\u0000b'), {
        code: 'InvalidParameterValueException',
      });
      await assert.rejects(t.buckets.deleteObject('ok-bucket', 'a\u0000b'), {
        code: 'InvalidParameterValueException',
      });
      await assert.rejects(t.buckets.headObject('ok-bucket', 'x'.repeat(2000)), { code: 'KeyTooLongError' });
      await assert.rejects(t.buckets.listObjects('ok-bucket', { prefix: 'a\u0000' }), {
        code: 'InvalidParameterValueException',
      });
      await assert.rejects(t.buckets.listParts('ok-bucket', 'k', 'no\u0000such'), { code: 'NoSuchUpload' });
      await assert.rejects(t.buckets.listObjects('NOPE'), { code: 'ResourceNotFoundException' });
    } finally {
      await t.close();
    }
  });
});
