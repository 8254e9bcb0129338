// End to end: the real @aws-sdk/client-lambda signs Invoke calls to a node:http server that verifies them.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { installLeakGuard } from '../helpers/leak-guard.js';
import { AuthService } from '../../src/auth/auth-service.js';
import type { RootCredentials } from '../../src/auth/credentials.js';
import type { SigV4Identity } from '../../src/auth/sigv4-verifier.js';
import { isNimbusError } from '../../src/errors.js';
import { MemoryCredentialStore } from './memory-credential-store.js';

installLeakGuard();

// A describe block, so its after hook closes the server before the file-level leak guard checks.
describe('Lambda Invoke through the AWS SDK', () => {
  let dataDir: string;
  let server: Server;
  let endpoint: string;
  let root: RootCredentials;
  const seen: SigV4Identity[] = [];

  async function readBody(req: IncomingMessage): Promise<Buffer> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    return Buffer.concat(chunks);
  }

  before(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'nimbus-auth-e2e-'));
    const auth = new AuthService(new MemoryCredentialStore(), { dataDir, env: {} });
    const created = await auth.bootstrap();
    assert.ok(created);
    root = created;
    server = createServer((req, res) => {
      void (async () => {
        const body = await readBody(req);
        try {
          const identity = await auth.verifySigV4({
            method: req.method ?? 'GET',
            path: req.url ?? '/',
            headers: req.headers,
            body: body.length > 0 ? body : undefined,
          });
          seen.push(identity);
          res.writeHead(200, { 'content-type': 'application/json', 'x-amz-executed-version': '$LATEST' });
          res.end('"ok"');
        } catch (err) {
          const status = isNimbusError(err) ? err.status : 500;
          const code = isNimbusError(err) ? err.code : 'ServiceException';
          res.writeHead(status, { 'content-type': 'application/json', 'x-amzn-errortype': code });
          res.end(JSON.stringify({ Type: 'User', message: (err as Error).message }));
        }
      })();
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  after(async () => {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
    await rm(dataDir, { recursive: true, force: true });
  });

  function client(secretAccessKey: string): LambdaClient {
    return new LambdaClient({
      endpoint,
      region: 'eu-west-1',
      credentials: { accessKeyId: root.accessKeyId, secretAccessKey },
      maxAttempts: 1,
    });
  }

  test('InvokeCommand signed with the bootstrap credentials is accepted', async () => {
    const lambda = client(root.secretAccessKey);
    try {
      const out = await lambda.send(
        new InvokeCommand({
          FunctionName: 'my app-fn:prod',
          Qualifier: 'prod',
          Payload: new TextEncoder().encode(JSON.stringify({ hello: 'world' })),
        }),
      );
      assert.equal(out.StatusCode, 200);
      assert.equal(out.ExecutedVersion, '$LATEST');
      assert.equal(new TextDecoder().decode(out.Payload), '"ok"');
      const id = seen.at(-1);
      assert.ok(id);
      assert.deepEqual(
        { accessKeyId: id.accessKeyId, region: id.region, service: id.service },
        { accessKeyId: root.accessKeyId, region: 'eu-west-1', service: 'lambda' },
      );
    } finally {
      lambda.destroy();
    }
  });

  test('a wrong secret surfaces as InvalidSignatureException in the SDK', async () => {
    const lambda = client(root.secretAccessKey.slice(1) + 'x');
    try {
      await assert.rejects(
        lambda.send(new InvokeCommand({ FunctionName: 'fn', Payload: new Uint8Array([123, 125]) })),
        (err: Error & { $metadata?: { httpStatusCode?: number } }) => {
          assert.equal(err.name, 'InvalidSignatureException');
          assert.match(err.message, /signature we calculated does not match/);
          assert.equal(err.$metadata?.httpStatusCode, 403);
          return true;
        },
      );
    } finally {
      lambda.destroy();
    }
  });
});
