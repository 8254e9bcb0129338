// Multipart uploads on every store: parts, replace a part, complete (bytes and ETag), part-size
// and order checks, abort removes the part files.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { installLeakGuard } from '../../helpers/leak-guard.js';
import { forEachStore } from '../../helpers/test-stores.js';
import { body, bucketService, readAll } from './bucket-test-context.js';

installLeakGuard();

const MiB = 1024 * 1024;

function filesUnder(dir: string): string[] {
  try {
    return readdirSync(dir, { recursive: true, withFileTypes: true })
      .filter((e) => e.isFile())
      .map((e) => join(e.parentPath, e.name));
  } catch {
    return [];
  }
}

forEachStore((_name, open) => {
  test('upload parts, replace one, complete: the bytes are the parts in order and the ETag is S3s', async () => {
    const t = bucketService(await open());
    try {
      await t.buckets.createBucket('big');
      const up = await t.buckets.createMultipartUpload('big', 'video.bin', {
        contentType: 'video/mp4',
        metadata: { camera: 'a' },
      });
      assert.deepEqual(await t.buckets.listMultipartUploads('big'), [up]);
      const p1 = Buffer.alloc(5 * MiB, 'a');
      const p2 = Buffer.alloc(5 * MiB, 'b');
      const p3 = Buffer.from('tail');
      await t.buckets.uploadPart('big', 'video.bin', up.uploadId, 1, body('wrong'));
      const parts = [
        await t.buckets.uploadPart('big', 'video.bin', up.uploadId, 1, body(p1), {
          contentLength: p1.length,
        }),
        await t.buckets.uploadPart('big', 'video.bin', up.uploadId, 2, body(p2)),
        await t.buckets.uploadPart('big', 'video.bin', up.uploadId, 3, body(p3)),
      ];
      assert.deepEqual(
        (await t.buckets.listParts('big', 'video.bin', up.uploadId)).map((p) => [p.partNumber, p.size]),
        [
          [1, p1.length],
          [2, p2.length],
          [3, 4],
        ],
      );
      // Part files only: the replaced part 1 is gone.
      assert.equal(filesUnder(join(t.dataDir, 'objects', 'data')).length, 3);
      await assert.rejects(
        t.buckets.completeMultipartUpload('big', 'video.bin', up.uploadId, [
          { partNumber: 2, etag: parts[1]!.etag },
          { partNumber: 1, etag: parts[0]!.etag },
        ]),
        { code: 'InvalidPartOrder' },
      );
      await assert.rejects(
        t.buckets.completeMultipartUpload('big', 'video.bin', up.uploadId, [
          { partNumber: 1, etag: '"beef"' },
        ]),
        { code: 'InvalidPart' },
      );
      await assert.rejects(
        t.buckets.completeMultipartUpload('big', 'video.bin', up.uploadId, [
          { partNumber: 3, etag: parts[2]!.etag },
          { partNumber: 4, etag: parts[2]!.etag },
        ]),
        { code: 'InvalidPart' },
      );
      const info = await t.buckets.completeMultipartUpload(
        'big',
        'video.bin',
        up.uploadId,
        parts.map((p) => ({ partNumber: p.partNumber, etag: p.etag.replace(/"/g, '') })),
      );
      const md5s = Buffer.concat([p1, p2, p3].map((p) => createHash('md5').update(p).digest()));
      assert.equal(info.etag, `"${createHash('md5').update(md5s).digest('hex')}-3"`);
      assert.equal(info.size, p1.length + p2.length + 4);
      assert.equal(info.contentType, 'video/mp4');
      assert.deepEqual(info.metadata, { camera: 'a' });
      const got = await readAll((await t.buckets.getObject('big', 'video.bin')).body);
      assert.ok(got.equals(Buffer.concat([p1, p2, p3])));
      // Only the object's file remains; the upload is gone.
      assert.equal(filesUnder(join(t.dataDir, 'objects', 'data')).length, 1);
      assert.deepEqual(await t.buckets.listMultipartUploads('big'), []);
      await assert.rejects(t.buckets.listParts('big', 'video.bin', up.uploadId), { code: 'NoSuchUpload' });
      await assert.rejects(t.buckets.uploadPart('big', 'video.bin', up.uploadId, 1, body('late')), {
        code: 'NoSuchUpload',
      });
    } finally {
      await t.close();
    }
  });

  test('parts below the minimum size except the last fail with EntityTooSmall; part numbers are checked', async () => {
    const t = bucketService(await open());
    try {
      await t.buckets.createBucket('big');
      const up = await t.buckets.createMultipartUpload('big', 'k');
      const a = await t.buckets.uploadPart('big', 'k', up.uploadId, 1, body('small'));
      const b = await t.buckets.uploadPart('big', 'k', up.uploadId, 2, body('last'));
      await assert.rejects(
        t.buckets.completeMultipartUpload('big', 'k', up.uploadId, [
          { partNumber: 1, etag: a.etag },
          { partNumber: 2, etag: b.etag },
        ]),
        { code: 'EntityTooSmall' },
      );
      await assert.rejects(t.buckets.uploadPart('big', 'k', up.uploadId, 0, body('x')), {
        code: 'InvalidParameterValueException',
      });
      await assert.rejects(t.buckets.uploadPart('big', 'k', up.uploadId, 10_001, body('x')), {
        code: 'InvalidParameterValueException',
      });
      await assert.rejects(t.buckets.uploadPart('big', 'other-key', up.uploadId, 1, body('x')), {
        code: 'NoSuchUpload',
      });
      // A single small part is fine: the last part has no minimum.
      const one = await t.buckets.completeMultipartUpload('big', 'k', up.uploadId, [
        { partNumber: 2, etag: b.etag },
      ]);
      assert.match(one.etag, /^"[0-9a-f]{32}-1"$/);
      assert.equal((await readAll((await t.buckets.getObject('big', 'k')).body)).toString(), 'last');
    } finally {
      await t.close();
    }
  });

  test('abort removes the upload and its part files', async () => {
    const t = bucketService(await open());
    try {
      await t.buckets.createBucket('big');
      const up = await t.buckets.createMultipartUpload('big', 'k');
      await t.buckets.uploadPart('big', 'k', up.uploadId, 1, body('one'));
      await t.buckets.uploadPart('big', 'k', up.uploadId, 2, body('two'));
      assert.equal(filesUnder(join(t.dataDir, 'objects', 'data')).length, 2);
      await t.buckets.abortMultipartUpload('big', 'k', up.uploadId);
      assert.deepEqual(filesUnder(join(t.dataDir, 'objects', 'data')), []);
      await assert.rejects(t.buckets.abortMultipartUpload('big', 'k', up.uploadId), { code: 'NoSuchUpload' });
      assert.equal(await t.buckets.headObject('big', 'k'), undefined);
      // Deleting a bucket drops uploads in progress with their parts.
      const up2 = await t.buckets.createMultipartUpload('big', 'k2');
      await t.buckets.uploadPart('big', 'k2', up2.uploadId, 1, body('x'));
      assert.equal(await t.buckets.deleteBucket('big'), true);
      assert.deepEqual(filesUnder(join(t.dataDir, 'objects', 'data')), []);
    } finally {
      await t.close();
    }
  });
});
