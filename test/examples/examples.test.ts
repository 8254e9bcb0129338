// Every app in examples/ deploys and answers through the AWS SDK, sandboxed when bwrap is present.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { InvokeCommand } from '@aws-sdk/client-lambda';
import { fileURLToPath } from 'node:url';
import { installLeakGuard } from '../helpers/leak-guard.js';
import { startTestServer, type TestServer } from '../helpers/test-server.js';

const example = (name: string) => fileURLToPath(new URL(`../../examples/${name}`, import.meta.url));

let t: TestServer;
before(async () => {
  t = await startTestServer({ prewarm: { nodejs: 1, python: 1, provided: 1 } });
});
after(() => t.close());
// Registered after the cleanup hook: top-level `after` hooks run in registration order.
installLeakGuard();

async function invoke(fn: string, event: unknown): Promise<Record<string, unknown>> {
  const res = await t.lambda.send(
    new InvokeCommand({ FunctionName: fn, Payload: Buffer.from(JSON.stringify(event)), LogType: 'Tail' }),
  );
  assert.equal(res.FunctionError, undefined, Buffer.from(res.Payload ?? []).toString());
  return JSON.parse(Buffer.from(res.Payload ?? []).toString()) as Record<string, unknown>;
}

test('hello-js', async () => {
  await t.deploy(example('hello-js'));
  const out = await invoke('hello-js-hello', { name: 'Ada' });
  assert.equal(out.message, 'Hello, Ada!');
  assert.ok((out.remainingMs as number) > 0 && (out.remainingMs as number) <= 3000);
});

test('hello-ts (bundled with esbuild, imports a local module)', async () => {
  await t.deploy(example('hello-ts'));
  const out = await invoke('hello-ts-hello', { name: 'Ada' });
  assert.equal(out.message, 'Hello, Ada!');
  assert.match(String(out.at), /^\d{4}-\d\d-\d\dT/);
});

test('hello-python', async () => {
  await t.deploy(example('hello-python'));
  const out = await invoke('hello-python-hello', { name: 'Ada' });
  assert.equal(out.message, 'Hello, Ada!');
  assert.equal(typeof out.requestId, 'string');
});

test('custom-runtime (provided, a Python bootstrap speaking the Runtime API)', async () => {
  await t.deploy(example('custom-runtime'));
  const first = await invoke('custom-runtime-echo', { say: 'hi' });
  assert.deepEqual(first, { echo: { say: 'hi' }, handler: 'function.handler', runtime: 'provided' });
  const second = await invoke('custom-runtime-echo', { say: 'again' });
  assert.deepEqual(second.echo, { say: 'again' }, 'the bootstrap loop serves a second event warm');
});
