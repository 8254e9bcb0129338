// End to end over raw HTTP: hand-built aws-chunked requests (signed chunks, wrong trailing
// checksums, cut-off bodies) and signed-sha256 mismatches store nothing; S3's error XML; presigned
// GET/PUT URLs. On every store.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, createHmac } from 'node:crypto';
import type { S3ServiceException } from '@aws-sdk/client-s3';
import { CreateBucketCommand, GetObjectCommand, HeadObjectCommand } from '@aws-sdk/client-s3';
import { Sha256 } from '@aws-crypto/sha256-js';
import { SignatureV4 } from '@smithy/signature-v4';
import { checksumOf } from '../../src/api/s3/s3-checksums.js';
import { deriveSigningKey } from '../../src/auth/sigv4-verifier.js';
import { installLeakGuard } from '../helpers/leak-guard.js';
import { forEachStore } from '../helpers/test-stores.js';

import { errorOf, s3Server, frame, rawRequest, REGION, signRaw } from './s3-test-helpers.js';

installLeakGuard();

forEachStore((name, open) => {
  const f = s3Server(open);

  test(`${name}: raw aws-chunked uploads: signed chunks store; a corrupted chunk, a wrong trailer checksum or a cut-off body store nothing`, async () => {
    await f.s3.send(new CreateBucketCommand({ Bucket: 'raw' }));
    const data = [Buffer.alloc(70_000, 'a'), Buffer.alloc(5000, 'b')];
    const whole = Buffer.concat(data);
    const exists = async (key: string): Promise<boolean> =>
      f.s3.send(new HeadObjectCommand({ Bucket: 'raw', Key: key })).then(
        () => true,
        (e: S3ServiceException) => {
          if (e.$metadata.httpStatusCode === 404) return false;
          throw e;
        },
      );

    // Signed chunks (STREAMING-AWS4-HMAC-SHA256-PAYLOAD), each signature chained from the seed.
    const signedPut = async (key: string, corrupt: boolean): Promise<{ status: number; text: string }> => {
      const headers = await signRaw(f.t, 'PUT', `/raw/${key}`, {
        'content-encoding': 'aws-chunked',
        'x-amz-content-sha256': 'STREAMING-AWS4-HMAC-SHA256-PAYLOAD',
        'x-amz-decoded-content-length': String(whole.length),
        'transfer-encoding': 'chunked',
      });
      const auth = headers['authorization']!;
      const seed = /Signature=([0-9a-f]{64})/.exec(auth)![1]!;
      const amzDate = headers['x-amz-date']!;
      const scope = `${amzDate.slice(0, 8)}/${REGION}/s3/aws4_request`;
      const key4 = deriveSigningKey(f.t.credentials.secretAccessKey, amzDate.slice(0, 8), REGION, 's3');
      const empty = createHash('sha256').update('').digest('hex');
      let prev = seed;
      const body: Buffer[] = [];
      for (const c of [...data, Buffer.alloc(0)]) {
        const sig = createHmac('sha256', key4)
          .update(
            `AWS4-HMAC-SHA256-PAYLOAD\n${amzDate}\n${scope}\n${prev}\n${empty}\n${createHash('sha256').update(c).digest('hex')}`,
          )
          .digest('hex');
        prev = sig;
        const sent = corrupt && c.length === 5000 ? Buffer.alloc(5000, 'B') : c;
        body.push(
          Buffer.from(`${c.length.toString(16)};chunk-signature=${sig}\r\n`),
          sent,
          Buffer.from('\r\n'),
        );
      }
      return rawRequest(f.t, 'PUT', `/raw/${key}`, headers, body);
    };
    const ok = await signedPut('signed', false);
    assert.equal(ok.status, 200, ok.text);
    const back = await f.s3.send(new GetObjectCommand({ Bucket: 'raw', Key: 'signed' }));
    assert.deepEqual(Buffer.from(await back.Body!.transformToByteArray()), whole);
    const corrupted = await signedPut('corrupted', true);
    assert.equal(corrupted.status, 403);
    assert.match(corrupted.text, /<Code>SignatureDoesNotMatch<\/Code>/);
    assert.equal(await exists('corrupted'), false);

    // Unsigned chunks with a trailing checksum that does not match.
    const trailerHeaders = await signRaw(f.t, 'PUT', '/raw/badsum', {
      'content-encoding': 'aws-chunked',
      'x-amz-content-sha256': 'STREAMING-UNSIGNED-PAYLOAD-TRAILER',
      'x-amz-decoded-content-length': String(whole.length),
      'x-amz-trailer': 'x-amz-checksum-crc32',
      'transfer-encoding': 'chunked',
    });
    const wrongSum = checksumOf('crc32', Buffer.from('something else'));
    const badSum = await rawRequest(f.t, 'PUT', '/raw/badsum', trailerHeaders, [
      ...data.flatMap(frame),
      Buffer.from(`0\r\nx-amz-checksum-crc32:${wrongSum}\r\n\r\n`),
    ]);
    assert.equal(badSum.status, 400);
    assert.match(badSum.text, /<Code>BadDigest<\/Code>/);
    assert.equal(await exists('badsum'), false);

    // A body cut off mid-stream (the client goes away after the first chunk).
    const cutHeaders = await signRaw(f.t, 'PUT', '/raw/cut', {
      'content-encoding': 'aws-chunked',
      'x-amz-content-sha256': 'STREAMING-UNSIGNED-PAYLOAD-TRAILER',
      'x-amz-decoded-content-length': String(whole.length),
      'x-amz-trailer': 'x-amz-checksum-crc32',
      'transfer-encoding': 'chunked',
    });
    await rawRequest(f.t, 'PUT', '/raw/cut', cutHeaders, [...frame(data[0]!), ...frame(data[1]!)], {
      cutAfter: 3,
    });
    // A plain (Content-Length) PUT cut off too.
    const plainHeaders = await signRaw(f.t, 'PUT', '/raw/cut-plain', {
      'x-amz-content-sha256': 'UNSIGNED-PAYLOAD',
      'content-length': String(whole.length),
    });
    await rawRequest(f.t, 'PUT', '/raw/cut-plain', plainHeaders, [data[0]!, data[1]!], { cutAfter: 1 });
    await new Promise((r) => setTimeout(r, 200));
    assert.equal(await exists('cut'), false);
    assert.equal(await exists('cut-plain'), false);
  });

  test(`${name}: S3 error XML and headers; a body that does not match its signed sha256 stores nothing`, async () => {
    await f.s3.send(new CreateBucketCommand({ Bucket: 'errs' }));
    const getHeaders = await signRaw(f.t, 'GET', '/errs/no%20such', {
      'x-amz-content-sha256': createHash('sha256').update('').digest('hex'),
    });
    const res = await fetch(`${f.t.url}/errs/no%20such`, { headers: getHeaders });
    assert.equal(res.status, 404);
    assert.match(res.headers.get('x-amz-request-id') ?? '', /^[0-9A-F]{16}$/);
    assert.equal(res.headers.get('content-type'), 'application/xml');
    const xml = await res.text();
    assert.match(
      xml,
      /^<\?xml version="1.0" encoding="UTF-8"\?>\n<Error><Code>NoSuchKey<\/Code><Message>[^<]+<\/Message><Key>no such<\/Key><RequestId>[0-9A-F]{16}<\/RequestId><\/Error>$/,
    );
    const body = Buffer.from('the real body');
    const putHeaders = await signRaw(f.t, 'PUT', '/errs/sha', {
      'x-amz-content-sha256': createHash('sha256').update('another body').digest('hex'),
      'content-length': String(body.length),
    });
    const put = await rawRequest(f.t, 'PUT', '/errs/sha', putHeaders, [body]);
    assert.equal(put.status, 400);
    assert.match(put.text, /<Code>XAmzContentSHA256Mismatch<\/Code>/);
    const head = await errorOf(f.s3.send(new HeadObjectCommand({ Bucket: 'errs', Key: 'sha' })));
    assert.equal(head.$metadata.httpStatusCode, 404);
  });

  test(`${name}: presigned GET and PUT URLs`, async () => {
    await f.s3.send(new CreateBucketCommand({ Bucket: 'presigned' }));
    const url = new URL(f.t.url);
    const signer = new SignatureV4({
      service: 's3',
      region: REGION,
      credentials: {
        accessKeyId: f.t.credentials.accessKeyId,
        secretAccessKey: f.t.credentials.secretAccessKey,
      },
      sha256: Sha256,
      uriEscapePath: false,
    });
    const presign = async (method: string, path: string): Promise<string> => {
      const signed = await signer.presign(
        {
          method,
          protocol: 'http:',
          hostname: url.hostname,
          port: Number(url.port),
          path,
          query: {},
          headers: { host: url.host, 'x-amz-content-sha256': 'UNSIGNED-PAYLOAD' },
        },
        { expiresIn: 300 },
      );
      const qs = new URLSearchParams(signed.query as Record<string, string>).toString();
      return `${f.t.url}${path}?${qs}`;
    };
    const put = await fetch(await presign('PUT', '/presigned/p.txt'), {
      method: 'PUT',
      body: 'via presigned url',
    });
    assert.equal(put.status, 200, await put.clone().text());
    const get = await fetch(await presign('GET', '/presigned/p.txt'));
    assert.equal(get.status, 200);
    assert.equal(await get.text(), 'via presigned url');
    const tampered = (await presign('GET', '/presigned/p.txt')).replace('p.txt', 'q.txt');
    assert.equal((await fetch(tampered)).status, 403);
  });
});
