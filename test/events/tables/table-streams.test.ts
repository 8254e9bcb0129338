// Table change streams through a real server on both stores: a deployed function receives
// INSERT/MODIFY/REMOVE with typed old/new images in order across batches, a failing batch is
// retried in order, and the checkpoint survives a restart with nothing delivered twice.
import { test } from 'node:test';
import assert from 'node:assert/strict';

import type { Store } from '../../../src/store/store.js';
import { installLeakGuard } from '../../helpers/leak-guard.js';
import { startTestServer, startNodeOn } from '../../helpers/test-server.js';
import type { TestServer } from '../../helpers/test-server.js';
import { forEachStore } from '../../helpers/test-stores.js';

installLeakGuard();

/** Each batch is logged as one line; a flaky function fails the first batch it sees once. */
const handler = `
let calls = 0;
exports.sink = async (event) => {
  calls++;
  if (process.env.FAIL_FIRST === '1' && calls === 1) throw new Error('first batch fails');
  console.log('BATCH ' + JSON.stringify(event.Records));
  return {};
};
`;

function app(name: string, table: string, options: string, failFirst = false): Record<string, string> {
  return {
    'nimbus.yml': `app: ${name}
functions:
  sink:
    handler: index.sink
    runtime: nodejs
    environment:
      FAIL_FIRST: "${failFirst ? '1' : '0'}"
    events:
      - table: { table: ${table}${options} }
resources:
  tables:
    ${table}: { partitionKey: id }
`,
    'index.js': handler,
  };
}

interface DeliveredRecord {
  eventName: string;
  eventSource: string;
  eventVersion: string;
  eventSourceARN: string;
  dynamodb: {
    Keys: Record<string, unknown>;
    NewImage?: Record<string, unknown>;
    OldImage?: Record<string, unknown>;
    SequenceNumber: string;
    StreamViewType: string;
  };
}

/** Batches the function logged, in log order. */
async function batches(store: Store, fn: string): Promise<DeliveredRecord[][]> {
  const lines = await store.logs.query({ functionName: fn, limit: 10_000 });
  return lines
    .filter((l) => l.message.includes('BATCH '))
    .map((l) => JSON.parse(l.message.slice(l.message.indexOf('BATCH ') + 6)) as DeliveredRecord[]);
}

async function waitForRecords(store: Store, fn: string, count: number): Promise<DeliveredRecord[][]> {
  for (let i = 0; i < 300; i++) {
    const got = await batches(store, fn);
    if (got.flat().length >= count) return got;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`${fn} did not receive ${count} records: ${JSON.stringify(await batches(store, fn))}`);
}

async function put(t: TestServer, table: string, item: unknown): Promise<void> {
  const res = await t.fetchV1(`/v1/tables/${table}/items`, { method: 'PUT', body: JSON.stringify({ item }) });
  assert.equal(res.status, 200, await res.text());
}

forEachStore((_name, open, stores) => {
  test('a function receives INSERT, MODIFY and REMOVE with typed images, in order across batches', async () => {
    const store = await open();
    const t = await startTestServer({ store });
    try {
      await t.deployFiles(app('streams', 'orders', ', batchSize: 2'));
      await put(t, 'orders', { id: 'a', n: 1, tags: ['x'], m: { ok: true, none: null } });
      await put(t, 'orders', { id: 'a', n: 2 });
      await put(t, 'orders', { id: 'b', n: 3 });
      let res = await t.fetchV1('/v1/tables/orders/items/update', {
        method: 'POST',
        body: JSON.stringify({ key: { id: 'b' }, update: { add: { n: 1 } } }),
      });
      assert.equal(res.status, 200);
      res = await t.fetchV1('/v1/tables/orders/items/delete', {
        method: 'POST',
        body: JSON.stringify({ key: { id: 'a' } }),
      });
      assert.equal(res.status, 200);
      const got = await waitForRecords(store, 'streams-sink', 5);
      assert.ok(
        got.every((b) => b.length <= 2),
        'batches respect batchSize',
      );
      const records = got.flat();
      assert.equal(records.length, 5, 'each record once');
      assert.deepEqual(
        records.map((r) => [r.eventName, r.dynamodb.Keys]),
        [
          ['INSERT', { id: { S: 'a' } }],
          ['MODIFY', { id: { S: 'a' } }],
          ['INSERT', { id: { S: 'b' } }],
          ['MODIFY', { id: { S: 'b' } }],
          ['REMOVE', { id: { S: 'a' } }],
        ],
      );
      const seqs = records.map((r) => r.dynamodb.SequenceNumber);
      assert.deepEqual([...seqs].sort(), seqs, 'sequence numbers increase');
      assert.deepEqual(records[0]!.dynamodb.NewImage, {
        id: { S: 'a' },
        n: { N: '1' },
        tags: { L: [{ S: 'x' }] },
        m: { M: { ok: { BOOL: true }, none: { NULL: true } } },
      });
      assert.equal(records[0]!.dynamodb.OldImage, undefined);
      assert.deepEqual(records[1]!.dynamodb.OldImage?.n, { N: '1' });
      assert.deepEqual(records[1]!.dynamodb.NewImage, { id: { S: 'a' }, n: { N: '2' } });
      assert.deepEqual(records[4]!.dynamodb.OldImage, { id: { S: 'a' }, n: { N: '2' } });
      assert.equal(records[4]!.dynamodb.NewImage, undefined);
      assert.equal(records[0]!.eventSource, 'aws:dynamodb');
      assert.equal(records[0]!.eventVersion, '1.1');
      assert.equal(records[0]!.dynamodb.StreamViewType, 'NEW_AND_OLD_IMAGES');
      assert.match(records[0]!.eventSourceARN, /^arn:aws:dynamodb:[^:]+:\d+:table\/orders\/stream\/\d{4}-/);
      const desc = (await (await t.fetchV1('/v1/tables/orders')).json()) as { stream: { enabled: boolean } };
      assert.equal(desc.stream.enabled, true, 'a trigger turns the stream on');
    } finally {
      await t.close();
    }
  });

  test('a batch that fails once is retried, and order is kept', async () => {
    const store = await open();
    const t = await startTestServer({ store });
    try {
      await t.deployFiles(app('flaky', 'flaky-orders', ', batchSize: 3', true));
      for (let i = 0; i < 7; i++) await put(t, 'flaky-orders', { id: `k${i}`, i });
      const got = await waitForRecords(store, 'flaky-sink', 7);
      const ids = got.flat().map((r) => r.dynamodb.Keys.id);
      assert.deepEqual(
        ids,
        Array.from({ length: 7 }, (_, i) => ({ S: `k${i}` })),
      );
    } finally {
      await t.close();
    }
  });

  test('the checkpoint survives a restart: nothing is delivered twice, nothing is lost', async () => {
    const target = stores.target();
    let store = await stores.openAt(target);
    const t = await startTestServer({ store });
    try {
      await t.deployFiles(app('restart', 'restart-orders', ''));
      await put(t, 'restart-orders', { id: 'one' });
      await put(t, 'restart-orders', { id: 'two' });
      await waitForRecords(store, 'restart-sink', 2);
    } finally {
      await t.close();
      await store.close();
    }
    // The next start: a plain server on the same database (not a fresh test server: the
    // database already has its root credentials).
    store = await stores.openAt(target);
    const next = await startNodeOn(store);
    try {
      // No deploy: the trigger and its checkpoint come from the store.
      await next.platform.tables.putItem('restart-orders', { id: 'three' });
      await waitForRecords(store, 'restart-sink', 3);
      // Give a wrongly rewound poller the time to deliver again before looking.
      await new Promise((r) => setTimeout(r, 300));
      const ids = (await batches(store, 'restart-sink')).flat().map((r) => r.dynamodb.Keys.id);
      assert.deepEqual(ids, [{ S: 'one' }, { S: 'two' }, { S: 'three' }]);
    } finally {
      await next.close();
    }
  });
});
