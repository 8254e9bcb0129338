// CodeCache: unpacks a bundle once per sha, atomically, world-readable, verifying the blob.
import { installLeakGuard } from '../helpers/leak-guard.js';
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readdir, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CodeCache } from '../../src/deploy/code-cache.js';
import { packBundle, type BundleFiles } from '../../src/deploy/bundle-archive.js';
import { isNimbusError } from '../../src/errors.js';

installLeakGuard();

const roots: string[] = [];
after(async () => {
  await Promise.all(roots.map((d) => rm(d, { recursive: true, force: true })));
});

async function tempRoot(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'nimbus-code-cache-'));
  roots.push(dir);
  return join(dir, 'code'); // Not created yet: the cache creates it.
}

/** An in-memory blob store counting reads, optionally slow. */
function memoryStore(delayMs = 0) {
  const blobs = new Map<string, Buffer>();
  const store = {
    gets: 0,
    blobs,
    async get(sha256: string): Promise<Buffer | undefined> {
      store.gets++;
      if (delayMs) await new Promise((r) => setTimeout(r, delayMs));
      return blobs.get(sha256);
    },
  };
  return store;
}

const FILES: BundleFiles = new Map([
  ['index.mjs', { data: Buffer.from('export const handler = 1;\n'), mode: 0o644 }],
  ['bin/run', { data: Buffer.from('#!/bin/sh\n'), mode: 0o755 }],
  ['lib/deep/x.txt', { data: Buffer.from('x'), mode: 0o644 }],
]);

test('unpacks into <root>/<sha256> with world-readable modes', async () => {
  const root = await tempRoot();
  const store = memoryStore();
  const { bytes, sha256 } = packBundle(FILES);
  store.blobs.set(sha256, bytes);
  const previous = process.umask(0o077); // A strict umask must not make the code unreadable.
  let dir: string;
  try {
    dir = await new CodeCache(root, store).dir(sha256);
  } finally {
    process.umask(previous);
  }
  assert.equal(dir, join(root, sha256));
  assert.equal(await readFile(join(dir, 'index.mjs'), 'utf8'), 'export const handler = 1;\n');
  const mode = async (p: string): Promise<number> => (await stat(join(dir, p))).mode & 0o777;
  assert.equal(await mode(''), 0o755);
  assert.equal(await mode('index.mjs'), 0o644);
  assert.equal(await mode('bin'), 0o755);
  assert.equal(await mode('bin/run'), 0o755);
  assert.equal(await mode('lib/deep'), 0o755);
  assert.equal(await mode('lib/deep/x.txt'), 0o644);
  // A second cache (e.g. after a restart) finds the directory without reading the store.
  const again = memoryStore();
  assert.equal(await new CodeCache(root, again).dir(sha256), dir);
  assert.equal(again.gets, 0);
});

test('concurrent calls share one unpack', async () => {
  const root = await tempRoot();
  const store = memoryStore(20);
  const { bytes, sha256 } = packBundle(FILES);
  store.blobs.set(sha256, bytes);
  const cache = new CodeCache(root, store);
  const dirs = await Promise.all(Array.from({ length: 8 }, () => cache.dir(sha256)));
  assert.equal(new Set(dirs).size, 1);
  assert.equal(store.gets, 1);
  assert.deepEqual(await readdir(root), [sha256], 'no temp dirs left behind');
  // Two caches racing on the same root (two processes): both succeed, one copy remains.
  const root2 = await tempRoot();
  const [a, b] = await Promise.all([
    new CodeCache(root2, store).dir(sha256),
    new CodeCache(root2, store).dir(sha256),
  ]);
  assert.equal(a, b);
  assert.deepEqual(await readdir(root2), [sha256]);
  assert.deepEqual((await readdir(join(a, 'lib/deep'))).sort(), ['x.txt']);
});

test('a blob that does not match its sha is refused and leaves nothing behind', async () => {
  const root = await tempRoot();
  const store = memoryStore();
  const { bytes, sha256 } = packBundle(FILES);
  const tampered = Buffer.from(bytes);
  const at = tampered.length - 5;
  tampered[at] = (tampered[at] ?? 0) ^ 0xff;
  store.blobs.set(sha256, tampered);
  await assert.rejects(new CodeCache(root, store).dir(sha256), (err: unknown) => {
    assert.ok(isNimbusError(err));
    assert.equal(err.code, 'ServiceException');
    assert.match(err.message, /is corrupt/);
    return true;
  });
  assert.deepEqual(await readdir(root).catch(() => []), []);
});

test('a failure while writing leaves no partial directory (atomic rename)', async () => {
  const root = await tempRoot();
  const store = memoryStore();
  // A file and a directory with the same name: the second write fails mid-unpack.
  const clash: BundleFiles = new Map([
    ['a', { data: Buffer.from('file'), mode: 0o644 }],
    ['a/b', { data: Buffer.from('under a file'), mode: 0o644 }],
  ]);
  const { bytes, sha256 } = packBundle(clash);
  store.blobs.set(sha256, bytes);
  await assert.rejects(new CodeCache(root, store).dir(sha256));
  assert.deepEqual(await readdir(root), [], 'neither the target nor a temp dir remains');
  // The failure is not cached: a later call tries again.
  await assert.rejects(new CodeCache(root, store).dir(sha256));
  assert.equal(store.gets, 2);
});

test('a missing blob is ResourceNotFoundException; a malformed sha is rejected', async () => {
  const cache = new CodeCache(await tempRoot(), memoryStore());
  await assert.rejects(cache.dir('0'.repeat(64)), (err: unknown) => {
    assert.ok(isNimbusError(err));
    assert.equal(err.code, 'ResourceNotFoundException');
    assert.match(err.message, /not in the store; redeploy/);
    return true;
  });
  await assert.rejects(cache.dir('../etc'), { code: 'InvalidParameterValueException' });
});
