// `nimbus buckets` against a real server: create, put (streamed file), ls with prefixes, get to
// a file and to stdout, head, delete, rm with and without --force, usage errors.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { installLeakGuard } from '../helpers/leak-guard.js';
import { cliServer } from './cli-server.js';

const server = cliServer('buckets');
const { cli } = server;
installLeakGuard();

test('nimbus buckets: create, put, ls, get, head, delete, rm', async () => {
  let r = await cli('buckets', 'create', 'photos');
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /bucket photos is ready/);
  r = await cli('buckets', 'ls');
  assert.match(r.stdout, /photos/);

  const big = Buffer.alloc(3 * 1024 * 1024 + 7, 'z');
  writeFileSync(join(server.tmp, 'cat.jpg'), big);
  writeFileSync(join(server.tmp, 'notes.txt'), 'some notes');
  r = await cli('buckets', 'put', 'photos', 'albums/2026/cat.jpg', 'cat.jpg', '--meta', 'owner=ada');
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /put photos\/albums\/2026\/cat\.jpg \(3\.0 MiB, ETag "[0-9a-f]{32}"\)/);
  r = await cli('buckets', 'put', 'photos', 'notes.txt', 'notes.txt');
  assert.equal(r.code, 0, r.stderr);

  r = await cli('buckets', 'ls', 'photos');
  assert.match(r.stdout, /albums\/\s+PRE/);
  assert.match(r.stdout, /notes\.txt\s+10 B/);
  r = await cli('--json', 'buckets', 'ls', 'photos/albums/', '--recursive');
  const listed = JSON.parse(r.stdout) as {
    objects: Array<{ key: string; size: number; contentType: string }>;
  };
  assert.deepEqual(
    listed.objects.map((o) => [o.key, o.size, o.contentType]),
    [['albums/2026/cat.jpg', big.length, 'image/jpeg']],
  );

  r = await cli('buckets', 'get', 'photos', 'albums/2026/cat.jpg', 'copy.jpg');
  assert.equal(r.code, 0, r.stderr);
  assert.ok(readFileSync(join(server.tmp, 'copy.jpg')).equals(big));
  r = await cli('buckets', 'get', 'photos', 'notes.txt');
  assert.equal(r.stdout, 'some notes');
  r = await cli('--json', 'buckets', 'head', 'photos', 'albums/2026/cat.jpg');
  const head = JSON.parse(r.stdout) as { size: number; metadata: Record<string, string> };
  assert.equal(head.size, big.length);
  assert.deepEqual(head.metadata, { owner: 'ada' });

  r = await cli('buckets', 'get', 'photos', 'missing.txt');
  assert.equal(r.code, 1);
  assert.match(r.stderr, /missing\.txt/);

  r = await cli('buckets', 'rm', 'photos');
  assert.equal(r.code, 1);
  assert.match(r.stderr, /not empty.*--force/);
  r = await cli('buckets', 'delete', 'photos', 'notes.txt');
  assert.equal(r.code, 0, r.stderr);
  r = await cli('buckets', 'rm', 'photos', '--force');
  assert.equal(r.code, 0, r.stderr);
  r = await cli('--json', 'buckets', 'ls');
  assert.deepEqual(JSON.parse(r.stdout), { buckets: [] });

  r = await cli('buckets', 'put', 'photos', 'k');
  assert.equal(r.code, 2);
  assert.match(r.stderr, /missing argument: <bucket> <key> <file>/);
  r = await cli('buckets', 'frobnicate');
  assert.equal(r.code, 2);
});
