// SigV4 tightening against a real server: the credential scope's service and region are the
// endpoint's, Lambda refuses UNSIGNED-PAYLOAD, and an unknown access key is answered exactly as a
// wrong secret (Lambda, S3 and SQS dialects).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Sha256 } from '@aws-crypto/sha256-js';
import { HttpRequest } from '@smithy/protocol-http';
import { SignatureV4 } from '@smithy/signature-v4';
import { ListFunctionsCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { ListBucketsCommand, S3Client } from '@aws-sdk/client-s3';
import { ListQueuesCommand, SQSClient } from '@aws-sdk/client-sqs';
import { installLeakGuard } from '../helpers/leak-guard.js';
import { startTestServer, type TestServer } from '../helpers/test-server.js';

installLeakGuard();

interface Signed {
  readonly status: number;
  readonly errorType: string | null;
  readonly body: string;
}

describe('SigV4 scope, payload and key checks', () => {
  let t: TestServer;
  let host: string;

  before(async () => {
    t = await startTestServer();
    host = new URL(t.url).host;
  });
  after(async () => {
    await t.close();
  });

  /** Sign a request with the official signer and send it. */
  async function send(o: {
    service?: string;
    region?: string;
    method?: string;
    path: string;
    body?: string;
    headers?: Record<string, string>;
    accessKeyId?: string;
    secretAccessKey?: string;
    applyChecksum?: boolean;
  }): Promise<Signed> {
    const signer = new SignatureV4({
      service: o.service ?? 'lambda',
      region: o.region ?? 'us-east-1',
      credentials: {
        accessKeyId: o.accessKeyId ?? t.credentials.accessKeyId,
        secretAccessKey: o.secretAccessKey ?? t.credentials.secretAccessKey,
      },
      sha256: Sha256,
      applyChecksum: o.applyChecksum ?? true,
    });
    const url = new URL(o.path, t.url);
    const query: Record<string, string> = {};
    url.searchParams.forEach((v, k) => (query[k] = v));
    const req = new HttpRequest({
      method: o.method ?? 'GET',
      protocol: 'http:',
      hostname: url.hostname,
      port: Number(url.port),
      path: url.pathname,
      query,
      headers: { host, ...(o.headers ?? {}) },
      body: o.body,
    });
    const signed = await signer.sign(req);
    const res = await fetch(`${t.url}${o.path}`, {
      method: signed.method,
      headers: signed.headers as Record<string, string>,
      body: o.body,
    });
    return { status: res.status, errorType: res.headers.get('x-amzn-errortype'), body: await res.text() };
  }

  test('a Lambda API request signed for another service is refused', async () => {
    const r = await send({ service: 's3', path: '/2015-03-31/functions' });
    assert.equal(r.status, 403);
    assert.equal(r.errorType, 'InvalidSignatureException');
    assert.match(r.body, /scoped to correct service: 'lambda'/);
    const ok = await send({ service: 'lambda', path: '/2015-03-31/functions' });
    assert.equal(ok.status, 200, ok.body);
  });

  test("a credential scope for another region than the server's is refused (Lambda, S3, SQS)", async () => {
    const r = await send({ region: 'eu-west-1', path: '/2015-03-31/functions' });
    assert.equal(r.status, 403);
    assert.equal(r.errorType, 'InvalidSignatureException');
    assert.match(r.body, /not 'eu-west-1'.*region is 'us-east-1'/);

    const credentials = {
      accessKeyId: t.credentials.accessKeyId,
      secretAccessKey: t.credentials.secretAccessKey,
    };
    const common = { endpoint: t.url, region: 'eu-west-1', credentials, maxAttempts: 1 };
    const lambda = new LambdaClient(common);
    const s3 = new S3Client({ ...common, forcePathStyle: true });
    const sqs = new SQSClient(common);
    try {
      await assert.rejects(lambda.send(new ListFunctionsCommand({})), { name: 'InvalidSignatureException' });
      await assert.rejects(s3.send(new ListBucketsCommand({})), (err: Error) => {
        assert.equal(err.name, 'SignatureDoesNotMatch');
        assert.match(err.message, /region/);
        return true;
      });
      await assert.rejects(sqs.send(new ListQueuesCommand({})), (err: Error) => {
        assert.match(err.name, /SignatureDoesNotMatch/);
        return true;
      });
    } finally {
      lambda.destroy();
      s3.destroy();
      sqs.destroy();
    }
  });

  test('Invoke with UNSIGNED-PAYLOAD is refused; the same body signed is accepted', async () => {
    await t.deployFiles({
      'nimbus.yml': 'app: unsig\nfunctions:\n  echo:\n    handler: index.handler\n    runtime: nodejs\n',
      'index.mjs': 'export const handler = async (e) => e;\n',
    });
    const path = '/2015-03-31/functions/unsig-echo/invocations';
    const unsigned = await send({
      method: 'POST',
      path,
      body: '{"a":1}',
      headers: { 'x-amz-content-sha256': 'UNSIGNED-PAYLOAD' },
      applyChecksum: false,
    });
    assert.equal(unsigned.status, 403, unsigned.body);
    assert.equal(unsigned.errorType, 'InvalidSignatureException');
    assert.match(unsigned.body, /UNSIGNED-PAYLOAD.*not accepted by lambda/);
    const streaming = await send({
      method: 'POST',
      path,
      body: '{"a":1}',
      headers: { 'x-amz-content-sha256': 'STREAMING-UNSIGNED-PAYLOAD-TRAILER' },
      applyChecksum: false,
    });
    assert.equal(streaming.status, 403, streaming.body);
    const signed = await send({ method: 'POST', path, body: '{"a":1}' });
    assert.equal(signed.status, 200, signed.body);
    assert.equal(signed.body, '{"a":1}');
  });

  test('an unknown access key id is answered exactly as a wrong secret', async () => {
    const wrongSecret = await send({ path: '/2015-03-31/functions', secretAccessKey: 'not-the-secret' });
    const unknownKey = await send({
      path: '/2015-03-31/functions',
      accessKeyId: 'AKNBAAAAAAAAAAAAAAAA',
      secretAccessKey: 'not-the-secret',
    });
    assert.equal(wrongSecret.status, 403);
    assert.equal(wrongSecret.errorType, 'InvalidSignatureException');
    assert.deepEqual(unknownKey, wrongSecret);

    for (const service of ['s3', 'sqs'] as const) {
      const errorOf = async (accessKeyId: string) => {
        const common = {
          endpoint: t.url,
          region: 'us-east-1',
          credentials: { accessKeyId, secretAccessKey: 'not-the-secret' },
          maxAttempts: 1,
        };
        const client =
          service === 's3' ? new S3Client({ ...common, forcePathStyle: true }) : new SQSClient(common);
        try {
          await (service === 's3'
            ? (client as S3Client).send(new ListBucketsCommand({}))
            : (client as SQSClient).send(new ListQueuesCommand({})));
          assert.fail(`${service} accepted a wrong secret`);
        } catch (err) {
          const e = err as Error & { $metadata?: { httpStatusCode?: number } };
          return { name: e.name, message: e.message, status: e.$metadata?.httpStatusCode };
        } finally {
          client.destroy();
        }
      };
      const known = await errorOf(t.credentials.accessKeyId);
      const unknown = await errorOf('AKNBAAAAAAAAAAAAAAAA');
      assert.equal(known.name, 'SignatureDoesNotMatch', `${service}: ${known.message}`);
      assert.deepEqual(unknown, known, service);
    }
  });
});
