// DocumentStore contract on every backend: tables, the write lock and stream, query/scan order,
// triggers (checkpoints kept across replaces, starting positions, never moving back), cascades.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { DocumentStore, TableTriggerInput } from '../../src/store/ports/documents.js';
import { installLeakGuard } from '../helpers/leak-guard.js';
import { forEachStore } from '../helpers/test-stores.js';

installLeakGuard();

const def = (name: string, streamEnabled = true) => ({
  name,
  partitionKey: { name: 'id', type: 'S' as const },
  sortKey: { name: 'sk', type: 'S' as const },
  streamEnabled,
  streamViewType: 'NEW_AND_OLD_IMAGES' as const,
});

const trigger = (
  fn: string,
  table: string,
  startingPosition: 'LATEST' | 'TRIM_HORIZON' = 'TRIM_HORIZON',
): TableTriggerInput => ({
  app: 'app',
  functionName: fn,
  table,
  batchSize: 10,
  startingPosition,
  maximumRetryAttempts: -1,
  bisectBatchOnFunctionError: false,
});

async function put(
  docs: DocumentStore,
  table: string,
  pk: string,
  sk: string,
  item: object,
): Promise<number | undefined> {
  return (await docs.write(table, pk, sk, () => ({ put: { id: pk, sk, ...item } }))).seq;
}

forEachStore((_name, open) => {
  test('tables: create once, list, enable stream, delete cascades', async () => {
    const docs = (await open()).documents;
    assert.equal(await docs.createTable(def('one', false)), true);
    assert.equal(await docs.createTable(def('one')), false);
    assert.equal((await docs.getTable('one'))?.streamEnabled, false);
    await docs.enableStream('one', 'KEYS_ONLY');
    assert.equal((await docs.getTable('one'))?.streamViewType, 'KEYS_ONLY');
    await put(docs, 'one', 'a', 'x', {});
    await docs.replaceTriggers('app', [trigger('app-fn', 'one')]);
    assert.deepEqual(
      (await docs.listTables()).map((t) => t.name),
      ['one'],
    );
    assert.equal(await docs.deleteTable('one'), true);
    assert.equal(await docs.deleteTable('one'), false);
    assert.equal(await docs.getItem('one', 'a', 'x'), undefined);
    assert.deepEqual(await docs.readStream('one', 0, 10), []);
    assert.deepEqual(await docs.listTriggers(), []);
    await assert.rejects(put(docs, 'one', 'a', 'x', {}), /Table 'one' does not exist/);
  });

  test('write: decide sees the current item; a throw writes nothing; none leaves no record', async () => {
    const docs = (await open()).documents;
    await docs.createTable(def('w'));
    assert.equal(await put(docs, 'w', 'a', '', { v: 1 }), 1);
    const seen: unknown[] = [];
    await assert.rejects(
      docs.write('w', 'a', '', (current) => {
        seen.push(current);
        throw new Error('no');
      }),
      /no/,
    );
    assert.deepEqual(seen, [{ id: 'a', sk: '', v: 1 }]);
    const none = await docs.write('w', 'a', '', () => ({ none: true }));
    assert.equal(none.seq, undefined);
    assert.equal((await docs.getItem('w', 'a', ''))?.version, 1);
    await put(docs, 'w', 'a', '', { v: 2 });
    assert.equal((await docs.getItem('w', 'a', ''))?.version, 2);
    assert.equal(await docs.lastSeq('w'), 2);
  });

  test('query and scan order by encoded keys, bytewise', async () => {
    const docs = (await open()).documents;
    await docs.createTable(def('q', false));
    for (const sk of ['b', 'a', 'B', 'é', 'aa']) await put(docs, 'q', 'p', sk, {});
    await put(docs, 'q', 'P', 'z', {});
    const sks = (await docs.query('q', { pk: 'p', forward: true, limit: 10 })).map((r) => r.sk);
    assert.deepEqual(sks, ['B', 'a', 'aa', 'b', 'é']);
    const rev = await docs.query('q', { pk: 'p', forward: false, limit: 2, afterSk: 'b' });
    assert.deepEqual(
      rev.map((r) => r.sk),
      ['aa', 'a'],
    );
    const ranged = await docs.query('q', { pk: 'p', forward: true, limit: 10, range: { gt: 'B', lt: 'b' } });
    assert.deepEqual(
      ranged.map((r) => r.sk),
      ['a', 'aa'],
    );
    const scan = await docs.scan('q', { limit: 10, after: { pk: 'P', sk: 'z' } });
    assert.deepEqual(
      scan.map((r) => `${r.pk}/${r.sk}`),
      ['p/B', 'p/a', 'p/aa', 'p/b', 'p/é'],
    );
  });

  test('triggers: starting positions, checkpoints kept across replaces, never moved back', async () => {
    const docs = (await open()).documents;
    await docs.createTable(def('t'));
    await put(docs, 't', 'a', '', {});
    await put(docs, 't', 'b', '', {});
    await docs.replaceTriggers('app', [trigger('app-latest', 't', 'LATEST'), trigger('app-horizon', 't')]);
    assert.equal((await docs.getTrigger('app-latest/t'))?.checkpoint, 2);
    assert.equal((await docs.getTrigger('app-horizon/t'))?.checkpoint, 0);
    await docs.setCheckpoint('app-horizon/t', 2);
    await docs.setCheckpoint('app-horizon/t', 1);
    assert.equal((await docs.getTrigger('app-horizon/t'))?.checkpoint, 2);
    // A replace keeps the checkpoint of a trigger that stays and drops the others.
    await docs.replaceTriggers('app', [{ ...trigger('app-horizon', 't'), batchSize: 5 }]);
    const kept = await docs.getTrigger('app-horizon/t');
    assert.equal(kept?.checkpoint, 2);
    assert.equal(kept?.batchSize, 5);
    assert.equal(await docs.getTrigger('app-latest/t'), undefined);
    // A partial replace touches only the listed functions.
    await docs.replaceTriggers('app', [trigger('app-other', 't')], ['app-other']);
    assert.deepEqual(
      (await docs.listTriggers()).map((t) => t.id),
      ['app-horizon/t', 'app-other/t'],
    );
    await docs.deleteTriggers('app', 'app-other');
    assert.deepEqual(
      (await docs.listTriggers()).map((t) => t.id),
      ['app-horizon/t'],
    );
    await docs.deleteTriggers('app');
    assert.deepEqual(await docs.listTriggers(), []);
  });
});
