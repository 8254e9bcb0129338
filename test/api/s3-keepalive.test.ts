// Keep-alive after a refused upload: a PutObject the S3 facade (or a /v1 object PUT) refuses
// before reading its body (NoSuchBucket, KeyTooLongError) must leave the connection usable, so the
// next request on the same socket is answered. Real keep-alive agents with one socket; per store.
import assert from 'node:assert/strict';
import { Agent, request as httpRequest } from 'node:http';
import { test } from 'node:test';
import { CreateBucketCommand, ListBucketsCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import { DRAIN_LIMIT } from '../../src/api/http-io.js';
import { installLeakGuard } from '../helpers/leak-guard.js';
import { forEachStore } from '../helpers/test-stores.js';
import { errorOf, REGION, s3Server, signRaw } from './s3-test-helpers.js';

installLeakGuard();

/** Big enough to fill the socket and stream buffers, so an unread body stays unread. */
const BODY = Buffer.alloc(1024 * 1024, 'x');

interface Answer {
  readonly status: number;
  readonly text: string;
  readonly connection: string | undefined;
}

/** One request through `agent`; fails (instead of hanging) when no answer comes within 10 s. */
function send(
  agent: Agent,
  url: string,
  method: string,
  path: string,
  headers: Record<string, string>,
  body?: Buffer,
): Promise<Answer> {
  const u = new URL(url);
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: u.hostname, port: u.port, method, path, headers, agent }, (res) => {
      const parts: Buffer[] = [];
      res.on('data', (d: Buffer) => parts.push(d));
      res.on('end', () => {
        clearTimeout(timer);
        resolve({
          status: res.statusCode ?? 0,
          text: Buffer.concat(parts).toString(),
          connection: res.headers.connection,
        });
      });
    });
    const timer = setTimeout(() => {
      req.destroy();
      reject(new Error(`${method} ${path}: no answer within 10 s (connection wedged)`));
    }, 10_000);
    req.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    req.end(body);
  });
}

forEachStore((name, open) => {
  const f = s3Server(open);

  test(`${name}: S3: after a PutObject refused before its body is read, the next request on the socket is answered`, async () => {
    await f.s3.send(new CreateBucketCommand({ Bucket: 'kept' }));
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    try {
      const refused: Array<[string, string]> = [
        ['/missing-bucket/k', 'NoSuchBucket'],
        [`/kept/${'k'.repeat(1100)}`, 'KeyTooLongError'],
      ];
      for (const [path, code] of refused) {
        const headers = await signRaw(f.t, 'PUT', path, {
          'content-length': String(BODY.length),
          'x-amz-content-sha256': 'UNSIGNED-PAYLOAD',
        });
        const put = await send(agent, f.t.url, 'PUT', path, headers, BODY);
        assert.ok(put.status >= 400, `${path}: ${put.status}`);
        assert.match(put.text, new RegExp(`<Code>${code}</Code>`));
        const listHeaders = await signRaw(f.t, 'GET', '/', { 'x-amz-content-sha256': 'UNSIGNED-PAYLOAD' });
        const list = await send(agent, f.t.url, 'GET', '/', listHeaders);
        assert.equal(list.status, 200, list.text);
        assert.match(list.text, /<Name>kept<\/Name>/);
      }
    } finally {
      agent.destroy();
    }
  });

  test(`${name}: S3: a refused upload larger than what is drained answers Connection: close, and the next request gets a new socket`, async () => {
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    try {
      const big = Buffer.alloc(DRAIN_LIMIT + 1024 * 1024, 'y');
      const headers = await signRaw(f.t, 'PUT', '/missing-bucket/big', {
        'content-length': String(big.length),
        'x-amz-content-sha256': 'UNSIGNED-PAYLOAD',
      });
      const put = await send(agent, f.t.url, 'PUT', '/missing-bucket/big', headers, big).catch(
        (err: Error) => err,
      );
      // The server may end the connection while the client still writes; an answer, if read, says close.
      if (!(put instanceof Error)) {
        assert.equal(put.status, 404);
        assert.equal(put.connection, 'close');
      }
      const listHeaders = await signRaw(f.t, 'GET', '/', { 'x-amz-content-sha256': 'UNSIGNED-PAYLOAD' });
      const list = await send(agent, f.t.url, 'GET', '/', listHeaders);
      assert.equal(list.status, 200, list.text);
    } finally {
      agent.destroy();
    }
  });

  test(`${name}: S3 via the AWS SDK on one keep-alive socket: a refused PutObject does not hang the next call`, async () => {
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    const s3 = new S3Client({
      endpoint: f.t.url,
      forcePathStyle: true,
      region: REGION,
      credentials: {
        accessKeyId: f.t.credentials.accessKeyId,
        secretAccessKey: f.t.credentials.secretAccessKey,
      },
      maxAttempts: 1,
      requestHandler: new NodeHttpHandler({ httpAgent: agent }),
    });
    // The wedge showed as a call that never returned: abort after 10 s instead.
    const within = async <T>(call: (abortSignal: AbortSignal) => Promise<T>): Promise<T> => {
      const abort = new AbortController();
      const timer = setTimeout(() => abort.abort(), 10_000);
      try {
        return await call(abort.signal);
      } finally {
        clearTimeout(timer);
      }
    };
    try {
      const err = await errorOf(
        within((abortSignal) =>
          s3.send(new PutObjectCommand({ Bucket: 'nope', Key: 'k', Body: BODY }), { abortSignal }),
        ),
      );
      assert.equal(err.name, 'NoSuchBucket');
      const list = await within((abortSignal) => s3.send(new ListBucketsCommand({}), { abortSignal }));
      assert.ok(Array.isArray(list.Buckets));
    } finally {
      s3.destroy();
      agent.destroy();
    }
  });

  test(`${name}: /v1: after an object PUT refused before its body is read, the next request on the socket is answered`, async () => {
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    const auth = { authorization: `Bearer ${f.t.credentials.token}` };
    try {
      const put = await send(
        agent,
        f.t.url,
        'PUT',
        '/v1/buckets/missing-bucket/objects/k',
        { ...auth, 'content-length': String(BODY.length) },
        BODY,
      );
      assert.equal(put.status, 404, put.text);
      const health = await send(agent, f.t.url, 'GET', '/v1/buckets', auth);
      assert.equal(health.status, 200, health.text);
    } finally {
      agent.destroy();
    }
  });
});
