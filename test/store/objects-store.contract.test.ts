// ObjectStore contract, run against every backend: buckets, object rows with bytewise key order,
// replacement returning the old file, transactional notifications, uploads and parts, triggers,
// and outbox claims that never hand the same notification to two claimers.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import pg from 'pg';
import { installLeakGuard } from '../helpers/leak-guard.js';
import { forEachStore } from '../helpers/test-stores.js';
import type { BucketTrigger, StoredObject } from '../../src/store/ports/objects.js';

installLeakGuard();

function obj(bucket: string, key: string, fileId: string, extra: Partial<StoredObject> = {}): StoredObject {
  return {
    bucket,
    key,
    fileId,
    size: 3,
    etag: '"abc"',
    contentType: 'text/plain',
    metadata: { a: '1' },
    lastModified: 1_700_000_000_000,
    ...extra,
  };
}

const trigger = (functionName: string, bucket: string, position = 0): BucketTrigger => ({
  app: 'app',
  functionName,
  position,
  bucket,
  events: ['s3:ObjectCreated:*'],
  prefix: '',
  suffix: '',
});

forEachStore((_name, open, stores) => {
  test('buckets: create is idempotent; delete reports missing, not-empty, deleted', async () => {
    const s = (await open()).objects;
    const a = await s.createBucket('b1', 1000);
    assert.deepEqual(await s.createBucket('b1', 2000), a);
    assert.equal(a.createdAt, 1000);
    await s.putObject(obj('b1', 'k', 'f1'));
    assert.equal((await s.deleteBucket('b1')).outcome, 'not-empty');
    await s.deleteObject('b1', 'k');
    await s.createUpload({ uploadId: 'u1', bucket: 'b1', key: 'x', options: {}, initiatedAt: 1 });
    await s.putPart({ uploadId: 'u1', partNumber: 1, fileId: 'p1', size: 1, etag: '"e"', lastModified: 1 });
    assert.deepEqual(await s.deleteBucket('b1'), { outcome: 'deleted', partFileIds: ['p1'] });
    assert.equal((await s.deleteBucket('b1')).outcome, 'missing');
    await assert.rejects(s.putObject(obj('b1', 'k', 'f2')), { code: 'ResourceNotFoundException' });
  });

  test('objects: round trip, replacement returns the old file, keys order bytewise (UTF-8)', async () => {
    const s = (await open()).objects;
    await s.createBucket('b', 1);
    const o = obj('b', 'k', 'f1', { contentEncoding: 'gzip', cacheControl: 'no-cache', size: 5_000_000_000 });
    assert.deepEqual(await s.putObject(o), { replacedFileId: undefined });
    assert.deepEqual(await s.getObject('b', 'k'), { ...o, contentDisposition: undefined });
    assert.deepEqual(await s.putObject(obj('b', 'k', 'f2')), { replacedFileId: 'f1' });
    assert.equal((await s.deleteObject('b', 'k'))?.fileId, 'f2');
    assert.equal(await s.deleteObject('b', 'k'), undefined);
    // Upper case before lower, ASCII before Latin-1 before BMP before astral: UTF-8 byte order,
    // whatever the database's default collation.
    const keys = ['b', 'a', 'B', 'é', '\u{FF5E}', '\u{1F600}', 'a/', 'a0', 'Z'];
    for (const [i, k] of keys.entries()) await s.putObject(obj('b', k, `f${i}`));
    const listed = (await s.listObjects('b', { limit: 100 })).map((r) => r.key);
    assert.deepEqual(
      listed,
      [...keys].sort((x, y) => Buffer.compare(Buffer.from(x), Buffer.from(y))),
    );
    assert.deepEqual(
      (await s.listObjects('b', { after: 'a', below: 'b', limit: 100 })).map((r) => r.key),
      ['a/', 'a0'],
    );
    assert.deepEqual(
      (await s.listObjects('b', { from: 'a0', limit: 2 })).map((r) => r.key),
      ['a0', 'b'],
    );
    const files = await s.referencedFileIds(['f0', 'f1', 'nope']);
    assert.deepEqual([...files].sort(), ['f0', 'f1']);
  });

  test('notifications commit with their change and only then; claims are exclusive across two stores', async () => {
    const target = stores.target();
    const a = (await stores.openAt(target)).objects;
    const b = (await stores.openAt(target)).objects;
    await a.createBucket('b', 1);
    await a.replaceTriggers('app', [
      trigger('app-f', 'b'),
      trigger('app-g', 'b', 1),
      trigger('app-h', 'other'),
    ]);
    let seen: string[] = [];
    await a.putObject(obj('b', 'k', 'f1'), (triggers) => {
      seen = triggers.map((t) => t.functionName);
      return triggers.map((t) => ({ functionName: t.functionName, payload: Buffer.from(t.functionName) }));
    });
    assert.deepEqual(seen, ['app-f', 'app-g']);
    assert.equal(await a.countNotifications(), 2);
    // A change that fails (bucket gone) adds none.
    await assert.rejects(
      a.putObject(obj('missing', 'k', 'f'), () => [{ functionName: 'x', payload: Buffer.from('x') }]),
    );
    assert.equal(await a.countNotifications(), 2);
    for (let i = 0; i < 20; i++) {
      await a.putObject(obj('b', `k${i}`, `f${i}`), (triggers) =>
        triggers.map((t) => ({ functionName: t.functionName, payload: Buffer.from(`${i}`) })),
      );
    }
    const [ca, cb] = await Promise.all([a.claimNotifications(30, 60_000), b.claimNotifications(30, 60_000)]);
    const ids = [...ca, ...cb].map((n) => n.id);
    assert.equal(ids.length, 42);
    assert.equal(new Set(ids).size, 42);
    assert.deepEqual(await a.claimNotifications(10, 60_000), []);
    const first = ca[0] ?? cb[0]!;
    assert.equal(first.attempts, 1);
    await a.releaseNotification(first.id, Date.now() - 1);
    const again = await b.claimNotifications(10, 60_000);
    assert.deepEqual(
      again.map((n) => [n.id, n.attempts]),
      [[first.id, 2]],
    );
    for (const n of [...ca, ...cb]) await a.deleteNotification(n.id);
    assert.equal(await a.countNotifications(), 0);
  });

  test('uploads and parts: replace a part, complete atomically, abort', async () => {
    const s = (await open()).objects;
    await s.createBucket('b', 1);
    await assert.rejects(
      s.createUpload({ uploadId: 'x', bucket: 'nope', key: 'k', options: {}, initiatedAt: 1 }),
      { code: 'ResourceNotFoundException' },
    );
    await s.createUpload({
      uploadId: 'u1',
      bucket: 'b',
      key: 'k',
      options: { contentType: 't/x' },
      initiatedAt: 5,
    });
    await s.createUpload({ uploadId: 'u2', bucket: 'b', key: 'j', options: {}, initiatedAt: 6 });
    assert.deepEqual((await s.getUpload('u1'))?.options, { contentType: 't/x' });
    assert.deepEqual(
      (await s.listUploads('b')).map((u) => u.uploadId),
      ['u2', 'u1'],
    );
    assert.deepEqual(
      (await s.listUploads('b', 'k')).map((u) => u.uploadId),
      ['u1'],
    );
    const part = { uploadId: 'u1', partNumber: 2, fileId: 'p2', size: 10, etag: '"e2"', lastModified: 1 };
    assert.deepEqual(await s.putPart(part), { replacedFileId: undefined });
    assert.deepEqual(await s.putPart({ ...part, fileId: 'p2b' }), { replacedFileId: 'p2' });
    await s.putPart({ ...part, partNumber: 1, fileId: 'p1' });
    assert.deepEqual(
      (await s.listParts('u1')).map((p) => [p.partNumber, p.fileId]),
      [
        [1, 'p1'],
        [2, 'p2b'],
      ],
    );
    await s.putObject(obj('b', 'k', 'old'));
    const done = await s.completeUpload('u1', obj('b', 'k', 'new'));
    assert.equal(done.replacedFileId, 'old');
    assert.deepEqual([...done.partFileIds].sort(), ['p1', 'p2b']);
    assert.equal((await s.getObject('b', 'k'))?.fileId, 'new');
    await assert.rejects(s.completeUpload('u1', obj('b', 'k', 'again')), { code: 'NoSuchUpload' });
    await assert.rejects(s.putPart({ ...part, uploadId: 'u1' }), { code: 'NoSuchUpload' });
    await s.putPart({ ...part, uploadId: 'u2', fileId: 'q' });
    assert.deepEqual(await s.abortUpload('u2'), ['q']);
    assert.equal(await s.abortUpload('u2'), undefined);
  });

  test('triggers: replace per app, or per function for a partial deploy; delete by app or function', async () => {
    const s = (await open()).objects;
    await s.replaceTriggers('app', [trigger('app-f', 'b'), trigger('app-g', 'c')]);
    await s.replaceTriggers('other', [{ ...trigger('other-x', 'b'), app: 'other' }]);
    await s.replaceTriggers('app', [trigger('app-f', 'd')], ['app-f']);
    const names = async () => (await s.listTriggers()).map((t) => `${t.functionName}:${t.bucket}`);
    assert.deepEqual(await names(), ['app-f:d', 'app-g:c', 'other-x:b']);
    assert.deepEqual(
      (await s.listTriggers('b')).map((t) => t.functionName),
      ['other-x'],
    );
    await s.replaceTriggers('app', [trigger('app-h', 'e')]);
    assert.deepEqual(await names(), ['app-h:e', 'other-x:b']);
    await s.deleteTriggers('other', 'other-x');
    await s.deleteTriggers('app');
    assert.deepEqual(await names(), []);
  });
});

forEachStore((name, _open, stores) => {
  // Only PostgreSQL has per-column collations: the test database here defaults to C.UTF-8 (which
  // happens to order like "C"), so check the column itself, and show what a locale would do.
  if (name !== 'postgres') return;
  test('postgres: object keys are COLLATE "C", so listings stay bytewise under any database locale', async () => {
    const target = stores.target();
    await stores.openAt(target);
    const client = new pg.Client({ connectionString: target.url });
    await client.connect();
    try {
      const { rows } = await client.query<{ collation_name: string }>(
        `SELECT collation_name FROM information_schema.columns
          WHERE table_schema = $1 AND table_name = 'objects' AND column_name = 'key'`,
        [target.schema],
      );
      assert.deepEqual(rows, [{ collation_name: 'C' }]);
      const icu = await client
        .query<{ before: boolean }>(`SELECT 'a' < 'B' COLLATE "en-US-x-icu" AS before`)
        .catch(() => undefined);
      // Under a locale collation 'a' sorts before 'B'; S3 (bytewise) puts 'B' first.
      if (icu) assert.equal(icu.rows[0]!.before, true);
    } finally {
      await client.end();
    }
  });
});
