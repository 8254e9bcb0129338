// Durability under SIGKILL, on every store: a stream of async invocations and queue messages is
// sent while the server is killed mid-load; after a restart on the same data, every event that
// was acknowledged (2xx) is processed at least once and none is lost.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import pg from 'pg';
import { readLocalCredentials } from '../../src/auth/credentials.js';
import { ApiClient } from '../../src/cli/api-client.js';
import { deployApp, stopBundling } from '../../src/cli/commands/deploy.js';
import { createOutput } from '../../src/cli/output.js';
import { Spinner } from '../../src/cli/spinner.js';
import { installLeakGuard } from '../helpers/leak-guard.js';
import { NimbusProcesses } from '../helpers/nimbus-process.js';
import { selectedTestStores, testPgUrl } from '../helpers/test-stores.js';

const root = mkdtempSync(join(tmpdir(), 'nimbus-durable-'));
const nodes = new NimbusProcesses();
const schemas: string[] = [];

after(async () => {
  await nodes.killAll();
  await stopBundling();
  rmSync(root, { recursive: true, force: true });
  if (schemas.length > 0) {
    const client = new pg.Client({ connectionString: testPgUrl() });
    await client.connect();
    for (const schema of schemas) await client.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    await client.end();
  }
});
installLeakGuard();

const APP_YML = `app: durable
functions:
  slow:
    handler: index.slow
    maxConcurrency: 4
  worker:
    handler: index.worker
    events:
      - queue: { queue: work, batchSize: 5 }
resources:
  # A short visibility timeout: batches in flight at the kill come back within seconds.
  queues: { work: { visibilityTimeout: 5 }, done: {} }
`;
// The worker records each message it processed in the 'done' queue (durable, so nothing the
// test counts can be lost with the killed process's memory).
const APP_JS = `
const { queues } = require('nimbus/sdk');
exports.slow = async (e) => { await new Promise((r) => setTimeout(r, 20)); return { n: e.n }; };
exports.worker = async (event) => {
  for (const r of event.Records) await queues.send('done', r.body);
};
`;

for (const storeName of selectedTestStores()) {
  test(`${storeName}: acknowledged async invocations and queue messages survive SIGKILL`, async () => {
    const dir = mkdtempSync(join(root, `${storeName}-`));
    const dataDir = join(dir, 'data');
    const appDir = join(dir, 'app');
    let store: string | undefined;
    if (storeName === 'postgres') {
      const schema = `nimbus_durable_${process.pid}_${schemas.length}`;
      schemas.push(schema);
      const client = new pg.Client({ connectionString: testPgUrl() });
      await client.connect();
      await client.query(`CREATE SCHEMA "${schema}"`);
      await client.end();
      const url = new URL(testPgUrl());
      url.searchParams.set('options', `-c search_path=${schema}`);
      store = url.toString();
    }
    mkdirSync(appDir);
    writeFileSync(join(appDir, 'nimbus.yml'), APP_YML);
    writeFileSync(join(appDir, 'index.js'), APP_JS);

    const first = await nodes.start({ dataDir, store });
    const creds = readLocalCredentials(dataDir, {});
    assert.ok(creds?.token, 'the first start wrote credentials.json');
    const client = new ApiClient({ endpoint: first.url, token: creds.token });
    await deployApp(appDir, client, new Spinner(createOutput({ write: () => true } as never, { env: {} })));

    // Two streams at once (async invokes and queue sends); the server is killed while they run.
    const invocations: string[] = [];
    const messages: string[] = [];
    let stop = false;
    const v1 = (url: string, path: string, body: unknown) =>
      fetch(`${url}${path}`, {
        method: 'POST',
        headers: { authorization: `Bearer ${creds.token}`, 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
    const invokeStream = (async () => {
      for (let n = 0; !stop; n++) {
        try {
          const res = await v1(first.url, '/v1/functions/durable-slow/invoke?async=true', { n });
          if (res.status === 202)
            invocations.push(((await res.json()) as { invocationId: string }).invocationId);
        } catch {
          return; // the server is gone: this request was not acknowledged
        }
      }
    })();
    const sendStream = (async () => {
      for (let n = 0; !stop; n++) {
        try {
          const res = await v1(first.url, '/v1/queues/work/messages', { body: `m${n}` });
          if (res.status === 200) messages.push(`m${n}`);
        } catch {
          return;
        }
      }
    })();
    // Kill once a fair amount is acknowledged and still being worked through.
    const deadline = Date.now() + 20_000;
    while ((invocations.length < 100 || messages.length < 100) && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 20));
    }
    await nodes.kill(first.child);
    stop = true;
    await Promise.all([invokeStream, sendStream]);
    assert.ok(invocations.length >= 100 && messages.length >= 100, 'enough events were acknowledged');

    const second = await nodes.start({ dataDir, store });
    const done = new Set<string>();
    const status = new Map<string, string>();
    const until = Date.now() + 60_000;
    while (Date.now() < until) {
      const res = await v1(second.url, '/v1/queues/done/receive', { maxMessages: 10, waitTimeSeconds: 0 });
      const received = ((await res.json()) as { messages: Array<{ body: string; receiptHandle: string }> })
        .messages;
      for (const m of received) done.add(m.body);
      if (received.length > 0) {
        await v1(second.url, '/v1/queues/done/delete', {
          receiptHandles: received.map((m) => m.receiptHandle),
        });
        continue;
      }
      for (const id of invocations) {
        if (status.get(id) === 'succeeded') continue;
        const r = await fetch(`${second.url}/v1/invocations/${id}`, {
          headers: { authorization: `Bearer ${creds.token}` },
        });
        assert.equal(r.status, 200, `invocation ${id} was acknowledged, so it must exist`);
        status.set(id, ((await r.json()) as { status: string }).status);
      }
      if (invocations.every((id) => status.get(id) === 'succeeded') && messages.every((m) => done.has(m)))
        break;
      await new Promise((r) => setTimeout(r, 200));
    }
    const lostInvocations = invocations.filter((id) => status.get(id) !== 'succeeded');
    const lostMessages = messages.filter((m) => !done.has(m));
    assert.deepEqual(
      lostInvocations,
      [],
      `${lostInvocations.length} acknowledged invocations did not complete`,
    );
    assert.deepEqual(lostMessages, [], `${lostMessages.length} acknowledged messages were not processed`);
    await nodes.kill(second.child);
  });
}
