// Crash safety of buckets: SIGKILL the server while an upload is streaming in; after a restart on
// the same data dir the acknowledged object is intact, the torn upload left no object, and the
// start-up sweep removed its temp file. (SQLite: the embedded single-node setup whose data dir
// holds both the database and the object files.)
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readLocalCredentials } from '../../../src/auth/credentials.js';
import { installLeakGuard } from '../../helpers/leak-guard.js';
import { NimbusProcesses } from '../../helpers/nimbus-process.js';

const root = mkdtempSync(join(tmpdir(), 'nimbus-bucket-crash-'));
const dataDir = join(root, 'data');
const nodes = new NimbusProcesses();

after(async () => {
  await nodes.killAll();
  rmSync(root, { recursive: true, force: true });
});
installLeakGuard();

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function filesUnder(dir: string): string[] {
  try {
    return readdirSync(dir, { recursive: true, withFileTypes: true })
      .filter((e) => e.isFile())
      .map((e) => join(e.parentPath, e.name));
  } catch {
    return [];
  }
}

test('SIGKILL mid-upload: the acknowledged object survives, the torn one leaves nothing after restart', async () => {
  const first = await nodes.start({ dataDir });
  const token = readLocalCredentials(dataDir, {})!.token;
  const v1 = (url: string, path: string, init: RequestInit = {}) =>
    fetch(url + path, { ...init, headers: { authorization: `Bearer ${token}`, ...init.headers } });
  assert.equal((await v1(first.url, '/v1/buckets', { method: 'POST', body: '{"name":"safe"}' })).status, 201);
  const kept = Buffer.alloc(2 * 1024 * 1024, 'k');
  const put = await v1(first.url, '/v1/buckets/safe/objects/kept.bin', { method: 'PUT', body: kept });
  assert.equal(put.status, 200);

  // Start a 10 MiB upload, send 1 MiB, and kill the server while it is writing the temp file.
  const tmpDir = join(dataDir, 'objects', 'tmp');
  const url = new URL(first.url);
  const req = request({
    host: url.hostname,
    port: url.port,
    method: 'PUT',
    path: '/v1/buckets/safe/objects/torn.bin',
    headers: { authorization: `Bearer ${token}`, 'content-length': 10 * 1024 * 1024 },
  });
  req.on('error', () => undefined);
  req.write(Buffer.alloc(1024 * 1024, 't'));
  for (let i = 0; filesUnder(tmpDir).length === 0; i++) {
    assert.ok(i < 500, 'the server never started writing the upload');
    await sleep(10);
  }
  await nodes.kill(first.child);
  req.destroy();
  assert.equal(
    filesUnder(tmpDir).length,
    1,
    'the killed server left its temp file (the sweep must remove it)',
  );

  const second = await nodes.start({ dataDir });
  try {
    for (let i = 0; filesUnder(tmpDir).length > 0; i++) {
      assert.ok(i < 1000, 'the start-up sweep did not remove the temp file');
      await sleep(10);
    }
    const head = await v1(second.url, '/v1/buckets/safe/objects/torn.bin', { method: 'HEAD' });
    assert.equal(head.status, 404);
    const got = Buffer.from(await (await v1(second.url, '/v1/buckets/safe/objects/kept.bin')).arrayBuffer());
    assert.equal(createHash('md5').update(got).digest('hex'), createHash('md5').update(kept).digest('hex'));
    assert.equal(filesUnder(join(dataDir, 'objects', 'data')).length, 1);
  } finally {
    await nodes.kill(second.child);
  }
});
