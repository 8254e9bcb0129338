// The /v1 bucket routes over real HTTP on every store: streamed put/get, ranges, conditional
// GETs, listing, copy, forced bucket delete, and a put cut off mid-stream that leaves nothing.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readdirSync } from 'node:fs';
import { request } from 'node:http';
import { join } from 'node:path';
import { installLeakGuard } from '../helpers/leak-guard.js';
import { startTestServer } from '../helpers/test-server.js';
import { forEachStore } from '../helpers/test-stores.js';
import { Router } from '../../src/api/router.js';
import { parseRangeHeader } from '../../src/api/object-headers.js';

installLeakGuard();

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const objectPath = (bucket: string, key: string) =>
  `/v1/buckets/${bucket}/objects/${encodeURIComponent(key)}`;

/** Every file under `dir`, recursively. */
function filesUnder(dir: string): string[] {
  let out: string[] = [];
  let entries;
  try {
    entries = readdirSync(dir, { withFileTypes: true });
  } catch {
    return [];
  }
  for (const e of entries) {
    const p = join(dir, e.name);
    out = e.isDirectory() ? out.concat(filesUnder(p)) : out.concat(p);
  }
  return out;
}

test('router: a greedy {key+} segment captures the rest of the path, slashes included', () => {
  const r = new Router<string>();
  r.add('GET', '/v1/buckets/{bucket}/objects', 'list');
  r.add('GET', '/v1/buckets/{bucket}/objects/{key+}', 'object');
  const m = r.match('GET', '/v1/buckets/b/objects/a/b%2Fc/d%20e.txt');
  assert.deepEqual(m, { kind: 'found', handler: 'object', params: { bucket: 'b', key: 'a/b/c/d e.txt' } });
  assert.deepEqual(r.match('GET', '/v1/buckets/b/objects/dir/'), {
    kind: 'found',
    handler: 'object',
    params: { bucket: 'b', key: 'dir/' },
  });
  assert.equal((r.match('GET', '/v1/buckets/b/objects') as { handler: string }).handler, 'list');
});

test('Range header parsing', () => {
  assert.deepEqual(parseRangeHeader('bytes=0-9'), { start: 0, end: 9 });
  assert.deepEqual(parseRangeHeader('bytes=5-'), { start: 5 });
  assert.deepEqual(parseRangeHeader('bytes=-3'), { suffixLength: 3 });
  assert.equal(parseRangeHeader('bytes=0-1,4-5'), undefined);
  assert.equal(parseRangeHeader('items=0-1'), undefined);
  assert.equal(parseRangeHeader(undefined), undefined);
});

forEachStore((_name, open) => {
  test('put streams in, get streams out with ETag, Last-Modified, ranges, 304 and metadata headers', async () => {
    const t = await startTestServer({ store: await open() });
    try {
      let res = await t.fetchV1('/v1/buckets', { method: 'POST', body: JSON.stringify({ name: 'docs' }) });
      assert.equal(res.status, 201);
      res = await t.fetchV1('/v1/buckets', { method: 'POST', body: JSON.stringify({ name: 'docs' }) });
      assert.equal(res.status, 200);
      res = await t.fetchV1('/v1/buckets', { method: 'POST', body: JSON.stringify({ name: 'No' }) });
      assert.equal(res.status, 400);
      assert.equal(((await res.json()) as { code: string }).code, 'InvalidBucketName');

      const key = 'a/b c/../ü.txt';
      res = await t.fetchV1(objectPath('docs', key), {
        method: 'PUT',
        body: 'hello bucket',
        headers: { 'content-type': 'text/plain', 'x-nimbus-meta-owner': 'ada' },
      });
      assert.equal(res.status, 200);
      const put = (await res.json()) as { etag: string; size: number; key: string };
      assert.equal(put.key, key);
      assert.equal(put.size, 12);
      assert.equal(put.etag, `"${createHash('md5').update('hello bucket').digest('hex')}"`);
      assert.equal(res.headers.get('etag'), put.etag);

      res = await t.fetchV1(objectPath('docs', key));
      assert.equal(res.status, 200);
      assert.equal(await res.text(), 'hello bucket');
      assert.equal(res.headers.get('content-type'), 'text/plain');
      assert.equal(res.headers.get('x-nimbus-meta-owner'), 'ada');
      assert.equal(res.headers.get('content-length'), '12');
      assert.equal(res.headers.get('accept-ranges'), 'bytes');
      assert.ok(res.headers.get('last-modified'));

      res = await t.fetchV1(objectPath('docs', key), { method: 'HEAD' });
      assert.equal(res.status, 200);
      assert.equal(res.headers.get('content-length'), '12');
      assert.equal(res.headers.get('etag'), put.etag);

      res = await t.fetchV1(objectPath('docs', key), { headers: { range: 'bytes=6-' } });
      assert.equal(res.status, 206);
      assert.equal(await res.text(), 'bucket');
      assert.equal(res.headers.get('content-range'), 'bytes 6-11/12');
      res = await t.fetchV1(objectPath('docs', key), { headers: { range: 'bytes=-3' } });
      assert.equal(await res.text(), 'ket');
      res = await t.fetchV1(objectPath('docs', key), { headers: { range: 'bytes=50-' } });
      assert.equal(res.status, 416);
      assert.equal(res.headers.get('content-range'), 'bytes */12');
      assert.equal(((await res.json()) as { code: string }).code, 'InvalidRange');

      res = await t.fetchV1(objectPath('docs', key), { headers: { 'if-none-match': put.etag } });
      assert.equal(res.status, 304);
      res = await t.fetchV1(objectPath('docs', key), { headers: { 'if-none-match': '"other"' } });
      assert.equal(res.status, 200);
      await res.arrayBuffer();

      // An empty body is an empty object; a chunked body (no Content-Length) streams as well.
      res = await t.fetchV1(objectPath('docs', 'empty'), { method: 'PUT', body: '' });
      assert.equal(res.status, 200);
      res = await t.fetchV1(objectPath('docs', 'empty'));
      assert.equal(res.headers.get('content-length'), '0');
      assert.equal(await res.text(), '');
      res = await t.fetchV1(objectPath('docs', 'chunked'), {
        method: 'PUT',
        body: new ReadableStream({
          start(c) {
            c.enqueue(new TextEncoder().encode('part one, '));
            c.enqueue(new TextEncoder().encode('part two'));
            c.close();
          },
        }),
        duplex: 'half',
      } as RequestInit);
      assert.equal(res.status, 200);
      assert.equal(await (await t.fetchV1(objectPath('docs', 'chunked'))).text(), 'part one, part two');

      // Raw slashes in the path work too.
      res = await t.fetchV1('/v1/buckets/docs/objects/raw/slash/key.bin', { method: 'PUT', body: 'x' });
      assert.equal(res.status, 200);
      res = await t.fetchV1('/v1/buckets/docs/objects/raw%2Fslash%2Fkey.bin');
      assert.equal(await res.text(), 'x');

      res = await t.fetchV1(objectPath('docs', key), { method: 'DELETE' });
      assert.equal(res.status, 204);
      res = await t.fetchV1(objectPath('docs', key));
      assert.equal(res.status, 404);
      await res.arrayBuffer();
      res = await t.fetchV1(objectPath('nope', 'k'), { method: 'PUT', body: 'x' });
      assert.equal(res.status, 404);
      assert.match(((await res.json()) as { message: string }).message, /nimbus buckets create nope/);
    } finally {
      await t.close();
    }
  });

  test('listing pages with prefix, delimiter and continuation; copy; forced delete of a non-empty bucket', async () => {
    const t = await startTestServer({ store: await open() });
    try {
      await t.fetchV1('/v1/buckets', { method: 'POST', body: JSON.stringify({ name: 'pics' }) });
      for (const k of ['a.txt', 'dir/1', 'dir/2', 'dir/sub/3', 'z']) {
        const r = await t.fetchV1(objectPath('pics', k), { method: 'PUT', body: k });
        assert.equal(r.status, 200);
      }
      let res = await t.fetchV1('/v1/buckets/pics/objects?delimiter=/');
      let page = (await res.json()) as {
        objects: Array<{ key: string }>;
        commonPrefixes: string[];
        isTruncated: boolean;
        nextContinuationToken?: string;
      };
      assert.deepEqual(
        page.objects.map((o) => o.key),
        ['a.txt', 'z'],
      );
      assert.deepEqual(page.commonPrefixes, ['dir/']);
      res = await t.fetchV1('/v1/buckets/pics/objects?prefix=dir/&maxKeys=2');
      page = (await res.json()) as typeof page;
      assert.deepEqual(
        page.objects.map((o) => o.key),
        ['dir/1', 'dir/2'],
      );
      assert.equal(page.isTruncated, true);
      res = await t.fetchV1(
        `/v1/buckets/pics/objects?prefix=dir/&maxKeys=2&continuationToken=${encodeURIComponent(page.nextContinuationToken!)}`,
      );
      page = (await res.json()) as typeof page;
      assert.deepEqual(
        page.objects.map((o) => o.key),
        ['dir/sub/3'],
      );
      assert.equal(page.isTruncated, false);

      res = await t.fetchV1('/v1/buckets/pics/copy', {
        method: 'POST',
        body: JSON.stringify({
          source: { key: 'a.txt' },
          key: 'copies/a.txt',
          replace: { contentType: 'text/plain' },
        }),
      });
      assert.equal(res.status, 200);
      assert.equal(((await res.json()) as { contentType: string }).contentType, 'text/plain');
      res = await t.fetchV1(objectPath('pics', 'copies/a.txt'));
      assert.equal(await res.text(), 'a.txt');

      res = await t.fetchV1('/v1/buckets/pics', { method: 'DELETE' });
      assert.equal(res.status, 409);
      assert.equal(((await res.json()) as { code: string }).code, 'BucketNotEmpty');
      res = await t.fetchV1('/v1/buckets/pics?force=true', { method: 'DELETE' });
      assert.equal(res.status, 204);
      res = await t.fetchV1('/v1/buckets');
      assert.deepEqual(((await res.json()) as { buckets: unknown[] }).buckets, []);
      assert.deepEqual(filesUnder(join(t.dataDir, 'objects', 'data')), []);
    } finally {
      await t.close();
    }
  });

  test('a bucket upload cut off mid-stream leaves no partial object', async () => {
    const t = await startTestServer({ store: await open() });
    try {
      await t.fetchV1('/v1/buckets', { method: 'POST', body: JSON.stringify({ name: 'uploads' }) });
      const tmpDir = join(t.dataDir, 'objects', 'tmp');
      const url = new URL(t.url);
      const req = request({
        host: url.hostname,
        port: url.port,
        method: 'PUT',
        path: objectPath('uploads', 'half.bin'),
        headers: { authorization: `Bearer ${t.credentials.token}`, 'content-length': 200_000 },
      });
      req.on('error', () => undefined); // the socket is destroyed on purpose
      req.write(Buffer.alloc(100_000, 1));
      // Wait until the server is writing the body to its temp file, so the cut really is mid-stream.
      for (let i = 0; filesUnder(tmpDir).length === 0; i++) {
        assert.ok(i < 200, 'the server never started writing the upload');
        await sleep(10);
      }
      req.destroy();
      for (let i = 0; filesUnder(tmpDir).length > 0; i++) {
        assert.ok(i < 500, `temp files left behind: ${filesUnder(tmpDir).join(', ')}`);
        await sleep(10);
      }
      const res = await t.fetchV1(objectPath('uploads', 'half.bin'), { method: 'HEAD' });
      assert.equal(res.status, 404);
      const list = (await (await t.fetchV1('/v1/buckets/uploads/objects')).json()) as { objects: unknown[] };
      assert.deepEqual(list.objects, []);
      assert.deepEqual(filesUnder(join(t.dataDir, 'objects', 'data')), []);
      assert.deepEqual(filesUnder(tmpDir), []);
    } finally {
      await t.close();
    }
  });
});
