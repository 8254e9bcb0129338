// Durability: async invocations acknowledged with 202 survive a SIGKILL of the server mid-load;
// after a restart on the same data dir every one of them runs to completion (at least once).
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { readLocalCredentials } from '../../src/auth/credentials.js';
import { ApiClient } from '../../src/cli/api-client.js';
import { deployApp, stopBundling } from '../../src/cli/commands/deploy.js';
import { createOutput } from '../../src/cli/output.js';
import { Spinner } from '../../src/cli/spinner.js';
import { installLeakGuard } from '../helpers/leak-guard.js';

const MAIN = fileURLToPath(new URL('../../src/cli/main.ts', import.meta.url));
const TSX = import.meta.resolve('tsx');
const root = mkdtempSync(join(tmpdir(), 'nimbus-crash-'));
const dataDir = join(root, 'data');
const appDir = join(root, 'app');
const children = new Set<ChildProcess>();

after(async () => {
  for (const child of children) child.kill('SIGKILL');
  await stopBundling();
  rmSync(root, { recursive: true, force: true });
});
installLeakGuard();

/** Start `nimbus start` on a free port in a child process; resolves with its URL. */
function startNimbus(): Promise<{ child: ChildProcess; url: string }> {
  const child = spawn(
    process.execPath,
    ['--import', TSX, MAIN, 'start', '--port', '0', '--data-dir', dataDir],
    {
      env: { PATH: process.env.PATH, HOME: process.env.HOME, NO_COLOR: '1' },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  children.add(child);
  child.on('exit', () => children.delete(child));
  return new Promise((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error(`server did not start:\n${out}`)), 20_000);
    const onData = (chunk: Buffer) => {
      out += chunk.toString();
      const m = /Nimbus listening on (http:\/\/\S+)\n/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve({ child, url: m[1]! });
      }
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    child.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`server exited (${code}) before listening:\n${out}`));
    });
  });
}

function killed(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve();
    child.once('exit', () => resolve());
    child.kill('SIGKILL');
  });
}

test('every acknowledged async invocation runs after a SIGKILL and restart', async () => {
  mkdirSync(appDir);
  writeFileSync(
    join(appDir, 'nimbus.yml'),
    'app: crash\nfunctions:\n  slow:\n    handler: index.handler\n    runtime: nodejs\n    maxConcurrency: 4\n',
  );
  writeFileSync(
    join(appDir, 'index.js'),
    'exports.handler = async (e) => { await new Promise((r) => setTimeout(r, 20)); return { n: e.n }; };',
  );

  const first = await startNimbus();
  const creds = readLocalCredentials(dataDir, {});
  assert.ok(creds?.token, 'the first start wrote credentials.json');
  const client = new ApiClient({ endpoint: first.url, token: creds.token });
  await deployApp(appDir, client, new Spinner(createOutput({ write: () => true } as never, { env: {} })));

  // 120 events at 4 at a time × 20 ms ≈ 0.6 s of work: the kill lands mid-load.
  const ids: string[] = [];
  for (let n = 0; n < 120; n++) {
    const res = await client.invoke('crash-slow', { payload: JSON.stringify({ n }), async: true });
    assert.equal(res.kind, 'async');
    if (res.kind === 'async') ids.push(res.invocationId);
  }
  await new Promise((r) => setTimeout(r, 150));
  await killed(first.child);

  const second = await startNimbus();
  const deadline = Date.now() + 30_000;
  const status = new Map<string, string>();
  while (Date.now() < deadline) {
    for (const id of ids) {
      if (status.get(id) === 'succeeded') continue;
      const res = await fetch(`${second.url}/v1/invocations/${id}`, {
        headers: { authorization: `Bearer ${creds.token}` },
      });
      assert.equal(res.status, 200, `invocation ${id} was acknowledged, so it must exist`);
      status.set(id, ((await res.json()) as { status: string }).status);
    }
    if (ids.every((id) => status.get(id) === 'succeeded')) break;
    await new Promise((r) => setTimeout(r, 200));
  }
  const notDone = ids.filter((id) => status.get(id) !== 'succeeded');
  assert.deepEqual(notDone, [], `${notDone.length} acknowledged invocations did not complete`);
  await killed(second.child);
});
