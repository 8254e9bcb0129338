// packBundle/unpackBundle: deterministic bytes, round trips, and rejection of unsafe paths.
import { installLeakGuard } from '../helpers/leak-guard.js';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { gunzipSync, gzipSync } from 'node:zlib';
import {
  checkBundlePath,
  packBundle,
  unpackBundle,
  type BundleFile,
  type BundleFiles,
} from '../../src/deploy/bundle-archive.js';
import { isNimbusError } from '../../src/errors.js';

installLeakGuard();

const file = (text: string, mode = 0o644): BundleFile => ({ data: Buffer.from(text), mode });

/** A hand-made archive with arbitrary (possibly unsafe) entries, bypassing packBundle's checks. */
function rawArchive(entries: [string, string][]): Buffer {
  const u32 = (n: number): Buffer => {
    const b = Buffer.alloc(4);
    b.writeUInt32BE(n);
    return b;
  };
  const parts = [Buffer.from('NIMBUSB1'), u32(entries.length)];
  for (const [path, data] of entries) {
    parts.push(
      u32(Buffer.byteLength(path)),
      Buffer.from(path),
      u32(0o644),
      u32(data.length),
      Buffer.from(data),
    );
  }
  return gzipSync(Buffer.concat(parts));
}

function assertBundleError(fn: () => unknown, pattern: RegExp): void {
  assert.throws(fn, (err: unknown) => {
    assert.ok(isNimbusError(err));
    assert.equal(err.code, 'BundleError');
    assert.match(err.message, pattern);
    return true;
  });
}

test('round trip keeps paths, bytes and normalised modes', () => {
  const files: BundleFiles = new Map([
    ['index.mjs', file('export const handler = 1;')],
    ['bin/tool', file('#!/bin/sh', 0o700)],
    ['data/empty', file('')],
    ['data/ünïcode.txt', file('ü')],
  ]);
  const { bytes, sha256 } = packBundle(files);
  assert.equal(sha256, createHash('sha256').update(bytes).digest('hex'));
  const back = unpackBundle(bytes);
  assert.deepEqual([...back.keys()], ['bin/tool', 'data/empty', 'data/ünïcode.txt', 'index.mjs']);
  assert.equal(back.get('bin/tool')?.mode, 0o755);
  assert.equal(back.get('index.mjs')?.mode, 0o644);
  assert.equal(back.get('data/ünïcode.txt')?.data.toString(), 'ü');
  assert.equal(back.get('data/empty')?.data.length, 0);
});

test('deterministic: insertion order and mode noise do not change the sha', () => {
  const a = packBundle(
    new Map([
      ['a', file('1', 0o600)],
      ['b/c', file('2', 0o744)],
    ]),
  );
  const b = packBundle(
    new Map([
      ['b/c', file('2', 0o755)],
      ['a', file('1', 0o644)],
    ]),
  );
  assert.equal(a.sha256, b.sha256);
  assert.ok(a.bytes.equals(b.bytes));
  assert.equal(a.bytes[9], 255, 'gzip OS byte is fixed');
  assert.equal(a.bytes.readUInt32LE(4), 0, 'gzip mtime is zero');
  const c = packBundle(
    new Map([
      ['a', file('1')],
      ['b/c', file('3')],
    ]),
  );
  assert.notEqual(a.sha256, c.sha256);
});

test('unsafe paths are rejected when packing and when unpacking', () => {
  for (const bad of ['../evil', '/etc/passwd', 'a/../../b', 'a//b', './a', 'a\\b', '', 'a/', 'x\0y']) {
    assertBundleError(() => packBundle(new Map([[bad, file('x')]])), /Invalid path in code bundle/);
    assertBundleError(() => unpackBundle(rawArchive([[bad, 'x']])), /Invalid path in code bundle/);
  }
  assert.equal(checkBundlePath('a/b.c/..d'), 'a/b.c/..d');
});

test('corrupt archives are rejected', () => {
  const { bytes } = packBundle(new Map([['a', file('hello')]]));
  assertBundleError(() => unpackBundle(Buffer.from('not gzip')), /Corrupt code bundle \(not a gzip stream/);
  assertBundleError(() => unpackBundle(gzipSync(Buffer.from('NOTNIMBUS123'))), /bad magic/);
  const raw = gunzipSync(bytes);
  assertBundleError(() => unpackBundle(gzipSync(raw.subarray(0, raw.length - 2))), /truncated/);
  assertBundleError(() => unpackBundle(gzipSync(Buffer.concat([raw, Buffer.from('x')]))), /trailing bytes/);
  assertBundleError(
    () =>
      unpackBundle(
        rawArchive([
          ['a', '1'],
          ['a', '2'],
        ]),
      ),
    /duplicate path/,
  );
});
