// Issue 9.3: AWS-signed requests for services or Lambda API versions Nimbus does not serve get an
// AWS-shaped error and never reach a user function (even with a `$default` route), and gateway
// events never carry a Nimbus credential in `Authorization`.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Sha256 } from '@aws-crypto/sha256-js';
import { HttpRequest } from '@smithy/protocol-http';
import { SignatureV4 } from '@smithy/signature-v4';
import {
  GetAccountSettingsCommand,
  InvokeAsyncCommand,
  PutFunctionConcurrencyCommand,
} from '@aws-sdk/client-lambda';
import { installLeakGuard } from '../helpers/leak-guard.js';
import { startTestServer, type TestServer } from '../helpers/test-server.js';

installLeakGuard();

const ECHO = `export const handler = async (event) => ({
  statusCode: 200,
  headers: { 'content-type': 'application/json' },
  body: JSON.stringify({ reachedFunction: true, headers: event.headers, multi: event.multiValueHeaders ?? null }),
});
`;

describe('AWS API traffic and the gateway', () => {
  let t: TestServer;

  before(async () => {
    t = await startTestServer();
    await t.deployFiles({
      'nimbus.yml': [
        'app: catchall',
        'functions:',
        '  echo:',
        '    handler: index.handler',
        '    runtime: nodejs',
        '    events:',
        '      - http: $default',
        '  legacy:',
        '    handler: index.handler',
        '    runtime: nodejs',
        '    events:',
        "      - http: { method: get, path: /legacy, payload: '1.0' }",
        '',
      ].join('\n'),
      'index.mjs': ECHO,
    });
  });
  after(async () => {
    await t.close();
  });

  function invocations(): number {
    const s = t.server.platform.pool.stats();
    return s.coldStarts + s.warmHits;
  }

  async function signedPost(service: string, headers: Record<string, string>, body: string) {
    const url = new URL(t.url);
    const signer = new SignatureV4({
      service,
      region: 'us-east-1',
      credentials: {
        accessKeyId: t.credentials.accessKeyId,
        secretAccessKey: t.credentials.secretAccessKey,
      },
      sha256: Sha256,
    });
    const signed = await signer.sign(
      new HttpRequest({
        method: 'POST',
        protocol: 'http:',
        hostname: url.hostname,
        port: Number(url.port),
        path: '/',
        headers: { host: url.host, ...headers },
        body,
      }),
    );
    const res = await fetch(t.url + '/', {
      method: 'POST',
      headers: signed.headers as Record<string, string>,
      body,
    });
    return { status: res.status, headers: res.headers, text: await res.text() };
  }

  test('the $default route serves unsigned requests (the control)', async () => {
    const res = await fetch(`${t.url}/anything`);
    assert.equal(res.status, 200);
    assert.equal(((await res.json()) as { reachedFunction: boolean }).reachedFunction, true);
  });

  test('DynamoDB (JSON protocol) gets UnknownOperationException, not the function', async () => {
    const before = invocations();
    for (const [service, target] of [['dynamodb', 'DynamoDB_20120810.ListTables']] as const) {
      const r = await signedPost(
        service,
        { 'content-type': 'application/x-amz-json-1.0', 'x-amz-target': target },
        '{}',
      );
      assert.equal(r.status, 400, r.text);
      assert.equal(r.headers.get('x-amzn-errortype'), 'UnknownOperationException');
      const body = JSON.parse(r.text) as { __type: string; message: string };
      assert.equal(body.__type, 'UnknownOperationException');
      assert.match(body.message, new RegExp(`signed for service '${service}'.*Lambda.*S3.*SQS`));
      assert.doesNotMatch(r.text, /reachedFunction/);
    }
    assert.equal(invocations(), before, 'no function was invoked');
  });

  test('Step Functions (scope service states) is served by the Step Functions API, not the function', async () => {
    const before = invocations();
    const r = await signedPost(
      'states',
      { 'content-type': 'application/x-amz-json-1.0', 'x-amz-target': 'AWSStepFunctions.ListStateMachines' },
      '{}',
    );
    assert.equal(r.status, 200, r.text);
    assert.deepEqual(JSON.parse(r.text), { stateMachines: [] });
    const unknown = await signedPost(
      'states',
      { 'content-type': 'application/x-amz-json-1.0', 'x-amz-target': 'AWSStepFunctions.NoSuchAction' },
      '{}',
    );
    assert.equal(unknown.status, 400, unknown.text);
    assert.equal(unknown.headers.get('x-amzn-errortype'), 'UnknownOperationException');
    assert.doesNotMatch(r.text + unknown.text, /reachedFunction/);
    assert.equal(invocations(), before, 'no function was invoked');
  });

  test('SNS (query protocol) gets an XML InvalidAction error, not the function', async () => {
    const before = invocations();
    const r = await signedPost(
      'sns',
      { 'content-type': 'application/x-www-form-urlencoded; charset=utf-8' },
      'Action=ListTopics&Version=2010-03-31',
    );
    assert.equal(r.status, 400, r.text);
    assert.match(r.text, /<ErrorResponse><Error><Type>Sender<\/Type><Code>InvalidAction<\/Code>/);
    assert.match(r.text, /service &apos;sns&apos;/);
    assert.equal(invocations(), before);
  });

  test('Lambda API paths Nimbus does not serve answer UnknownOperationException through the SDK', async () => {
    const before = invocations();
    const expectUnknown = (err: Error & { $metadata?: { httpStatusCode?: number } }) => {
      assert.equal(err.name, 'UnknownOperationException', err.message);
      assert.equal(err.$metadata?.httpStatusCode, 400);
      return true;
    };
    await assert.rejects(t.lambda.send(new GetAccountSettingsCommand({})), expectUnknown);
    await assert.rejects(
      t.lambda.send(new InvokeAsyncCommand({ FunctionName: 'catchall-echo', InvokeArgs: Buffer.from('{}') })),
      expectUnknown,
    );
    await assert.rejects(
      t.lambda.send(
        new PutFunctionConcurrencyCommand({ FunctionName: 'catchall-echo', ReservedConcurrentExecutions: 1 }),
      ),
      expectUnknown,
    );
    assert.equal(invocations(), before);
  });

  test('a presigned-looking query or a SigV4a header is AWS traffic too', async () => {
    const before = invocations();
    const presigned = await fetch(
      `${t.url}/x?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=${t.credentials.accessKeyId}%2F20240101%2Fus-east-1%2Fsns%2Faws4_request&X-Amz-Signature=00`,
    );
    assert.equal(presigned.status, 400);
    assert.doesNotMatch(await presigned.text(), /reachedFunction/);
    const sigv4a = await fetch(`${t.url}/x`, {
      headers: {
        authorization: `AWS4-ECDSA-P256-SHA256 Credential=${t.credentials.accessKeyId}/20240101/sns/aws4_request, SignedHeaders=host, Signature=00`,
      },
    });
    assert.equal(sigv4a.status, 400);
    assert.equal(sigv4a.headers.get('x-amzn-errortype'), 'UnknownOperationException');
    assert.equal(invocations(), before);
  });

  test('gateway events (payload 2.0 and 1.0) never carry a Nimbus credential in Authorization', async () => {
    const jwt = 'Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ1In0.c2ln';
    const appToken = await t.server.platform.auth.appToken('catchall');
    for (const path of ['/anything', '/legacy']) {
      for (const credential of [
        `Bearer ${t.credentials.token}`,
        `bearer ${appToken}`,
        `Bearer ${t.credentials.accessKeyId}:${t.credentials.secretAccessKey}`,
      ]) {
        const res = await fetch(t.url + path, { headers: { authorization: credential } });
        assert.equal(res.status, 200);
        const text = await res.text();
        const seen = JSON.parse(text) as {
          headers: Record<string, string>;
          multi: Record<string, string[]> | null;
        };
        assert.equal(seen.headers.authorization, undefined, `${path}: ${credential.slice(0, 12)}`);
        assert.equal(seen.multi?.authorization, undefined);
        assert.ok(!text.includes(t.credentials.token) && !text.includes(t.credentials.secretAccessKey));
        assert.ok(!text.includes(appToken));
      }
      // A route's own credentials (here a JWT) are passed through as before.
      const res = await fetch(t.url + path, { headers: { authorization: jwt } });
      const seen = (await res.json()) as { headers: Record<string, string> };
      assert.equal(seen.headers.authorization, jwt);
    }
  });
});
