// Table change streams when functions fail, on both stores: batchItemFailures checkpoint part
// of a batch, maximumRetryAttempts skips a poison record, bisect isolates it, removing the app
// removes its trigger, and on PostgreSQL two nodes deliver each record once, the second taking
// over when the first stops.
import { test } from 'node:test';
import assert from 'node:assert/strict';

import type { Store } from '../../../src/store/store.js';
import { installLeakGuard } from '../../helpers/leak-guard.js';
import { startTestServer, startNodeOn } from '../../helpers/test-server.js';
import type { TestServer } from '../../helpers/test-server.js';
import { forEachStore } from '../../helpers/test-stores.js';

installLeakGuard();

/** Logs every batch it is given (as ids), then fails or reports as MODE says. */
const handler = `
const reported = new Set();
exports.sink = async (event) => {
  const ids = event.Records.map((r) => r.dynamodb.Keys.id.S);
  console.log('BATCH ' + JSON.stringify(ids));
  if (process.env.MODE === 'partial') {
    const bad = event.Records.find((r) => r.dynamodb.NewImage && r.dynamodb.NewImage.bad && !reported.has(r.dynamodb.SequenceNumber));
    if (bad) {
      reported.add(bad.dynamodb.SequenceNumber);
      return { batchItemFailures: [{ itemIdentifier: bad.dynamodb.SequenceNumber }] };
    }
    return { batchItemFailures: [] };
  }
  if (event.Records.some((r) => r.dynamodb.NewImage && r.dynamodb.NewImage.poison)) throw new Error('poison record');
  return {};
};
`;

function app(name: string, table: string, options: string, mode = ''): Record<string, string> {
  return {
    'nimbus.yml': `app: ${name}
functions:
  sink:
    handler: index.sink
    runtime: nodejs
    environment:
      MODE: "${mode}"
    events:
      - table: { table: ${table}, startingPosition: TRIM_HORIZON${options} }
`,
    'index.js': handler,
  };
}

async function attempted(store: Store, fn: string): Promise<string[][]> {
  const lines = await store.logs.query({ functionName: fn, limit: 10_000 });
  return lines
    .filter((l) => l.message.includes('BATCH '))
    .map((l) => JSON.parse(l.message.slice(l.message.indexOf('BATCH ') + 6)) as string[]);
}

async function waitFor(
  store: Store,
  fn: string,
  done: (batches: string[][]) => boolean,
): Promise<string[][]> {
  for (let i = 0; i < 300; i++) {
    const got = await attempted(store, fn);
    if (done(got)) {
      // Anything wrongly delivered after the expected end has time to show up.
      await new Promise((r) => setTimeout(r, 400));
      return attempted(store, fn);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`${fn}: ${JSON.stringify(await attempted(store, fn))}`);
}

/** A table with its stream on and items written before any trigger exists. */
async function tableWith(t: TestServer, table: string, items: object[]): Promise<void> {
  let res = await t.fetchV1('/v1/tables', {
    method: 'POST',
    body: JSON.stringify({ name: table, partitionKey: 'id', stream: true }),
  });
  assert.equal(res.status, 201, await res.text());
  for (const item of items) {
    res = await t.fetchV1(`/v1/tables/${table}/items`, { method: 'PUT', body: JSON.stringify({ item }) });
    assert.equal(res.status, 200, await res.text());
  }
}

const last = (b: string[][]) => b[b.length - 1] ?? [];

forEachStore((_name, open, stores) => {
  test('batchItemFailures checkpoints the records before the failed one; removing the app removes the trigger', async () => {
    const store = await open();
    const t = await startTestServer({ store });
    try {
      await tableWith(t, 'partial', [{ id: 'a' }, { id: 'b', bad: true }, { id: 'c' }]);
      await t.deployFiles(app('partial', 'partial', ', batchSize: 10', 'partial'));
      const got = await waitFor(store, 'partial-sink', (b) => b.length >= 2);
      assert.deepEqual(got, [
        ['a', 'b', 'c'],
        ['b', 'c'],
      ]);
      assert.equal((await store.documents.listTriggers()).length, 1);
      const res = await t.fetchV1('/v1/apps/partial', { method: 'DELETE' });
      assert.equal(res.status, 200);
      assert.deepEqual(await store.documents.listTriggers(), []);
    } finally {
      await t.close();
    }
  });

  test('maximumRetryAttempts: a poison record is retried, then skipped, and the rest flows', async () => {
    const store = await open();
    const t = await startTestServer({ store });
    try {
      await tableWith(t, 'poison', [{ id: 'p', poison: true }, { id: 'q' }]);
      await t.deployFiles(app('poison', 'poison', ', batchSize: 1, maximumRetryAttempts: 1'));
      const got = await waitFor(store, 'poison-sink', (b) => last(b).includes('q'));
      assert.deepEqual(got, [['p'], ['p'], ['q']]);
    } finally {
      await t.close();
    }
  });

  test('bisectBatchOnFunctionError halves a failing batch down to the bad record', async () => {
    const store = await open();
    const t = await startTestServer({ store });
    try {
      await tableWith(t, 'bisect', [{ id: 'a' }, { id: 'p', poison: true }, { id: 'b' }, { id: 'c' }]);
      await t.deployFiles(
        app('bisect', 'bisect', ', batchSize: 4, maximumRetryAttempts: 0, bisectBatchOnFunctionError: true'),
      );
      const got = await waitFor(store, 'bisect-sink', (b) => last(b).includes('c'));
      assert.deepEqual(got, [
        ['a', 'p', 'b', 'c'],
        ['a', 'p'],
        ['a'],
        ['p', 'b', 'c'],
        ['p', 'b'],
        ['p'],
        ['b', 'c'],
      ]);
    } finally {
      await t.close();
    }
  });

  test('two nodes on one database: each record is delivered once, in order', async (ctx) => {
    const target = stores.target();
    const storeA = await stores.openAt(target);
    if (!storeA.capabilities.advisoryLocks) {
      ctx.skip('one node per database without advisory locks (SQLite)');
      return;
    }
    const a = await startTestServer({ store: storeA });
    const storeB = await stores.openAt(target);
    const b = await startNodeOn(storeB);
    try {
      await tableWith(a, 'shared', []);
      await a.deployFiles(app('shared', 'shared', ', batchSize: 2'));
      const ids = Array.from({ length: 8 }, (_, i) => `k${i}`);
      for (const [i, id] of ids.entries()) {
        if (i % 2 === 0) await a.server.platform.tables.putItem('shared', { id });
        else await b.platform.tables.putItem('shared', { id });
      }
      const got = await waitFor(storeA, 'shared-sink', (x) => x.flat().length >= ids.length);
      assert.deepEqual(got.flat(), ids);
      // The leader goes away: the other node takes the pollers over (at its next resync, <= 5 s)
      // and continues from the stored checkpoint.
      await a.close();
      await b.platform.tables.putItem('shared', { id: 'after' });
      const after = await waitFor(storeB, 'shared-sink', (x) => x.flat().includes('after'));
      assert.deepEqual(after.flat(), [...ids, 'after']);
    } finally {
      await b.close();
      await a.close();
    }
  });
});
