// Recursive loop detection with real deployed functions: a function that calls itself through
// the SDK is stopped at its 17th run with RecursiveInvocationException; the AWS SDK's trace
// header is honoured on the Lambda API; a queue trigger that feeds its own queue is stopped
// after 16 rounds and the message dead-lettered; ordinary chains and fan-outs are untouched.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { InvokeCommand } from '@aws-sdk/client-lambda';
import { lineageHash } from '../../src/invoke/recursion-guard.js';
import { installLeakGuard } from '../helpers/leak-guard.js';
import { forEachStore } from '../helpers/test-stores.js';
import { startTestServer, type TestServer } from '../helpers/test-server.js';

/** Runaway stop for the unfixed platform: without a guard the loops below end here instead. */
const RUNAWAY = 30;

const APP = {
  'nimbus.yml': `app: rec
functions:
  loop:
    handler: index.loop
    timeout: 60
    maxConcurrency: ${RUNAWAY + 5}
  allowed:
    handler: index.allowed
    timeout: 60
    maxConcurrency: ${RUNAWAY + 5}
    recursiveLoop: Allow
  a: { handler: index.a, timeout: 30 }
  b: { handler: index.b, timeout: 30 }
  c: { handler: index.c, timeout: 30 }
  fanout: { handler: index.fanout, timeout: 60 }
  chainer:
    handler: index.chainer
    timeout: 30
    maximumRetryAttempts: 0
    destinations: { onFailure: queue:async-failed }
  feeder:
    handler: index.feeder
    timeout: 30
    events:
      - queue: { queue: loopq, batchSize: 1 }
resources:
  queues:
    loopq: { visibilityTimeout: 30, deadLetter: { queue: loopq-dlq, maxReceiveCount: 5 } }
    async-failed: {}
`,
  'index.mjs': `
import { functions, queues } from 'nimbus/sdk';
const self = (name) => async (event) => {
  const depth = event.depth ?? 1;
  if (depth >= ${RUNAWAY}) return { runaway: depth };
  try {
    return await functions.invoke(name, { depth: depth + 1, stopAt: event.stopAt });
  } catch (err) {
    return { stoppedAt: depth + 1, code: err.code, status: err.status };
  }
};
export const loop = self('loop');
export const allowed = async (event) => {
  const depth = event.depth ?? 1;
  if (depth >= 20) return { reached: depth };
  return functions.invoke('allowed', { depth: depth + 1 });
};
export const a = async () => ({ a: await functions.invoke('b', {}) });
export const b = async () => ({ b: await functions.invoke('c', {}) });
export const c = async () => 'c';
export const fanout = async () => {
  const out = [];
  for (let i = 0; i < 20; i++) out.push(await functions.invoke('c', {}));
  return out.length;
};
export const chainer = async (event) => {
  console.log('HOP ' + event.n);
  if (event.n < ${RUNAWAY}) await functions.invokeAsync('chainer', { n: event.n + 1 });
  return {};
};
export const feeder = async (event) => {
  for (const r of event.Records) {
    const n = Number(r.body);
    console.log('ROUND ' + n);
    if (n < ${RUNAWAY}) await queues.send('loopq', String(n + 1));
  }
  return {};
};
`,
};

async function invoke(t: TestServer, name: string, payload: unknown): Promise<unknown> {
  const res = await t.client.invoke(name, { payload: JSON.stringify(payload) });
  assert.equal(res.kind, 'sync');
  if (res.kind !== 'sync') return undefined;
  assert.equal(res.functionError, undefined, res.body);
  return JSON.parse(res.body) as unknown;
}

async function logLines(t: TestServer, fn: string): Promise<string[]> {
  const res = await t.fetchV1(`/v1/functions/${fn}/logs?limit=10000`);
  const { lines } = (await res.json()) as { lines: Array<{ message: string }> };
  return lines.map((l) => l.message);
}

installLeakGuard();
forEachStore((_name, open) => {
  let t: TestServer;
  before(async () => {
    t = await startTestServer({ store: await open() });
    await t.deployFiles(APP);
  });
  after(() => t.close());

  test('a function calling itself through the SDK is stopped at its 17th run', async () => {
    const out = await invoke(t, 'rec-loop', {});
    assert.deepEqual(out, { stoppedAt: 17, code: 'RecursiveInvocationException', status: 400 });
    const lines = await logLines(t, 'rec-loop');
    assert.ok(
      lines.some((l) => l.includes('recursive loop detected: rec-loop ran 16 times')),
      'the stop is logged to the function',
    );
  });

  test('recursiveLoop: Allow lets an intended loop run past 16', async () => {
    assert.deepEqual(await invoke(t, 'rec-allowed', {}), { reached: 20 });
  });

  test('a chain of three functions and a 20-call fan-out are not loops', async () => {
    assert.deepEqual(await invoke(t, 'rec-a', {}), { a: { b: 'c' } });
    assert.equal(await invoke(t, 'rec-fanout', {}), 20);
  });

  test("the Lambda API honours the AWS SDK's trace header (its recursion-detection middleware)", async () => {
    const saved = { name: process.env.AWS_LAMBDA_FUNCTION_NAME, trace: process.env._X_AMZN_TRACE_ID };
    // As inside a Lambda function 16 runs deep: the AWS SDK copies _X_AMZN_TRACE_ID into X-Amzn-Trace-Id.
    process.env.AWS_LAMBDA_FUNCTION_NAME = 'rec-c';
    process.env._X_AMZN_TRACE_ID = `Root=1-5759e988-bd862e3fe1be46a994272793;Sampled=0;Lineage=${lineageHash('rec-c')}:16`;
    try {
      await assert.rejects(
        t.lambda.send(new InvokeCommand({ FunctionName: 'rec-c', Payload: Buffer.from('{}') })),
        {
          name: 'RecursiveInvocationException',
        },
      );
      process.env._X_AMZN_TRACE_ID = `Root=1-5759e988-bd862e3fe1be46a994272793;Sampled=0;Lineage=${lineageHash('rec-c')}:15`;
      const ok = await t.lambda.send(
        new InvokeCommand({ FunctionName: 'rec-c', Payload: Buffer.from('{}') }),
      );
      assert.equal(Buffer.from(ok.Payload!).toString(), '"c"');
    } finally {
      for (const [key, value] of [
        ['AWS_LAMBDA_FUNCTION_NAME', saved.name],
        ['_X_AMZN_TRACE_ID', saved.trace],
      ] as const) {
        if (value === undefined) delete process.env[key];
        else process.env[key] = value;
      }
    }
  });

  test('a queue trigger feeding its own queue is stopped after 16 rounds; the message is dead-lettered', async () => {
    const sent = await t.fetchV1('/v1/queues/loopq/messages', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ body: '1' }),
    });
    assert.equal(sent.status, 200, await sent.text());
    let dead: Array<{ body: string }> = [];
    const deadline = Date.now() + 60_000;
    while (dead.length === 0 && Date.now() < deadline) {
      const res = await t.fetchV1('/v1/queues/loopq-dlq/receive', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ maxMessages: 10, waitTimeSeconds: 1 }),
      });
      dead = ((await res.json()) as { messages: Array<{ body: string }> }).messages;
      if ((await logLines(t, 'rec-feeder')).some((l) => l.includes(`ROUND ${RUNAWAY}`))) break;
    }
    // As below: wait for the last rounds' batched log lines before counting.
    const logged = Date.now() + 10_000;
    const roundCount = async () =>
      (await logLines(t, 'rec-feeder')).filter((l) => /ROUND \d+/.test(l)).length;
    while ((await roundCount()) < 16 && Date.now() < logged) await new Promise((r) => setTimeout(r, 100));
    const rounds = (await logLines(t, 'rec-feeder')).flatMap((l) => /ROUND (\d+)/.exec(l)?.[1] ?? []);
    assert.deepEqual(
      rounds.map(Number).sort((x, y) => x - y),
      Array.from({ length: 16 }, (_, i) => i + 1),
      'rounds 1-16 ran, the 17th did not',
    );
    assert.deepEqual(
      dead.map((m) => m.body),
      ['17'],
      "the 17th round's message went to the dead-letter queue",
    );
  });

  test('an async invocation chain of one function is dropped at its 17th run, to the on-failure destination', async () => {
    const accepted = await t.client.invoke('rec-chainer', { payload: JSON.stringify({ n: 1 }), async: true });
    assert.equal(accepted.kind, 'async');
    let failed: Array<{ body: string }> = [];
    const deadline = Date.now() + 60_000;
    while (failed.length === 0 && Date.now() < deadline) {
      const res = await t.fetchV1('/v1/queues/async-failed/receive', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ maxMessages: 10, waitTimeSeconds: 1 }),
      });
      failed = ((await res.json()) as { messages: Array<{ body: string }> }).messages;
      if ((await logLines(t, 'rec-chainer')).some((l) => l.includes(`HOP ${RUNAWAY}`))) break;
    }
    // Log lines are stored in batches (every 200 ms, log-sink.ts): the on-failure record can
    // arrive before the last hops' lines do, so wait for them before counting.
    const logged = Date.now() + 10_000;
    const hopCount = async () => (await logLines(t, 'rec-chainer')).filter((l) => /HOP \d+/.test(l)).length;
    while ((await hopCount()) < 16 && Date.now() < logged) await new Promise((r) => setTimeout(r, 100));
    const hops = (await logLines(t, 'rec-chainer')).flatMap((l) => /HOP (\d+)/.exec(l)?.[1] ?? []);
    assert.deepEqual(
      hops.map(Number).sort((x, y) => x - y),
      Array.from({ length: 16 }, (_, i) => i + 1),
      'hops 1-16 ran, the 17th did not',
    );
    assert.equal(failed.length, 1);
    const record = JSON.parse(failed[0]!.body) as {
      requestPayload: unknown;
      responsePayload: { errorType: string };
    };
    assert.deepEqual(record.requestPayload, { n: 17 });
    assert.equal(record.responsePayload.errorType, 'RecursiveInvocationException');
  });
});
