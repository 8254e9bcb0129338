// Helpers shared by the S3 end-to-end tests: SDK clients for a test server, raw SigV4-signed
// requests (as the SDK signs them) sent over node:http, and aws-chunked framing.
import { request as httpRequest } from 'node:http';
import type { S3ServiceException } from '@aws-sdk/client-s3';
import { S3Client } from '@aws-sdk/client-s3';
import { Sha256 } from '@aws-crypto/sha256-js';
import { SignatureV4 } from '@smithy/signature-v4';
import { after, before } from 'node:test';
import type { Store } from '../../src/store/store.js';
import { startTestServer, type TestServer } from '../helpers/test-server.js';

/** The region the tests sign for. */
export const REGION = 'us-east-1';

/** An S3Client with default settings plus endpoint and forcePathStyle. */
export function s3For(t: TestServer, secret = t.credentials.secretAccessKey): S3Client {
  return new S3Client({
    endpoint: t.url,
    forcePathStyle: true,
    region: REGION,
    credentials: { accessKeyId: t.credentials.accessKeyId, secretAccessKey: secret },
  });
}

/** A server on a fresh store and an SDK client, started before and stopped after the enclosing block. */
export function s3Server(open: () => Promise<Store>): { readonly t: TestServer; readonly s3: S3Client } {
  let t: TestServer | undefined;
  let s3: S3Client | undefined;
  before(async () => {
    t = await startTestServer({ store: await open(), prewarm: { nodejs: 0 }, threadPrewarm: 0 });
    s3 = s3For(t);
  });
  after(async () => {
    s3?.destroy();
    await t?.close();
  });
  return {
    get t() {
      return t!;
    },
    get s3() {
      return s3!;
    },
  };
}

/** The error a call fails with (fails the test when it succeeds). */
export async function errorOf(p: Promise<unknown>): Promise<S3ServiceException> {
  try {
    await p;
  } catch (err) {
    return err as S3ServiceException;
  }
  throw new Error('expected the call to fail');
}

/** Sign a raw request as the SDK would (header form), returning its headers. */
export async function signRaw(
  t: TestServer,
  method: string,
  path: string,
  headers: Record<string, string>,
): Promise<Record<string, string>> {
  const url = new URL(t.url);
  const signer = new SignatureV4({
    service: 's3',
    region: REGION,
    credentials: { accessKeyId: t.credentials.accessKeyId, secretAccessKey: t.credentials.secretAccessKey },
    sha256: Sha256,
    uriEscapePath: false,
  });
  const signed = await signer.sign({
    method,
    protocol: 'http:',
    hostname: url.hostname,
    port: Number(url.port),
    path,
    query: {},
    headers: { host: url.host, ...headers },
  });
  return signed.headers as Record<string, string>;
}

/** Send a raw request; `body` pieces are written with a pause between them. */
export function rawRequest(
  t: TestServer,
  method: string,
  path: string,
  headers: Record<string, string>,
  body: Buffer[],
  opts: { cutAfter?: number } = {},
): Promise<{ status: number; text: string }> {
  const url = new URL(t.url);
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: url.hostname, port: url.port, method, path, headers }, (res) => {
      const parts: Buffer[] = [];
      res.on('data', (d: Buffer) => parts.push(d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(parts).toString() }));
      res.on('error', reject);
    });
    req.on('error', (err) =>
      opts.cutAfter !== undefined ? resolve({ status: 0, text: String(err) }) : reject(err),
    );
    let i = 0;
    const next = (): void => {
      if (opts.cutAfter !== undefined && i === opts.cutAfter) {
        // Cut the connection mid-body: what arrived must not become an object.
        setTimeout(() => {
          req.destroy();
          resolve({ status: 0, text: 'cut' });
        }, 50);
        return;
      }
      if (i >= body.length) {
        req.end();
        return;
      }
      req.write(body[i++]);
      setImmediate(next);
    };
    next();
  });
}

/** One unsigned aws-chunked frame. */
export const frame = (data: Buffer): Buffer[] => [
  Buffer.from(`${data.length.toString(16)}\r\n`),
  data,
  Buffer.from('\r\n'),
];
