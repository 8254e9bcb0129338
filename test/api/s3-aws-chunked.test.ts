// Unit tests of the S3 protocol layer: checksums, the aws-chunked decoder (hand-built frames, split
// at every byte boundary, signed chunks and trailers), the verified upload body, the XML reader,
// error mapping and path parsing.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, createHmac } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { Readable } from 'node:stream';
import { AwsChunkedDecoder, type ChunkSigning } from '../../src/api/s3/aws-chunked.js';
import { openUploadBody } from '../../src/api/s3/s3-body.js';
import { toS3Error } from '../../src/api/s3/s3-errors.js';
import { parseCopySource } from '../../src/api/s3/s3-objects.js';
import { parseS3Path } from '../../src/api/s3/s3-request.js';
import { checksumOf, createChecksum, tableCrc32 } from '../../src/api/s3/s3-checksums.js';
import { parseXml, childrenNamed, childText } from '../../src/api/s3/s3-xml.js';
import type { SigV4Identity } from '../../src/auth/sigv4-verifier.js';
import { NimbusError } from '../../src/errors.js';
import { installLeakGuard } from '../helpers/leak-guard.js';

installLeakGuard();

const EMPTY = createHash('sha256').update('').digest('hex');
const hex = (b: Buffer | string): string => createHash('sha256').update(b).digest('hex');
const b64 = (n: number, bytes: number): string => {
  const b = Buffer.alloc(bytes);
  if (bytes === 4) b.writeUInt32BE(n);
  return b.toString('base64');
};

test('checksums match the published check values for "123456789"', () => {
  const data = Buffer.from('123456789');
  assert.equal(checksumOf('crc32', data), b64(0xcbf43926, 4));
  assert.equal(checksumOf('crc32c', data), b64(0xe3069283, 4));
  assert.equal(checksumOf('crc64nvme', data), Buffer.from('ae8b14860a799888', 'hex').toString('base64'));
  assert.equal(checksumOf('sha256', data), createHash('sha256').update(data).digest('base64'));
  const t = tableCrc32();
  t.update(data.subarray(0, 4));
  t.update(data.subarray(4));
  assert.equal(t.digestBase64(), b64(0xcbf43926, 4));
  // Incremental over uneven pieces equals one shot, for every algorithm.
  const big = Buffer.from(Buffer.alloc(100_003, 7).map((_, i) => (i * 31) & 0xff));
  for (const alg of ['crc32', 'crc32c', 'crc64nvme', 'sha1', 'sha256'] as const) {
    const c = createChecksum(alg);
    for (let i = 0; i < big.length; i += 997) c.update(big.subarray(i, i + 997));
    assert.equal(c.digestBase64(), checksumOf(alg, big), alg);
  }
});

/** Feed `frames` to a decoder in pieces of `step` bytes; resolves to the payload or rejects. */
async function decode(
  frames: Buffer,
  step: number,
  opts: ConstructorParameters<typeof AwsChunkedDecoder>[0] = {},
) {
  const pieces: Buffer[] = [];
  for (let i = 0; i < frames.length; i += step) pieces.push(frames.subarray(i, i + step));
  const decoder = new AwsChunkedDecoder(opts);
  const out: Buffer[] = [];
  await new Promise<void>((resolve, reject) => {
    decoder.on('data', (d: Buffer) => out.push(d));
    decoder.on('end', resolve);
    decoder.on('error', reject);
    Readable.from(pieces).pipe(decoder);
  });
  return { payload: Buffer.concat(out), decoder };
}

function unsignedFrames(chunks: Buffer[], trailer?: string): Buffer {
  const parts: Buffer[] = [];
  for (const c of chunks) parts.push(Buffer.from(`${c.length.toString(16)}\r\n`), c, Buffer.from('\r\n'));
  parts.push(Buffer.from('0\r\n'));
  if (trailer !== undefined) parts.push(Buffer.from(`${trailer}\r\n\r\n`));
  return Buffer.concat(parts);
}

const KEY = createHmac('sha256', 'k').update('signing').digest();
const SIGNING: ChunkSigning = {
  signingKey: KEY,
  amzDate: '20261130T120000Z',
  scope: '20261130/us-east-1/s3/aws4_request',
  seedSignature: 'a'.repeat(64),
};

function signedFrames(chunks: Buffer[], trailer?: string): Buffer {
  const sign = (s: string): string => createHmac('sha256', KEY).update(s).digest('hex');
  let prev = SIGNING.seedSignature;
  const parts: Buffer[] = [];
  for (const c of [...chunks, Buffer.alloc(0)]) {
    const sig = sign(
      `AWS4-HMAC-SHA256-PAYLOAD\n${SIGNING.amzDate}\n${SIGNING.scope}\n${prev}\n${EMPTY}\n${hex(c)}`,
    );
    prev = sig;
    parts.push(Buffer.from(`${c.length.toString(16)};chunk-signature=${sig}\r\n`), c);
    if (c.length > 0) parts.push(Buffer.from('\r\n'));
  }
  if (trailer === undefined) parts.push(Buffer.from('\r\n'));
  else {
    const sig = sign(
      `AWS4-HMAC-SHA256-TRAILER\n${SIGNING.amzDate}\n${SIGNING.scope}\n${prev}\n${hex(trailer + '\n')}`,
    );
    parts.push(Buffer.from(`${trailer}\r\nx-amz-trailer-signature:${sig}\r\n\r\n`));
  }
  return Buffer.concat(parts);
}

const DATA = [Buffer.from('hello, '), Buffer.alloc(300, 'x'), Buffer.from('world')];
const WHOLE = Buffer.concat(DATA);

test('unsigned frames with a trailer decode at every split boundary (1 byte to whole)', async () => {
  const crc = `x-amz-checksum-crc32:${checksumOf('crc32', WHOLE)}`;
  const frames = unsignedFrames(DATA, crc);
  for (const step of [1, 2, 3, 5, 7, 64, 333, frames.length]) {
    const { payload, decoder } = await decode(frames, step, {
      decodedLength: WHOLE.length,
      expectedTrailers: ['x-amz-checksum-crc32'],
    });
    assert.deepEqual(payload, WHOLE, `step ${step}`);
    assert.equal(decoder.trailers.get('x-amz-checksum-crc32'), checksumOf('crc32', WHOLE));
    assert.equal(decoder.chunkCount, 3);
  }
  // What the JS SDK sends without a checksum: `0\r\n` and nothing after.
  const bare = await decode(unsignedFrames(DATA), 4);
  assert.deepEqual(bare.payload, WHOLE);
});

test('signed chunks (with and without a signed trailer) verify, split anywhere', async () => {
  for (const trailer of [undefined, `x-amz-checksum-sha256:${checksumOf('sha256', WHOLE)}`]) {
    const frames = signedFrames(DATA, trailer);
    for (const step of [1, 9, 100, frames.length]) {
      const { payload } = await decode(frames, step, {
        signing: SIGNING,
        signedTrailer: trailer !== undefined,
        decodedLength: WHOLE.length,
      });
      assert.deepEqual(payload, WHOLE);
    }
  }
});

test('a changed byte, a missing signature or a forged trailer fails signed decoding', async () => {
  const frames = signedFrames(DATA, `x-amz-checksum-crc32:${checksumOf('crc32', WHOLE)}`);
  const corrupted = Buffer.from(frames);
  corrupted[corrupted.indexOf('xxxx')] = 'y'.charCodeAt(0);
  await assert.rejects(decode(corrupted, 50, { signing: SIGNING, signedTrailer: true }), {
    code: 'InvalidSignatureException',
  });
  await assert.rejects(decode(unsignedFrames(DATA), 50, { signing: SIGNING }), {
    code: 'InvalidSignatureException',
  });
  const forged = Buffer.from(
    frames.toString('latin1').replace(/crc32:[^\r]+/, `crc32:${b64(1, 4)}`),
    'latin1',
  );
  await assert.rejects(decode(forged, 50, { signing: SIGNING, signedTrailer: true }), {
    code: 'InvalidSignatureException',
  });
});

test('framing faults: bad size, short body, extra data, wrong decoded length, missing trailer', async () => {
  const frames = unsignedFrames(DATA, `x-amz-checksum-crc32:${checksumOf('crc32', WHOLE)}`);
  await assert.rejects(decode(Buffer.from('zz\r\nab\r\n0\r\n\r\n'), 3), { code: 'MalformedChunkedEncoding' });
  await assert.rejects(decode(frames.subarray(0, 40), 7), { code: 'IncompleteBody' });
  await assert.rejects(decode(Buffer.concat([frames, Buffer.from('junk')]), 7), {
    code: 'MalformedChunkedEncoding',
  });
  await assert.rejects(decode(frames, 7, { decodedLength: WHOLE.length + 1 }), { code: 'IncompleteBody' });
  await assert.rejects(decode(frames, 7, { decodedLength: WHOLE.length - 1 }), { code: 'IncompleteBody' });
  await assert.rejects(decode(unsignedFrames(DATA), 7, { expectedTrailers: ['x-amz-checksum-crc32'] }), {
    code: 'MalformedChunkedEncoding',
  });
  // A chunk longer than declared: no CRLF where the data should end.
  await assert.rejects(decode(Buffer.from('2\r\nabc\r\n0\r\n\r\n'), 1), { code: 'MalformedChunkedEncoding' });
});

function fakeRequest(headers: Record<string, string>, body: Buffer, step = 11): IncomingMessage {
  const pieces: Buffer[] = [];
  for (let i = 0; i < body.length; i += step) pieces.push(body.subarray(i, i + step));
  return Object.assign(Readable.from(pieces), { headers }) as unknown as IncomingMessage;
}

const IDENTITY = {
  accessKeyId: 'AK',
  date: '20261130',
  region: 'us-east-1',
  service: 's3',
  amzDate: SIGNING.amzDate,
  signedHeaders: ['host'],
  signature: SIGNING.seedSignature,
  presigned: false,
} satisfies Omit<SigV4Identity, 'payloadHash'>;

async function drain(headers: Record<string, string>, body: Buffer, payloadHash: string) {
  const up = openUploadBody(fakeRequest(headers, body), { ...IDENTITY, payloadHash }, KEY);
  const out: Buffer[] = [];
  try {
    for await (const c of up.body) out.push(c as Buffer);
  } catch (err) {
    throw up.error() ?? err;
  }
  return { payload: Buffer.concat(out), up };
}

test('upload body: trailing checksum verified; a wrong one fails with BadDigest', async () => {
  const headers = {
    'content-encoding': 'aws-chunked',
    'x-amz-decoded-content-length': String(WHOLE.length),
    'x-amz-trailer': 'x-amz-checksum-crc32c',
  };
  const good = unsignedFrames(DATA, `x-amz-checksum-crc32c:${checksumOf('crc32c', WHOLE)}`);
  const { payload, up } = await drain(headers, good, 'STREAMING-UNSIGNED-PAYLOAD-TRAILER');
  assert.deepEqual(payload, WHOLE);
  assert.equal(up.chunked, true);
  assert.deepEqual(up.checksumHeaders(), { 'x-amz-checksum-crc32c': checksumOf('crc32c', WHOLE) });
  const bad = unsignedFrames(DATA, `x-amz-checksum-crc32c:${b64(5, 4)}`);
  await assert.rejects(drain(headers, bad, 'STREAMING-UNSIGNED-PAYLOAD-TRAILER'), { code: 'BadDigest' });
  // Signed chunks with a signed trailer through the same path.
  const signed = signedFrames(DATA, `x-amz-checksum-crc32c:${checksumOf('crc32c', WHOLE)}`);
  const ok = await drain(headers, signed, 'STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER');
  assert.deepEqual(ok.payload, WHOLE);
});

test('upload body: plain bodies check x-amz-content-sha256 and x-amz-checksum-* headers', async () => {
  const ok = await drain({ 'x-amz-checksum-sha1': checksumOf('sha1', WHOLE) }, WHOLE, hex(WHOLE));
  assert.deepEqual(ok.payload, WHOLE);
  await assert.rejects(drain({}, WHOLE, hex('other')), { code: 'XAmzContentSHA256Mismatch' });
  await assert.rejects(drain({ 'x-amz-checksum-crc32': b64(9, 4) }, WHOLE, 'UNSIGNED-PAYLOAD'), {
    code: 'BadDigest',
  });
  assert.throws(
    () =>
      openUploadBody(
        fakeRequest({ 'x-amz-checksum-crc32': 'nope' }, WHOLE),
        { ...IDENTITY, payloadHash: 'UNSIGNED-PAYLOAD' },
        KEY,
      ),
    { code: 'InvalidDigest' },
  );
});

test('XML reader: namespaces, entities, CDATA, self-closing; malformed input is MalformedXML', () => {
  const root = parseXml(
    '<?xml version="1.0"?><Delete xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Quiet>true</Quiet>' +
      '<Object><Key>a&amp;b &lt;c&gt; &#x263A;</Key></Object><Object><Key><![CDATA[x<y]]></Key><VersionId/></Object></Delete>',
  );
  assert.equal(root.name, 'Delete');
  assert.equal(childText(root, 'Quiet'), 'true');
  assert.deepEqual(
    childrenNamed(root, 'Object').map((o) => childText(o, 'Key')),
    ['a&b <c> \u263a', 'x<y'],
  );
  for (const bad of ['', '<a><b></a>', '<a>', 'text', '<a></a><b></b>', '<!DOCTYPE x><a/>']) {
    assert.throws(() => parseXml(bad), { code: 'MalformedXML' }, JSON.stringify(bad));
  }
});

test('error mapping: ResourceNotFoundException names the missing bucket, key or upload; SigV4 faults get S3 codes', () => {
  const nf = new NimbusError('ResourceNotFoundException', 'gone');
  assert.equal(toS3Error(nf, { bucket: 'b', key: 'k', bucketExists: false }).code, 'NoSuchBucket');
  assert.equal(toS3Error(nf, { bucket: 'b', key: 'k', bucketExists: true }).code, 'NoSuchKey');
  assert.equal(
    toS3Error(nf, { bucket: 'b', key: 'k', uploadId: 'u', bucketExists: true }).code,
    'NoSuchUpload',
  );
  assert.equal(toS3Error(nf, { bucket: 'b', bucketExists: true }).code, 'NoSuchBucket');
  const sig = toS3Error(
    new NimbusError('InvalidSignatureException', 'The request signature we calculated does not match'),
    {},
  );
  assert.deepEqual([sig.code, sig.status], ['SignatureDoesNotMatch', 403]);
  assert.equal(
    toS3Error(new NimbusError('InvalidSignatureException', 'Signature expired: x'), {}).code,
    'RequestTimeTooSkewed',
  );
  assert.equal(toS3Error(new NimbusError('UnrecognizedClientException', 'x'), {}).code, 'InvalidAccessKeyId');
  assert.deepEqual(
    [
      toS3Error(new NimbusError('BucketNotEmpty', 'x'), {}).code,
      toS3Error(new NimbusError('BucketNotEmpty', 'x'), {}).status,
    ],
    ['BucketNotEmpty', 409],
  );
  assert.deepEqual(toS3Error(new Error('boom'), {}).code, 'InternalError');
});

test('path-style parsing and x-amz-copy-source', () => {
  const p = parseS3Path('/photos/cats/a%20b%2Bc.txt?list-type=2&prefix=x%2By');
  assert.equal(p.bucket, 'photos');
  assert.equal(p.key, 'cats/a b+c.txt');
  assert.equal(p.query.get('prefix'), 'x+y');
  assert.deepEqual(parseS3Path('/'), { bucket: undefined, key: undefined, query: new URLSearchParams() });
  assert.equal(parseS3Path('/photos/').key, undefined);
  assert.deepEqual(parseCopySource('/src/dir%2Fa%20b.txt'), { bucket: 'src', key: 'dir/a b.txt' });
  assert.deepEqual(parseCopySource('src/k?versionId=null'), { bucket: 'src', key: 'k' });
  assert.throws(() => parseCopySource('src/k?versionId=3'), { code: 'NotImplemented' });
  assert.throws(() => parseCopySource('nokey'), { code: 'InvalidParameterValueException' });
});
