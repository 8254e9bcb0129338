// End to end over a real socket: the AWS SDK's Lambda client against a Nimbus server, on
// every store: Invoke (RequestResponse, Event, DryRun), log tails, function errors, sizes, auth.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  GetFunctionCommand,
  InvokeCommand,
  LambdaClient,
  ListFunctionsCommand,
  ResourceNotFoundException,
} from '@aws-sdk/client-lambda';
import { installLeakGuard } from '../helpers/leak-guard.js';
import { forEachStore } from '../helpers/test-stores.js';
import { startTestServer, type TestServer } from '../helpers/test-server.js';

installLeakGuard();

const APP = {
  'nimbus.yml': `
app: api
functions:
  echo:
    handler: index.echo
    runtime: nodejs
  fail:
    handler: index.fail
    runtime: nodejs
  big:
    handler: index.big
    runtime: nodejs
    memory: 512
  thread:
    handler: index.echo
    runtime: nodejs
    isolation: thread
`,
  'index.mjs': `
export const echo = async (event, context) => {
  console.log('echo called', JSON.stringify(event));
  return { event, requestId: context.awsRequestId, fn: context.functionName, version: context.functionVersion, arn: context.invokedFunctionArn };
};
export const fail = async () => { throw new TypeError('bad thing happened'); };
export const big = async (event) => 'x'.repeat(event.size);
`,
};

const decode = (b: Uint8Array | undefined) => JSON.parse(Buffer.from(b ?? []).toString());

forEachStore((storeName, open) => {
  describe(`Lambda API (${storeName})`, () => {
    let t: TestServer;
    before(async () => {
      t = await startTestServer({ store: await open() });
      await t.deployFiles(APP);
    });
    after(() => t.close());

    test('InvokeCommand returns the result, executed version and request id', async () => {
      const res = await t.lambda.send(
        new InvokeCommand({ FunctionName: 'api-echo', Payload: Buffer.from(JSON.stringify({ a: 1 })) }),
      );
      assert.equal(res.StatusCode, 200);
      assert.equal(res.FunctionError, undefined);
      assert.equal(res.ExecutedVersion, '$LATEST');
      const body = decode(res.Payload);
      assert.deepEqual(body.event, { a: 1 });
      assert.equal(body.fn, 'api-echo');
      assert.equal(body.version, '$LATEST');
      assert.match(body.arn, /^arn:aws:lambda:us-east-1:\d{12}:function:api-echo$/);
      assert.equal(res.$metadata.requestId, body.requestId);
    });

    test('the thread tier answers the same through the SDK', async () => {
      const res = await t.lambda.send(
        new InvokeCommand({ FunctionName: 'api-thread', Payload: Buffer.from('{"t":1}') }),
      );
      assert.deepEqual(decode(res.Payload).event, { t: 1 });
    });

    test('LogType Tail returns the last 4 KB of the log with START/END/REPORT lines', async () => {
      const res = await t.lambda.send(
        new InvokeCommand({
          FunctionName: 'api-echo',
          Payload: Buffer.from('{"hello":"log"}'),
          LogType: 'Tail',
        }),
      );
      const log = Buffer.from(res.LogResult ?? '', 'base64').toString();
      const requestId = decode(res.Payload).requestId;
      assert.match(log, new RegExp(`START RequestId: ${requestId} Version: \\$LATEST`));
      assert.match(log, /echo called \{"hello":"log"\}/);
      assert.match(log, new RegExp(`END RequestId: ${requestId}`));
      assert.match(
        log,
        /REPORT RequestId: .*\tDuration: [\d.]+ ms\tBilled Duration: \d+ ms\tMemory Size: 128 MB\tMax Memory Used: \d+ MB/,
      );
    });

    test('a function error is Unhandled with the Lambda error shape', async () => {
      const res = await t.lambda.send(
        new InvokeCommand({ FunctionName: 'api-fail', Payload: Buffer.from('{}') }),
      );
      assert.equal(res.StatusCode, 200);
      assert.equal(res.FunctionError, 'Unhandled');
      const err = decode(res.Payload);
      assert.equal(err.errorType, 'TypeError');
      assert.equal(err.errorMessage, 'bad thing happened');
      assert.ok(Array.isArray(err.trace));
    });

    test('Event invocations are accepted with 202 and run', async () => {
      const res = await t.lambda.send(
        new InvokeCommand({
          FunctionName: 'api-echo',
          InvocationType: 'Event',
          Payload: Buffer.from('{"async":true}'),
        }),
      );
      assert.equal(res.StatusCode, 202);
      const id = res.$metadata.requestId!;
      let status = '';
      for (let i = 0; i < 100 && status !== 'succeeded'; i++) {
        const r = await t.fetchV1(`/v1/invocations/${id}`);
        status = ((await r.json()) as { status: string }).status;
        if (status !== 'succeeded') await new Promise((r) => setTimeout(r, 50));
      }
      assert.equal(status, 'succeeded');
    });

    test('DryRun answers 204 without running', async () => {
      const res = await t.lambda.send(
        new InvokeCommand({ FunctionName: 'api-echo', InvocationType: 'DryRun' }),
      );
      assert.equal(res.StatusCode, 204);
    });

    test('unknown function → ResourceNotFoundException (404)', async () => {
      await assert.rejects(
        t.lambda.send(new InvokeCommand({ FunctionName: 'api-nope', Payload: Buffer.from('{}') })),
        (err: unknown) => err instanceof ResourceNotFoundException && err.$metadata.httpStatusCode === 404,
      );
    });

    test('qualifier forms: name:qualifier, ARN, Qualifier parameter', async () => {
      const publish = await t.fetchV1('/v1/functions/api-echo/versions', { method: 'POST', body: '{}' });
      const { version } = (await publish.json()) as { version: string };
      for (const input of [
        { FunctionName: `api-echo:${version}` },
        { FunctionName: 'api-echo', Qualifier: version },
        { FunctionName: `arn:aws:lambda:us-east-1:000000000000:function:api-echo:${version}` },
      ]) {
        const res = await t.lambda.send(new InvokeCommand({ ...input, Payload: Buffer.from('{}') }));
        assert.equal(res.ExecutedVersion, version, JSON.stringify(input));
      }
    });

    test('malformed JSON → InvalidRequestContentException (400)', async () => {
      await assert.rejects(
        t.lambda.send(new InvokeCommand({ FunctionName: 'api-echo', Payload: Buffer.from('{not json') })),
        (err: { name?: string; $metadata?: { httpStatusCode?: number } }) =>
          err.name === 'InvalidRequestContentException' && err.$metadata?.httpStatusCode === 400,
      );
    });

    test('payload over 6 MB → RequestEntityTooLargeException (413)', async () => {
      const payload = Buffer.from(JSON.stringify({ s: 'x'.repeat(6_300_000) }));
      await assert.rejects(
        t.lambda.send(new InvokeCommand({ FunctionName: 'api-echo', Payload: payload })),
        (err: { name?: string; $metadata?: { httpStatusCode?: number } }) =>
          err.name === 'RequestEntityTooLargeException' && err.$metadata?.httpStatusCode === 413,
      );
    });

    test('response over 6 MB → RequestEntityTooLargeException (413)', async () => {
      await assert.rejects(
        t.lambda.send(
          new InvokeCommand({ FunctionName: 'api-big', Payload: Buffer.from('{"size":6300000}') }),
        ),
        (err: { name?: string; $metadata?: { httpStatusCode?: number } }) =>
          err.name === 'RequestEntityTooLargeException' && err.$metadata?.httpStatusCode === 413,
      );
      // The function and server carry on.
      const ok = await t.lambda.send(
        new InvokeCommand({ FunctionName: 'api-big', Payload: Buffer.from('{"size":10}') }),
      );
      assert.equal(decode(ok.Payload), 'x'.repeat(10));
    });

    test('GetFunction and ListFunctions describe deployed functions', async () => {
      const fn = await t.lambda.send(new GetFunctionCommand({ FunctionName: 'api-echo' }));
      assert.equal(fn.Configuration?.FunctionName, 'api-echo');
      assert.equal(fn.Configuration?.Runtime, 'nodejs20.x');
      assert.equal(fn.Configuration?.MemorySize, 128);
      const list = await t.lambda.send(new ListFunctionsCommand({}));
      assert.deepEqual(list.Functions?.map((f) => f.FunctionName).sort(), [
        'api-big',
        'api-echo',
        'api-fail',
        'api-thread',
      ]);
    });

    test('a wrong secret is refused with InvalidSignatureException; no credentials with 403', async () => {
      const bad = new LambdaClient({
        endpoint: t.url,
        region: 'us-east-1',
        credentials: { accessKeyId: t.credentials.accessKeyId, secretAccessKey: 'wrong'.repeat(8) },
        maxAttempts: 1,
      });
      try {
        await assert.rejects(
          bad.send(new InvokeCommand({ FunctionName: 'api-echo', Payload: Buffer.from('{}') })),
          (err: { name?: string }) => err.name === 'InvalidSignatureException',
        );
      } finally {
        bad.destroy();
      }
      const anon = await fetch(`${t.url}/2015-03-31/functions/api-echo/invocations`, {
        method: 'POST',
        body: '{}',
      });
      assert.equal(anon.status, 403);
      assert.equal(anon.headers.get('x-amzn-errortype'), 'MissingAuthenticationTokenException');
    });
  });
});
