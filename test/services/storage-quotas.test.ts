// Storage quotas on both stores: a bucket's bytes (objects and multipart parts) and objects, a
// table's items and bytes, a queue's messages. Reaching one answers StorageQuotaExceeded (403)
// naming the fix, and nothing of the refused write is stored; deletes make room again.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { QueueService } from '../../src/services/queues/queue-service.js';
import { compileStorageQuotas, type StorageQuotas } from '../../src/services/storage-quotas.js';
import { TableService } from '../../src/services/tables/table-service.js';
import type { Store } from '../../src/store/store.js';
import { installLeakGuard } from '../helpers/leak-guard.js';
import { forEachStore } from '../helpers/test-stores.js';
import { body, bucketService } from './buckets/bucket-test-context.js';
import { queueTestContext } from './queues/queue-test-context.js';

installLeakGuard();

const quotas = (q: Partial<StorageQuotas>): StorageQuotas => compileStorageQuotas(q);

/** Asserts a StorageQuotaExceeded naming the quota and its option. */
async function refused(p: Promise<unknown>, quota: string): Promise<void> {
  await assert.rejects(p, (err: Error & { code?: string; status?: number }) => {
    assert.equal(err.code, 'StorageQuotaExceeded', err.message);
    assert.equal(err.status, 403);
    assert.match(err.message, new RegExp(`${quota} quota`));
    assert.match(err.message, /nothing was written/);
    assert.match(err.message, new RegExp(`--quota ${quota}=`));
    return true;
  });
}

function dataFiles(dataDir: string): number {
  try {
    return readdirSync(join(dataDir, 'objects', 'data'), { recursive: true, withFileTypes: true }).filter(
      (e) => e.isFile(),
    ).length;
  } catch {
    return 0;
  }
}

function tableService(store: Store, q: Partial<StorageQuotas>): TableService {
  return new TableService({ ...queueTestContext(store), quotas: quotas(q) });
}

forEachStore((_name, open) => {
  test('bucket bytes: a put past the quota is refused and leaves no row, file or usage', async () => {
    const store = await open();
    const t = bucketService(store, { quotas: quotas({ bucketBytes: 10 }) });
    try {
      await t.buckets.createBucket('quota');
      await t.buckets.putObject('quota', 'a', body('123456'));
      await refused(t.buckets.putObject('quota', 'b', body('12345')), 'bucketBytes');
      assert.equal(await t.buckets.headObject('quota', 'b'), undefined);
      assert.deepEqual(await t.buckets.usage('quota'), { bytes: 6, objects: 1 });
      assert.equal(dataFiles(t.dataDir), 1);
      assert.deepEqual(await t.buckets.files.tempFiles(), []);
      // Replacing an object counts only the difference; a delete makes room.
      await t.buckets.putObject('quota', 'a', body('1234567890'));
      assert.deepEqual(await t.buckets.usage('quota'), { bytes: 10, objects: 1 });
      await refused(t.buckets.putObject('quota', 'a', body('12345678901')), 'bucketBytes');
      await t.buckets.deleteObject('quota', 'a');
      assert.deepEqual(await t.buckets.usage('quota'), { bytes: 0, objects: 0 });
      await t.buckets.putObject('quota', 'b', body('12345'));
      // A copy counts like a put.
      await t.buckets.copyObject({ bucket: 'quota', key: 'b' }, { bucket: 'quota', key: 'c' });
      await refused(
        t.buckets.copyObject({ bucket: 'quota', key: 'b' }, { bucket: 'quota', key: 'd' }),
        'bucketBytes',
      );
      assert.deepEqual(await t.buckets.usage('quota'), { bytes: 10, objects: 2 });
      assert.equal(dataFiles(t.dataDir), 2);
    } finally {
      await t.close();
    }
  });

  test('bucket bytes: with a known length the put is refused before its body is read', async () => {
    const store = await open();
    const t = bucketService(store, { quotas: quotas({ bucketBytes: 10 }) });
    try {
      await t.buckets.createBucket('early');
      let read = false;
      const untouched = new Readable({
        read() {
          read = true;
          this.push(null);
        },
      });
      await refused(t.buckets.putObject('early', 'big', untouched, { contentLength: 11 }), 'bucketBytes');
      assert.equal(read, false);
      untouched.destroy();
    } finally {
      await t.close();
    }
  });

  test('bucket objects: a new key past the count is refused; replacing a key is not', async () => {
    const store = await open();
    const t = bucketService(store, { quotas: quotas({ bucketObjects: 2 }) });
    try {
      await t.buckets.createBucket('count');
      await t.buckets.putObject('count', 'a', body('x'));
      await t.buckets.putObject('count', 'b', body('y'));
      await refused(t.buckets.putObject('count', 'c', body('z')), 'bucketObjects');
      await t.buckets.putObject('count', 'b', body('yy'));
      assert.deepEqual(await t.buckets.usage('count'), { bytes: 3, objects: 2 });
      assert.equal((await t.buckets.listObjects('count')).objects.length, 2);
      assert.equal(dataFiles(t.dataDir), 2);
    } finally {
      await t.close();
    }
  });

  test('bucket bytes count multipart parts; completing or aborting an upload settles them', async () => {
    const store = await open();
    const t = bucketService(store, { quotas: quotas({ bucketBytes: 10, bucketObjects: 1 }), minPartSize: 1 });
    try {
      await t.buckets.createBucket('parts');
      const up = await t.buckets.createMultipartUpload('parts', 'k');
      const p1 = await t.buckets.uploadPart('parts', 'k', up.uploadId, 1, body('1234'));
      await t.buckets.uploadPart('parts', 'k', up.uploadId, 2, body('5678'));
      assert.deepEqual(await t.buckets.usage('parts'), { bytes: 8, objects: 0 });
      await refused(t.buckets.uploadPart('parts', 'k', up.uploadId, 3, body('abc')), 'bucketBytes');
      assert.equal((await t.buckets.listParts('parts', 'k', up.uploadId)).length, 2);
      // Completing with part 1 only: part 2 is dropped, the object holds 4 bytes.
      await t.buckets.completeMultipartUpload('parts', 'k', up.uploadId, [{ partNumber: 1, etag: p1.etag }]);
      assert.deepEqual(await t.buckets.usage('parts'), { bytes: 4, objects: 1 });
      const second = await t.buckets.createMultipartUpload('parts', 'other');
      const q1 = await t.buckets.uploadPart('parts', 'other', second.uploadId, 1, body('12'));
      await refused(
        t.buckets.completeMultipartUpload('parts', 'other', second.uploadId, [
          { partNumber: 1, etag: q1.etag },
        ]),
        'bucketObjects',
      );
      // Refused whole: the upload and its part are still there, to abort.
      assert.equal((await t.buckets.listParts('parts', 'other', second.uploadId)).length, 1);
      await t.buckets.abortMultipartUpload('parts', 'other', second.uploadId);
      assert.deepEqual(await t.buckets.usage('parts'), { bytes: 4, objects: 1 });
      assert.equal(dataFiles(t.dataDir), 1);
    } finally {
      await t.close();
    }
  });

  test('table items and bytes: past either, the write is refused with no item or stream record', async () => {
    const store = await open();
    const tables = tableService(store, { tableItems: 2, tableBytes: 60 });
    await tables.createTable('ttt', { partitionKey: 'id', stream: true });
    await tables.putItem('ttt', { id: 'a', v: 1 });
    await tables.putItem('ttt', { id: 'b', v: 2 });
    const before = await store.documents.readStream('ttt', 0, 100);
    await refused(tables.putItem('ttt', { id: 'c', v: 3 }), 'tableItems');
    assert.equal(await tables.getItem('ttt', { id: 'c' }), undefined);
    assert.deepEqual(await store.documents.readStream('ttt', 0, 100), before);
    // Replacing stays within the item count but may pass the bytes.
    await tables.putItem('ttt', { id: 'a', v: 10 });
    await refused(tables.putItem('ttt', { id: 'a', v: 'x'.repeat(60) }), 'tableBytes');
    assert.deepEqual(await tables.getItem('ttt', { id: 'a' }), { id: 'a', v: 10 });
    const usage = await tables.usage('ttt');
    assert.equal(usage.items, 2);
    assert.equal(
      usage.bytes,
      JSON.stringify({ id: 'a', v: 10 }).length + JSON.stringify({ id: 'b', v: 2 }).length,
    );
    await tables.deleteItem('ttt', { id: 'b' });
    await tables.putItem('ttt', { id: 'c', v: 3 });
    assert.equal((await tables.usage('ttt')).items, 2);
  });

  test('queue messages: a send or batch past the quota is refused whole; deletes make room within a second', async () => {
    const store = await open();
    const queues = new QueueService({ ...queueTestContext(store), quotas: quotas({ queueMessages: 3 }) });
    await queues.createQueue('q');
    await queues.sendMessage('q', { body: '1' });
    await queues.sendMessage('q', { body: '2' });
    await assert.rejects(
      queues.sendMessageBatch('q', [
        { id: 'a', body: '3' },
        { id: 'b', body: '4' },
      ]),
      (err: Error & { code?: string }) =>
        err.code === 'StorageQuotaExceeded' && /queueMessages quota/.test(err.message),
    );
    assert.equal((await queues.counts('q')).visible, 2);
    await queues.sendMessage('q', { body: '3' });
    await refused(queues.sendMessage('q', { body: '4' }), 'queueMessages');
    assert.equal((await queues.counts('q')).visible, 3);
    const [m] = await queues.receiveMessages('q');
    await queues.deleteMessage('q', m!.receiptHandle);
    // The count behind a refusal is trusted for up to a second (see USAGE_TTL_MS), then redone.
    await new Promise((r) => setTimeout(r, 1100));
    await queues.sendMessage('q', { body: '4' });
    assert.equal((await queues.counts('q')).visible, 3);
    await queues.purgeQueue('q');
    await queues.sendMessage('q', { body: '5' });
  });
});

test('quota options are validated', () => {
  assert.throws(() => compileStorageQuotas({ bucketBytes: 0 }), /quotas\.bucketBytes must be a whole number/);
  assert.throws(
    () => compileStorageQuotas({ nope: 1 } as unknown as Partial<StorageQuotas>),
    /quotas\.nope is not a quota/,
  );
  assert.equal(compileStorageQuotas({}).bucketBytes, 10 * 1024 ** 3);
});
