// TableService on both stores: key order, put/get/update/delete, conditions (and a race), query,
// scan, pagination, size and type errors, and the stream records each write leaves.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { TableService } from '../../../src/services/tables/table-service.js';
import type { ServiceContext } from '../../../src/services/service-context.js';
import type { Store } from '../../../src/store/store.js';
import { installLeakGuard } from '../../helpers/leak-guard.js';
import { forEachStore } from '../../helpers/test-stores.js';

installLeakGuard();

/** A service with no functions to call: these tests never start the stream pollers. */
function serviceOn(store: Store): TableService {
  const ctx: ServiceContext = {
    store,
    dataDir: '/nonexistent',
    invoker: undefined as never,
    enqueueAsync: () => Promise.reject(new Error('not used')),
    region: 'local',
    accountId: '000000000000',
    logger: { info: () => undefined, warn: () => undefined, error: () => undefined },
    onError: (err) => {
      throw err;
    },
  };
  return new TableService(ctx);
}

const code = (c: string) => (err: Error & { code?: string }) => {
  assert.equal(err.code, c, err.message);
  return true;
};

forEachStore((_name, open) => {
  test('number sort keys order numerically, string keys bytewise', async () => {
    const tables = serviceOn(await open());
    await tables.createTable('nums', { partitionKey: 'p', sortKey: { name: 'n', type: 'number' } });
    const numbers = [10, -1.5, 0, 2, -100, 1e-3, 1e21, -1e-9, 3.25, 100];
    for (const n of numbers) await tables.putItem('nums', { p: 'x', n });
    const page = await tables.query('nums', { partition: 'x' });
    assert.deepEqual(
      page.items.map((i) => i.n),
      [...numbers].sort((a, b) => a - b),
    );

    await tables.createTable('strs', { partitionKey: 'p', sortKey: 's' });
    // Bytewise UTF-8 order: uppercase before lowercase, 'é' (C3 A9) after 'z', emoji last.
    const strings = ['b', 'B', 'a', 'é', 'z', 'aa', 'A', '😀', 'Z0'];
    for (const s of strings) await tables.putItem('strs', { p: 'x', s });
    const strPage = await tables.query('strs', { partition: 'x' });
    const bytewise = [...strings].sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
    assert.deepEqual(
      strPage.items.map((i) => i.s),
      bytewise,
    );
  });

  test('put, get, update, delete', async () => {
    const tables = serviceOn(await open());
    const desc = await tables.createTable('users', { partitionKey: 'id' });
    assert.deepEqual(desc.partitionKey, { name: 'id', type: 'string' });
    assert.equal(desc.sortKey, undefined);
    assert.deepEqual((await tables.putItem('users', { id: 'u1', name: 'Ann', visits: 1 })).old, undefined);
    assert.deepEqual(await tables.getItem('users', { id: 'u1' }), { id: 'u1', name: 'Ann', visits: 1 });
    const replaced = await tables.putItem('users', { id: 'u1', name: 'Ann B', visits: 1 });
    assert.deepEqual(replaced.old, { id: 'u1', name: 'Ann', visits: 1 });
    const updated = await tables.updateItem(
      'users',
      { id: 'u1' },
      { set: { address: { city: 'Oslo' } }, add: { visits: 2 }, remove: ['name'] },
    );
    assert.deepEqual(updated, { id: 'u1', visits: 3, address: { city: 'Oslo' } });
    // Update of a missing item creates it from its key.
    assert.deepEqual(await tables.updateItem('users', { id: 'u2' }, { add: { visits: 1 } }), {
      id: 'u2',
      visits: 1,
    });
    assert.deepEqual((await tables.deleteItem('users', { id: 'u1' })).old, updated);
    assert.equal(await tables.getItem('users', { id: 'u1' }), undefined);
    assert.deepEqual((await tables.deleteItem('users', { id: 'u1' })).old, undefined);
    assert.deepEqual(
      (await tables.listTables()).map((t) => t.name),
      ['users'],
    );
    await tables.deleteTable('users');
    await assert.rejects(tables.getItem('users', { id: 'u2' }), code('ResourceNotFoundException'));
  });

  test('conditional writes: each outcome, and nothing written when false', async () => {
    const tables = serviceOn(await open());
    await tables.createTable('cond', { partitionKey: 'id' });
    await tables.putItem('cond', { id: 'a', n: 1 }, { condition: 'attribute_not_exists(id)' });
    await assert.rejects(
      tables.putItem('cond', { id: 'a', n: 2 }, { condition: 'attribute_not_exists(id)' }),
      code('ConditionalCheckFailedException'),
    );
    assert.deepEqual(await tables.getItem('cond', { id: 'a' }), { id: 'a', n: 1 });
    // Optimistic locking with a version attribute.
    await tables.updateItem(
      'cond',
      { id: 'a' },
      { set: { n: 5 } },
      { condition: 'n = :expected', values: { ':expected': 1 } },
    );
    await assert.rejects(
      tables.updateItem(
        'cond',
        { id: 'a' },
        { set: { n: 6 } },
        { condition: 'n = :expected', values: { ':expected': 1 } },
      ),
      code('ConditionalCheckFailedException'),
    );
    await assert.rejects(
      tables.deleteItem(
        'cond',
        { id: 'a' },
        { condition: '#n > :v', names: { '#n': 'n' }, values: { ':v': 5 } },
      ),
      code('ConditionalCheckFailedException'),
    );
    await tables.deleteItem(
      'cond',
      { id: 'a' },
      { condition: '#n >= :v', names: { '#n': 'n' }, values: { ':v': 5 } },
    );
    assert.equal(await tables.getItem('cond', { id: 'a' }), undefined);
    await assert.rejects(
      tables.putItem('cond', { id: 'b' }, { condition: 'n = ' }),
      code('ValidationException'),
    );
  });

  test('race: of many concurrent attribute_not_exists puts exactly one wins', async () => {
    const store = await open();
    const tables = serviceOn(store);
    await tables.createTable('race', { partitionKey: 'id', stream: true });
    const writers = Array.from({ length: 8 }, (_, i) =>
      tables.putItem('race', { id: 'k', writer: i }, { condition: 'attribute_not_exists(id)' }),
    );
    const results = await Promise.allSettled(writers);
    const won = results.filter((r) => r.status === 'fulfilled');
    assert.equal(won.length, 1);
    for (const r of results) {
      if (r.status === 'rejected')
        assert.equal((r.reason as { code: string }).code, 'ConditionalCheckFailedException');
    }
    // The stream holds exactly one INSERT, of the winner: no invented change.
    const records = await store.documents.readStream('race', 0, 100);
    assert.equal(records.length, 1);
    assert.deepEqual(records[0]!.newImage, await tables.getItem('race', { id: 'k' }));
  });

  test('query: between, begins_with, comparisons, limit, pagination, reverse, filter', async () => {
    const tables = serviceOn(await open());
    await tables.createTable('events', { partitionKey: 'user', sortKey: 'sk' });
    const sks = ['2026-01-01#a', '2026-01-02#b', '2026-02-01#c', '2026-02-15#d', '2026-03-01#e', 'z'];
    for (const [i, sk] of sks.entries()) await tables.putItem('events', { user: 'u', sk, i });
    await tables.putItem('events', { user: 'other', sk: '2026-02-01#x', i: 99 });
    const q = async (input: Omit<Parameters<TableService['query']>[1], 'partition'>) =>
      (await tables.query('events', { partition: 'u', ...input })).items.map((x) => x.sk);
    assert.deepEqual(await q({ sort: { beginsWith: '2026-02' } }), ['2026-02-01#c', '2026-02-15#d']);
    assert.deepEqual(await q({ sort: { between: ['2026-01-02', '2026-02-15#d'] } }), [
      '2026-01-02#b',
      '2026-02-01#c',
      '2026-02-15#d',
    ]);
    assert.deepEqual(await q({ sort: { lt: '2026-01-02#b' } }), ['2026-01-01#a']);
    assert.deepEqual(await q({ sort: { le: '2026-01-02#b' } }), ['2026-01-01#a', '2026-01-02#b']);
    assert.deepEqual(await q({ sort: { gt: '2026-03-01#e' } }), ['z']);
    assert.deepEqual(await q({ sort: { ge: '2026-03-01#e' } }), ['2026-03-01#e', 'z']);
    assert.deepEqual(await q({ sort: { eq: 'z' } }), ['z']);
    assert.deepEqual(await q({ scanForward: false, limit: 2 }), ['z', '2026-03-01#e']);
    assert.deepEqual(await q({ filter: 'i >= :min', values: { ':min': 4 } }), ['2026-03-01#e', 'z']);

    // Pagination forward and backward, by cursor and by exclusiveStartKey.
    for (const scanForward of [true, false]) {
      const seen: unknown[] = [];
      let cursor: string | undefined;
      let pages = 0;
      do {
        const page = await tables.query('events', { partition: 'u', limit: 4, cursor, scanForward });
        seen.push(...page.items.map((x) => x.sk));
        cursor = page.cursor;
        pages++;
      } while (cursor !== undefined);
      assert.equal(pages, 2);
      assert.deepEqual(seen, scanForward ? sks : [...sks].reverse());
    }
    const first = await tables.query('events', { partition: 'u', limit: 5 });
    assert.deepEqual(first.lastEvaluatedKey, { user: 'u', sk: '2026-03-01#e' });
    const rest = await tables.query('events', {
      partition: 'u',
      limit: 5,
      exclusiveStartKey: first.lastEvaluatedKey,
    });
    assert.deepEqual(
      rest.items.map((x) => x.sk),
      ['z'],
    );
    assert.equal(rest.lastEvaluatedKey, undefined, 'no empty extra page');
    await assert.rejects(
      tables.query('events', { partition: 'u', sort: { beginsWith: 'a', eq: 'b' } }),
      code('ValidationException'),
    );
  });

  test('scan pagination over several partitions', async () => {
    const tables = serviceOn(await open());
    await tables.createTable('scan', {
      partitionKey: { name: 'p', type: 'number' },
      sortKey: { name: 'n', type: 'number' },
    });
    const expected: string[] = [];
    for (const p of [3, -1, 2]) for (const n of [2, 1]) await tables.putItem('scan', { p, n });
    for (const p of [-1, 2, 3]) for (const n of [1, 2]) expected.push(`${p}/${n}`);
    const seen: string[] = [];
    let cursor: string | undefined;
    do {
      const page = await tables.scan('scan', { limit: 4, cursor });
      seen.push(...page.items.map((i) => `${i.p as number}/${i.n as number}`));
      cursor = page.cursor;
    } while (cursor !== undefined);
    assert.deepEqual(seen, expected);
    assert.deepEqual(
      (await tables.scan('scan', { filter: 'n = :one', values: { ':one': 1 } })).items.length,
      3,
    );
  });

  test('key, type and size errors name the attribute and table', async () => {
    const tables = serviceOn(await open());
    await tables.createTable('typed', { partitionKey: 'id', sortKey: 'ts:number' });
    await assert.rejects(tables.putItem('typed', { ts: 1 }), (err: Error & { code?: string }) => {
      assert.equal(err.code, 'ValidationException');
      assert.match(err.message, /partition key 'id' of table 'typed'.*got nothing/);
      return true;
    });
    await assert.rejects(
      tables.putItem('typed', { id: 'a', ts: '1' }),
      /sort key 'ts' of table 'typed' must be a finite number/,
    );
    await assert.rejects(tables.putItem('typed', { id: 7, ts: 1 }), /must be a non-empty string/);
    await assert.rejects(
      tables.getItem('typed', { id: 'a', ts: 1, extra: 1 }),
      /'extra', which is not a key of table 'typed'/,
    );
    await assert.rejects(
      tables.putItem('typed', { id: 'a', ts: 1, blob: 'x'.repeat(400 * 1024) }),
      /exceeds the maximum of 409600 bytes/,
    );
    await tables.putItem('typed', { id: 'a', ts: 1, blob: 'x'.repeat(300 * 1024) });
    await assert.rejects(
      tables.query('typed', { partition: 'a', sort: { beginsWith: 'x' } }),
      /needs a string sort key/,
    );
    await assert.rejects(
      tables.createTable('typed', { partitionKey: 'id' }),
      code('ResourceConflictException'),
    );
    await assert.rejects(tables.createTable('x', { partitionKey: 'id' }), /3-255 characters/);
    await assert.rejects(
      tables.createTable('bad', { partitionKey: { name: 'id', type: 'bool' } }),
      /must be string or number/,
    );
    await assert.rejects(tables.putItem('nope', { id: 'a' }), code('ResourceNotFoundException'));
  });

  test('every change leaves one stream record in the same transaction, in order', async () => {
    const store = await open();
    const tables = serviceOn(store);
    await tables.createTable('stream', { partitionKey: 'id', stream: true });
    await tables.putItem('stream', { id: 'a', v: 1 });
    await tables.putItem('stream', { id: 'a', v: 2 });
    await assert.rejects(
      tables.putItem('stream', { id: 'a', v: 3 }, { condition: 'attribute_not_exists(id)' }),
    );
    await tables.deleteItem('stream', { id: 'a' });
    await tables.deleteItem('stream', { id: 'a' }); // nothing to delete: no record
    const records = await store.documents.readStream('stream', 0, 100);
    assert.deepEqual(
      records.map((r) => [r.seq, r.eventName, r.oldImage?.v, r.newImage?.v]),
      [
        [1, 'INSERT', undefined, 1],
        [2, 'MODIFY', 1, 2],
        [3, 'REMOVE', 2, undefined],
      ],
    );
    assert.deepEqual(records[0]!.keys, { id: 'a' });
    // Concurrent writers to one table still get gap-free, increasing sequence numbers.
    await Promise.all(Array.from({ length: 10 }, (_, i) => tables.putItem('stream', { id: `k${i}` })));
    const all = await store.documents.readStream('stream', 0, 100);
    assert.deepEqual(
      all.map((r) => r.seq),
      Array.from({ length: 13 }, (_, i) => i + 1),
    );
    assert.equal(await store.documents.trimStream(Date.now() + 1), 13);
  });
});
