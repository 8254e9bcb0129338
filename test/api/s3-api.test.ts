// End to end over a real socket: the official @aws-sdk/client-s3 (default settings plus endpoint and
// forcePathStyle) and lib-storage against a Nimbus server on every store.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';

import {
  CopyObjectCommand,
  CreateBucketCommand,
  DeleteBucketCommand,
  DeleteObjectCommand,
  DeleteObjectsCommand,
  GetBucketLocationCommand,
  GetObjectCommand,
  HeadBucketCommand,
  HeadObjectCommand,
  ListBucketsCommand,
  ListObjectsCommand,
  ListObjectsV2Command,
  ListPartsCommand,
  CreateMultipartUploadCommand,
  AbortMultipartUploadCommand,
  ListMultipartUploadsCommand,
  PutObjectCommand,
  PutBucketAclCommand,
} from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { uploadStats } from '../../src/api/s3/s3-body.js';
import { checksumOf } from '../../src/api/s3/s3-checksums.js';
import { installLeakGuard } from '../helpers/leak-guard.js';
import { forEachStore } from '../helpers/test-stores.js';

import { errorOf, s3Server, s3For } from './s3-test-helpers.js';

installLeakGuard();

forEachStore((name, open) => {
  const f = s3Server(open);

  test(`${name}: create, list, head, locate and delete buckets`, async () => {
    await f.s3.send(new CreateBucketCommand({ Bucket: 'life' }));
    await f.s3.send(new CreateBucketCommand({ Bucket: 'life' })); // idempotent for the owner
    const list = await f.s3.send(new ListBucketsCommand({}));
    assert.ok(list.Buckets?.some((b) => b.Name === 'life' && b.CreationDate instanceof Date));
    await f.s3.send(new HeadBucketCommand({ Bucket: 'life' }));
    const loc = await f.s3.send(new GetBucketLocationCommand({ Bucket: 'life' }));
    assert.equal(loc.LocationConstraint ?? '', '');
    await f.s3.send(new PutObjectCommand({ Bucket: 'life', Key: 'k', Body: 'x' }));
    const notEmpty = await errorOf(f.s3.send(new DeleteBucketCommand({ Bucket: 'life' })));
    assert.equal(notEmpty.name, 'BucketNotEmpty');
    assert.equal(notEmpty.$metadata.httpStatusCode, 409);
    await f.s3.send(new DeleteObjectCommand({ Bucket: 'life', Key: 'k' }));
    await f.s3.send(new DeleteBucketCommand({ Bucket: 'life' }));
    const gone = await errorOf(f.s3.send(new HeadBucketCommand({ Bucket: 'life' })));
    assert.equal(gone.$metadata.httpStatusCode, 404);
    const noBucket = await errorOf(f.s3.send(new GetObjectCommand({ Bucket: 'life', Key: 'k' })));
    assert.equal(noBucket.name, 'NoSuchBucket');
    const unsupported = await errorOf(f.s3.send(new PutBucketAclCommand({ Bucket: 'life', ACL: 'private' })));
    assert.equal(unsupported.name, 'NotImplemented');
    assert.match(unsupported.message, /Supported: ListBuckets/);
  });

  test(`${name}: PutObject from a string, a Buffer and a stream (aws-chunked + CRC32 trailer); GetObject round trip`, async () => {
    await f.s3.send(new CreateBucketCommand({ Bucket: 'objs' }));
    const put = await f.s3.send(
      new PutObjectCommand({
        Bucket: 'objs',
        Key: 'dir/hello.txt',
        Body: 'hello world',
        ContentType: 'text/plain',
        Metadata: { owner: 'ada', Purpose: 'test' },
        CacheControl: 'max-age=60',
        ContentDisposition: 'attachment; filename="h.txt"',
      }),
    );
    assert.equal(put.ETag, `"${createHash('md5').update('hello world').digest('hex')}"`);
    assert.equal(put.ChecksumCRC32, checksumOf('crc32', Buffer.from('hello world')));
    const got = await f.s3.send(new GetObjectCommand({ Bucket: 'objs', Key: 'dir/hello.txt' }));
    assert.equal(await got.Body?.transformToString(), 'hello world');
    assert.equal(got.ContentType, 'text/plain');
    assert.equal(got.ContentLength, 11);
    assert.equal(got.CacheControl, 'max-age=60');
    assert.equal(got.ContentDisposition, 'attachment; filename="h.txt"');
    assert.deepEqual(got.Metadata, { owner: 'ada', purpose: 'test' });
    assert.equal(got.ETag, put.ETag);
    assert.ok(got.LastModified instanceof Date);

    const badMd5 = await errorOf(
      f.s3.send(
        new PutObjectCommand({
          Bucket: 'objs',
          Key: 'md5',
          Body: 'abc',
          ContentMD5: createHash('md5').update('abd').digest('base64'),
        }),
      ),
    );
    assert.equal(badMd5.name, 'BadDigest');
    const badCrc = await errorOf(
      f.s3.send(
        new PutObjectCommand({
          Bucket: 'objs',
          Key: 'crc',
          Body: Buffer.from('abc'),
          ChecksumCRC32: 'AAAAAA==',
        }),
      ),
    );
    assert.equal(badCrc.name, 'BadDigest');
    const stored = await f.s3.send(new ListObjectsV2Command({ Bucket: 'objs', Prefix: 'md5' }));
    assert.equal(stored.KeyCount, 0, 'a body that failed its digest is not stored');
    assert.equal(
      await errorOf(f.s3.send(new HeadObjectCommand({ Bucket: 'objs', Key: 'crc' }))).then(
        (e) => e.$metadata.httpStatusCode,
      ),
      404,
    );

    const bytes = Buffer.from(Buffer.alloc(200_000).map((_, i) => (i * 7) & 0xff));
    await f.s3.send(new PutObjectCommand({ Bucket: 'objs', Key: 'buf.bin', Body: bytes }));
    const gotBuf = await f.s3.send(new GetObjectCommand({ Bucket: 'objs', Key: 'buf.bin' }));
    assert.deepEqual(Buffer.from(await gotBuf.Body!.transformToByteArray()), bytes);

    const chunkedBefore = uploadStats.chunked;
    const streamed = Buffer.from(Buffer.alloc(300_000).map((_, i) => (i * 13) & 0xff));
    const pieces = [
      streamed.subarray(0, 100_000),
      streamed.subarray(100_000, 250_000),
      streamed.subarray(250_000),
    ];
    const putStream = await f.s3.send(
      new PutObjectCommand({
        Bucket: 'objs',
        Key: 'stream.bin',
        Body: Readable.from(pieces),
        ContentLength: streamed.length,
      }),
    );
    assert.equal(uploadStats.chunked, chunkedBefore + 1, 'the SDK sent the stream aws-chunked');
    assert.equal(putStream.ChecksumCRC32, checksumOf('crc32', streamed));
    const gotStream = await f.s3.send(new GetObjectCommand({ Bucket: 'objs', Key: 'stream.bin' }));
    assert.deepEqual(Buffer.from(await gotStream.Body!.transformToByteArray()), streamed);
    assert.equal(gotStream.ContentEncoding, undefined, 'aws-chunked is not stored as a content encoding');

    // Every flexible checksum the SDK offers, as an aws-chunked trailer (stream) and as a header (string).
    for (const alg of ['CRC32C', 'CRC64NVME', 'SHA1', 'SHA256'] as const) {
      const data = Buffer.from(`checksummed with ${alg}`);
      const viaTrailer = await f.s3.send(
        new PutObjectCommand({
          Bucket: 'objs',
          Key: `sum/${alg}`,
          Body: Readable.from([data]),
          ContentLength: data.length,
          ChecksumAlgorithm: alg,
        }),
      );
      const viaHeader = await f.s3.send(
        new PutObjectCommand({
          Bucket: 'objs',
          Key: `sum/${alg}`,
          Body: data.toString(),
          ChecksumAlgorithm: alg,
        }),
      );
      const want = checksumOf(alg.toLowerCase() as 'crc32c' | 'crc64nvme' | 'sha1' | 'sha256', data);
      assert.equal(viaTrailer[`Checksum${alg}`], want, alg);
      assert.equal(viaHeader[`Checksum${alg}`], want, alg);
    }

    const head = await f.s3.send(new HeadObjectCommand({ Bucket: 'objs', Key: 'stream.bin' }));
    assert.equal(head.ContentLength, streamed.length);
    assert.equal(head.ContentType, 'application/octet-stream');
    const missing = await errorOf(f.s3.send(new GetObjectCommand({ Bucket: 'objs', Key: 'nope' })));
    assert.equal(missing.name, 'NoSuchKey');
    const missingHead = await errorOf(f.s3.send(new HeadObjectCommand({ Bucket: 'objs', Key: 'nope' })));
    assert.equal(missingHead.$metadata.httpStatusCode, 404);
  });

  test(`${name}: Range, conditional GETs and response overrides`, async () => {
    await f.s3.send(new CreateBucketCommand({ Bucket: 'ranges' }));
    const body = 'abcdefghijklmnopqrstuvwxyz';
    const put = await f.s3.send(new PutObjectCommand({ Bucket: 'ranges', Key: 'abc', Body: body }));
    const mid = await f.s3.send(new GetObjectCommand({ Bucket: 'ranges', Key: 'abc', Range: 'bytes=2-5' }));
    assert.equal(mid.$metadata.httpStatusCode, 206);
    assert.equal(await mid.Body?.transformToString(), 'cdef');
    assert.equal(mid.ContentRange, 'bytes 2-5/26');
    const tail = await f.s3.send(new GetObjectCommand({ Bucket: 'ranges', Key: 'abc', Range: 'bytes=-3' }));
    assert.equal(await tail.Body?.transformToString(), 'xyz');
    const bad = await errorOf(
      f.s3.send(new GetObjectCommand({ Bucket: 'ranges', Key: 'abc', Range: 'bytes=100-' })),
    );
    assert.equal(bad.$metadata.httpStatusCode, 416);
    const notModified = await errorOf(
      f.s3.send(new GetObjectCommand({ Bucket: 'ranges', Key: 'abc', IfNoneMatch: put.ETag })),
    );
    assert.equal(notModified.$metadata.httpStatusCode, 304);
    const failed = await errorOf(
      f.s3.send(new GetObjectCommand({ Bucket: 'ranges', Key: 'abc', IfMatch: '"0000"' })),
    );
    assert.equal(failed.$metadata.httpStatusCode, 412);
    const over = await f.s3.send(
      new GetObjectCommand({
        Bucket: 'ranges',
        Key: 'abc',
        ResponseContentType: 'text/x-letters',
        IfMatch: put.ETag,
      }),
    );
    assert.equal(over.ContentType, 'text/x-letters');
    assert.equal(await over.Body?.transformToString(), body);
  });

  test(`${name}: ListObjectsV2 with delimiter and pagination; ListObjects v1`, async () => {
    await f.s3.send(new CreateBucketCommand({ Bucket: 'lists' }));
    const keys = ['a/1', 'a/2', 'b/1', 'c', 'd', 'e', 'f'];
    for (const k of keys) await f.s3.send(new PutObjectCommand({ Bucket: 'lists', Key: k, Body: k }));
    const top = await f.s3.send(new ListObjectsV2Command({ Bucket: 'lists', Delimiter: '/' }));
    assert.deepEqual(
      top.CommonPrefixes?.map((p) => p.Prefix),
      ['a/', 'b/'],
    );
    assert.deepEqual(
      top.Contents?.map((c) => c.Key),
      ['c', 'd', 'e', 'f'],
    );
    assert.equal(top.KeyCount, 6);
    const seen: string[] = [];
    let token: string | undefined;
    let pages = 0;
    do {
      const page = await f.s3.send(
        new ListObjectsV2Command({ Bucket: 'lists', MaxKeys: 3, ContinuationToken: token }),
      );
      seen.push(...(page.Contents ?? []).map((c) => c.Key!));
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
      pages++;
    } while (token !== undefined);
    assert.deepEqual(seen, keys);
    assert.equal(pages, 3);
    const prefixed = await f.s3.send(
      new ListObjectsV2Command({ Bucket: 'lists', Prefix: 'a/', StartAfter: 'a/1' }),
    );
    assert.deepEqual(
      prefixed.Contents?.map((c) => c.Key),
      ['a/2'],
    );
    assert.equal(prefixed.Contents?.[0]?.Size, 3);
    const v1 = await f.s3.send(new ListObjectsCommand({ Bucket: 'lists', Marker: 'c', MaxKeys: 2 }));
    assert.deepEqual(
      v1.Contents?.map((c) => c.Key),
      ['d', 'e'],
    );
    assert.equal(v1.IsTruncated, true);
    // v1 paging with a delimiter: NextMarker may be a common prefix, which the next page skips.
    const v1seen: string[] = [];
    let marker: string | undefined;
    do {
      const page = await f.s3.send(
        new ListObjectsCommand({ Bucket: 'lists', Delimiter: '/', MaxKeys: 1, Marker: marker }),
      );
      v1seen.push(
        ...(page.CommonPrefixes ?? []).map((p) => p.Prefix!),
        ...(page.Contents ?? []).map((c) => c.Key!),
      );
      marker = page.IsTruncated ? page.NextMarker : undefined;
    } while (marker !== undefined && v1seen.length < 20);
    assert.deepEqual(v1seen, ['a/', 'b/', 'c', 'd', 'e', 'f']);
  });

  test(`${name}: CopyObject (COPY and REPLACE) and DeleteObjects (verbose and quiet)`, async () => {
    await f.s3.send(new CreateBucketCommand({ Bucket: 'copies' }));
    await f.s3.send(
      new PutObjectCommand({
        Bucket: 'copies',
        Key: 'src dir/ä.txt',
        Body: 'copy me',
        ContentType: 'text/plain',
        Metadata: { a: '1' },
      }),
    );
    await f.s3.send(
      new CopyObjectCommand({
        Bucket: 'copies',
        Key: 'same.txt',
        CopySource: `copies/${encodeURIComponent('src dir/ä.txt')}`,
      }),
    );
    const same = await f.s3.send(new GetObjectCommand({ Bucket: 'copies', Key: 'same.txt' }));
    assert.equal(await same.Body?.transformToString(), 'copy me');
    assert.deepEqual(same.Metadata, { a: '1' });
    assert.equal(same.ContentType, 'text/plain');
    const replaced = await f.s3.send(
      new CopyObjectCommand({
        Bucket: 'copies',
        Key: 'new.txt',
        CopySource: `/copies/${encodeURIComponent('src dir/ä.txt')}`,
        MetadataDirective: 'REPLACE',
        ContentType: 'text/markdown',
        Metadata: { b: '2' },
      }),
    );
    assert.match(replaced.CopyObjectResult?.ETag ?? '', /^"[0-9a-f]{32}"$/);
    const head = await f.s3.send(new HeadObjectCommand({ Bucket: 'copies', Key: 'new.txt' }));
    assert.equal(head.ContentType, 'text/markdown');
    assert.deepEqual(head.Metadata, { b: '2' });

    const copyCond = await errorOf(
      f.s3.send(
        new CopyObjectCommand({
          Bucket: 'copies',
          Key: 'cond.txt',
          CopySource: `copies/${encodeURIComponent('src dir/ä.txt')}`,
          CopySourceIfMatch: '"00000000000000000000000000000000"',
        }),
      ),
    );
    assert.equal(copyCond.$metadata.httpStatusCode, 412);
    await f.s3.send(
      new CopyObjectCommand({
        Bucket: 'copies',
        Key: 'cond.txt',
        CopySource: `copies/${encodeURIComponent('src dir/ä.txt')}`,
        CopySourceIfMatch: replaced.CopyObjectResult?.ETag,
      }),
    );
    await f.s3.send(new DeleteObjectCommand({ Bucket: 'copies', Key: 'cond.txt' }));

    const del = await f.s3.send(
      new DeleteObjectsCommand({
        Bucket: 'copies',
        Delete: { Objects: [{ Key: 'same.txt' }, { Key: 'never-there' }] },
      }),
    );
    assert.deepEqual(del.Deleted?.map((d) => d.Key).sort(), ['never-there', 'same.txt']);
    const quiet = await f.s3.send(
      new DeleteObjectsCommand({ Bucket: 'copies', Delete: { Quiet: true, Objects: [{ Key: 'new.txt' }] } }),
    );
    assert.equal(quiet.Deleted, undefined);
    const left = await f.s3.send(new ListObjectsV2Command({ Bucket: 'copies' }));
    assert.deepEqual(
      left.Contents?.map((c) => c.Key),
      ['src dir/ä.txt'],
    );
  });

  test(`${name}: multipart upload through lib-storage (12 MB in 5 MB parts); list and abort uploads`, async () => {
    await f.s3.send(new CreateBucketCommand({ Bucket: 'multi' }));
    const size = 12 * 1024 * 1024;
    const body = Buffer.from(Buffer.alloc(size).map((_, i) => (i * 251 + (i >> 12)) & 0xff));
    const upload = new Upload({
      client: f.s3,
      params: {
        Bucket: 'multi',
        Key: 'big.bin',
        Body: Readable.from([body]),
        ContentType: 'application/x-big',
      },
      partSize: 5 * 1024 * 1024,
      queueSize: 2,
    });
    const done = await upload.done();
    assert.match(done.ETag ?? '', /^"[0-9a-f]{32}-3"$/);
    const head = await f.s3.send(new HeadObjectCommand({ Bucket: 'multi', Key: 'big.bin' }));
    assert.equal(head.ContentLength, size);
    assert.equal(head.ContentType, 'application/x-big');
    const got = await f.s3.send(new GetObjectCommand({ Bucket: 'multi', Key: 'big.bin' }));
    const back = Buffer.from(await got.Body!.transformToByteArray());
    assert.equal(
      createHash('sha256').update(back).digest('hex'),
      createHash('sha256').update(body).digest('hex'),
    );

    const created = await f.s3.send(new CreateMultipartUploadCommand({ Bucket: 'multi', Key: 'pending' }));
    const listed = await f.s3.send(new ListMultipartUploadsCommand({ Bucket: 'multi' }));
    assert.ok(listed.Uploads?.some((u) => u.UploadId === created.UploadId && u.Key === 'pending'));
    const parts = await f.s3.send(
      new ListPartsCommand({ Bucket: 'multi', Key: 'pending', UploadId: created.UploadId }),
    );
    assert.equal(parts.Parts?.length ?? 0, 0);
    await f.s3.send(
      new AbortMultipartUploadCommand({ Bucket: 'multi', Key: 'pending', UploadId: created.UploadId }),
    );
    const gone = await errorOf(
      f.s3.send(new ListPartsCommand({ Bucket: 'multi', Key: 'pending', UploadId: created.UploadId })),
    );
    assert.equal(gone.name, 'NoSuchUpload');
  });

  test(`${name}: a wrong secret is SignatureDoesNotMatch`, async () => {
    const bad = s3For(f.t, 'not-the-secret');
    try {
      const err = await errorOf(bad.send(new ListBucketsCommand({})));
      assert.equal(err.name, 'SignatureDoesNotMatch');
      assert.equal(err.$metadata.httpStatusCode, 403);
      const putErr = await errorOf(
        bad.send(
          new PutObjectCommand({
            Bucket: 'objs',
            Key: 'x',
            Body: Readable.from([Buffer.from('abc')]),
            ContentLength: 3,
          }),
        ),
      );
      assert.equal(putErr.name, 'SignatureDoesNotMatch');
    } finally {
      bad.destroy();
    }
  });
});
