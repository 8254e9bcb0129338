// Streaming and crash safety on every store: a 50 MiB object goes to disk as it arrives (the
// source is never more than a few chunks ahead of the file), reads back as a stream; the sweep
// at start removes temp files and files no row references, and nothing else.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { installLeakGuard } from '../../helpers/leak-guard.js';
import { forEachStore } from '../../helpers/test-stores.js';
import { body, bucketService, readAll } from './bucket-test-context.js';

installLeakGuard();

const MiB = 1024 * 1024;

/** Bytes currently in the temp files of `dir`. */
function tempBytes(dir: string): number {
  let total = 0;
  for (const name of existsSync(dir) ? readdirSync(dir) : []) {
    try {
      total += statSync(join(dir, name)).size;
    } catch {
      // renamed away meanwhile
    }
  }
  return total;
}

forEachStore((_name, open) => {
  test('a 50 MiB put streams to disk (the source never runs more than 8 MiB ahead) and reads back as a stream', async () => {
    const t = bucketService(await open());
    try {
      await t.buckets.createBucket('big');
      const total = 50 * MiB;
      const chunk = 64 * 1024;
      const tmpDir = join(t.dataDir, 'objects', 'tmp');
      const sent = createHash('md5');
      let generated = 0;
      let maxAhead = 0;
      // A pull source: it makes a chunk only when asked. If the service buffered the object, it
      // would keep asking while nothing reached the temp file, and `ahead` would grow to 50 MiB.
      const source = new Readable({
        highWaterMark: chunk,
        read() {
          if (generated >= total) {
            this.push(null);
            return;
          }
          maxAhead = Math.max(maxAhead, generated - tempBytes(tmpDir));
          const c = Buffer.alloc(chunk, (generated / chunk) % 251);
          sent.update(c);
          generated += chunk;
          this.push(c);
        },
      });
      const info = await t.buckets.putObject('big', 'blob', source, { contentLength: total });
      assert.equal(info.size, total);
      assert.equal(info.etag, `"${sent.digest('hex')}"`);
      assert.ok(maxAhead < 8 * MiB, `the source ran ${maxAhead} bytes ahead of the file`);

      const got = await t.buckets.getObject('big', 'blob');
      const received = createHash('md5');
      let largestChunk = 0;
      let size = 0;
      for await (const c of got.body) {
        largestChunk = Math.max(largestChunk, (c as Buffer).length);
        size += (c as Buffer).length;
        received.update(c as Buffer);
      }
      assert.equal(size, total);
      assert.equal(`"${received.digest('hex')}"`, info.etag);
      assert.ok(largestChunk <= 1 * MiB, `read in chunks, got one of ${largestChunk} bytes`);
      assert.deepEqual(await t.buckets.files.tempFiles(), []);
    } finally {
      await t.close();
    }
  });

  test('a body that errors mid-stream or exceeds the size limit stores nothing', async () => {
    const t = bucketService(await open(), { maxObjectSize: 1000 });
    try {
      await t.buckets.createBucket('bkt');
      const failing = new Readable({
        read() {
          this.push(Buffer.alloc(100));
          this.destroy(new Error('disk on fire'));
        },
      });
      await assert.rejects(t.buckets.putObject('bkt', 'k', failing), { code: 'IncompleteBody' });
      // A body already destroyed before the put looked at it (a client gone while the bucket
      // was being looked up) fails at once instead of waiting for events that never come.
      const gone = new Readable({ read() {} });
      gone.on('error', () => undefined);
      gone.destroy(new Error('aborted'));
      await assert.rejects(t.buckets.putObject('bkt', 'k', gone), { code: 'IncompleteBody' });
      const closed = new Readable({ read() {} });
      closed.destroy();
      await assert.rejects(t.buckets.putObject('bkt', 'k', closed), { code: 'IncompleteBody' });
      await assert.rejects(t.buckets.putObject('bkt', 'k', body(Buffer.alloc(1001))), {
        code: 'EntityTooLarge',
      });
      await assert.rejects(t.buckets.putObject('bkt', 'k', body('x'), { contentLength: 5000 }), {
        code: 'EntityTooLarge',
      });
      assert.equal(await t.buckets.headObject('bkt', 'k'), undefined);
      assert.deepEqual(await t.buckets.files.tempFiles(), []);
      assert.equal(
        existsSync(join(t.dataDir, 'objects', 'data'))
          ? readdirSync(join(t.dataDir, 'objects', 'data')).length
          : 0,
        0,
      );
    } finally {
      await t.close();
    }
  });

  test('start sweeps crash leftovers: old temp files and unreferenced files go, live objects stay', async () => {
    const store = await open();
    const a = bucketService(store);
    await a.buckets.createBucket('bkt');
    await a.buckets.putObject('bkt', 'keep', body('kept'));
    const dataDir = a.dataDir;
    const objects = join(dataDir, 'objects');
    // Leftovers of a crashed process: an interrupted write, and a file whose row never committed.
    const strayTemp = join(objects, 'tmp', 'deadbeef.tmp');
    const strayFile = join(objects, 'data', 'ab', 'cd', 'abcd0000000000000000000000000000');
    mkdirSync(join(objects, 'data', 'ab', 'cd'), { recursive: true });
    writeFileSync(strayTemp, 'partial');
    writeFileSync(strayFile, 'orphan');
    const past = new Date(Date.now() - 60_000);
    utimesSync(strayTemp, past, past);
    utimesSync(strayFile, past, past);
    // Backdate the live object's file too: only the missing row makes a file garbage.
    for (const f of readdirSync(join(objects, 'data'), { recursive: true, withFileTypes: true })) {
      if (f.isFile()) utimesSync(join(f.parentPath, f.name), past, past);
    }
    await a.buckets.stop();
    const b = bucketService(store, { dataDir, start: true });
    try {
      for (let i = 0; existsSync(strayTemp) || existsSync(strayFile); i++) {
        assert.ok(i < 500, 'the sweep did not remove the leftovers');
        await new Promise((r) => setTimeout(r, 10));
      }
      assert.equal((await readAll((await b.buckets.getObject('bkt', 'keep')).body)).toString(), 'kept');
    } finally {
      await b.close();
      await a.close();
    }
  });
});
