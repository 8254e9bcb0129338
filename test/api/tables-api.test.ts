// The /v1 tables routes and deploys of tables through a real server on both stores: create,
// describe, items, conditions, query/scan pages, error codes, and key schema checks on deploy.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { installLeakGuard } from '../helpers/leak-guard.js';
import { startTestServer } from '../helpers/test-server.js';
import type { TestServer } from '../helpers/test-server.js';
import { forEachStore } from '../helpers/test-stores.js';

installLeakGuard();

async function call(
  t: TestServer,
  method: string,
  path: string,
  body?: unknown,
): Promise<{ status: number; json: Record<string, unknown> }> {
  const res = await t.fetchV1(path, {
    method,
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await res.text();
  return { status: res.status, json: text === '' ? {} : (JSON.parse(text) as Record<string, unknown>) };
}

const errorCode = (r: { json: Record<string, unknown> }) =>
  (r.json.code ??
    (r.json.error as { code?: string } | undefined)?.code ??
    r.json.__type ??
    r.json.errorType) as string;

forEachStore((_name, open) => {
  test('/v1/tables: create, describe, put/get/update/delete, query, scan, errors', async () => {
    const t = await startTestServer({ store: await open() });
    try {
      let r = await call(t, 'POST', '/v1/tables', {
        name: 'results',
        partitionKey: 'id',
        sortKey: { name: 'ts', type: 'number' },
      });
      assert.equal(r.status, 201, JSON.stringify(r.json));
      assert.deepEqual(r.json.sortKey, { name: 'ts', type: 'number' });
      r = await call(t, 'POST', '/v1/tables', { name: 'results', partitionKey: 'id' });
      assert.equal(r.status, 409);
      r = await call(t, 'GET', '/v1/tables');
      assert.deepEqual(
        (r.json.tables as Array<{ name: string }>).map((x) => x.name),
        ['results'],
      );

      for (const ts of [3, 1, 2]) {
        r = await call(t, 'PUT', '/v1/tables/results/items', { item: { id: 'r1', ts, v: `v${ts}` } });
        assert.equal(r.status, 200, JSON.stringify(r.json));
      }
      r = await call(t, 'PUT', '/v1/tables/results/items', {
        item: { id: 'r1', ts: 1, v: 'again' },
        condition: 'attribute_not_exists(id)',
      });
      assert.equal(r.status, 400);
      assert.equal(errorCode(r), 'ConditionalCheckFailedException');
      r = await call(t, 'PUT', '/v1/tables/results/items', {
        item: { id: 'r1', ts: 1, v: 'new' },
        returnOld: true,
      });
      assert.deepEqual(r.json.oldItem, { id: 'r1', ts: 1, v: 'v1' });
      r = await call(t, 'POST', '/v1/tables/results/items/get', { key: { id: 'r1', ts: 1 } });
      assert.deepEqual(r.json.item, { id: 'r1', ts: 1, v: 'new' });
      r = await call(t, 'POST', '/v1/tables/results/items/get', { key: { id: 'r1', ts: 99 } });
      assert.equal(r.json.item, null);
      r = await call(t, 'POST', '/v1/tables/results/items/update', {
        key: { id: 'r1', ts: 2 },
        update: { set: { 'a..b': 1 } },
      });
      assert.equal(r.status, 400, 'a malformed document path');
      r = await call(t, 'POST', '/v1/tables/results/items/update', {
        key: { id: 'r1', ts: 2 },
        update: { add: { hits: 1 } },
        condition: 'v = :v',
        values: { ':v': 'v2' },
      });
      assert.deepEqual(r.json.item, { id: 'r1', ts: 2, v: 'v2', hits: 1 });
      r = await call(t, 'POST', '/v1/tables/results/query', {
        partition: 'r1',
        sort: { between: [2, 3] },
        scanForward: false,
      });
      assert.deepEqual(
        (r.json.items as Array<{ ts: number }>).map((i) => i.ts),
        [3, 2],
      );
      r = await call(t, 'POST', '/v1/tables/results/query', { partition: 'r1', limit: 2 });
      assert.deepEqual(r.json.lastEvaluatedKey, { id: 'r1', ts: 2 });
      r = await call(t, 'POST', '/v1/tables/results/query', { partition: 'r1', cursor: r.json.cursor });
      assert.deepEqual(
        (r.json.items as Array<{ ts: number }>).map((i) => i.ts),
        [3],
      );
      r = await call(t, 'POST', '/v1/tables/results/scan', { limit: 10 });
      assert.equal(r.json.count, 3);
      r = await call(t, 'POST', '/v1/tables/results/items/delete', {
        key: { id: 'r1', ts: 3 },
        returnOld: true,
      });
      assert.deepEqual(r.json.oldItem, { id: 'r1', ts: 3, v: 'v3' });

      r = await call(t, 'PUT', '/v1/tables/results/items', { item: { id: 'r1', ts: 'x' } });
      assert.equal(r.status, 400);
      assert.equal(errorCode(r), 'ValidationException');
      assert.match(JSON.stringify(r.json), /sort key 'ts' of table 'results'/);
      r = await call(t, 'PUT', '/v1/tables/missing/items', { item: { id: 'a' } });
      assert.equal(r.status, 404);
      r = await call(t, 'POST', '/v1/tables/results/query', { partition: 'r1', sort: { nope: 1 } });
      assert.equal(r.status, 400);
      r = await call(t, 'DELETE', '/v1/tables/results');
      assert.equal(r.status, 204);
      r = await call(t, 'GET', '/v1/tables/results');
      assert.equal(r.status, 404);
    } finally {
      await t.close();
    }
  });

  test('deploy: declared tables are created, keys cannot change, triggers need a table', async () => {
    const t = await startTestServer({ store: await open() });
    try {
      const yml = (tables: string, events = '') => `app: decl
functions:
  fn:
    handler: index.handler
    runtime: nodejs
${events}
resources:
  tables:
${tables}
`;
      const code = 'exports.handler = async () => ({});';
      await t.deployFiles({
        'nimbus.yml': yml('    results: { partitionKey: id, sortKey: { name: ts, type: number } }'),
        'index.js': code,
      });
      const r = await call(t, 'GET', '/v1/tables/results');
      assert.equal(r.status, 200);
      assert.deepEqual(r.json.partitionKey, { name: 'id', type: 'string' });
      assert.deepEqual(r.json.sortKey, { name: 'ts', type: 'number' });
      assert.equal(r.json.app, 'decl');
      await assert.rejects(
        t.deployFiles({ 'nimbus.yml': yml('    results: { partitionKey: id }'), 'index.js': code }),
        /resources\.tables\.results: the table exists with partition key id \(string\) and sort key ts \(number\); keys can't change/,
      );
      await assert.rejects(
        t.deployFiles({
          'nimbus.yml': yml(
            '    results: { partitionKey: id, sortKey: ts:number }',
            '    events:\n      - table: nowhere',
          ),
          'index.js': code,
        }),
        /functions\.fn\.events\[0\]\.table: table 'nowhere' does not exist/,
      );
      await assert.rejects(
        t.deployFiles({
          'nimbus.yml': yml(
            '    results: { partitionKey: id, sortKey: ts:number }',
            '    events:\n      - table: { table: results, batchSize: 0 }',
          ),
          'index.js': code,
        }),
        /batchSize must be an integer from 1 to 10000/,
      );
      // Serverless's stream event maps to the table by its ARN.
      await t.deployFiles({
        'nimbus.yml': yml(
          '    results: { partitionKey: id, sortKey: ts:number }',
          '    events:\n      - stream: { type: dynamodb, arn: "arn:aws:dynamodb:local:000000000000:table/results/stream/x" }',
        ),
        'index.js': code,
      });
      const desc = await call(t, 'GET', '/v1/tables/results');
      assert.equal((desc.json.stream as { enabled: boolean }).enabled, true);
    } finally {
      await t.close();
    }
  });
});
