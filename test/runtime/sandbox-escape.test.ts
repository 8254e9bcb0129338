// Sandbox escape attempts against the process tier with real bwrap: files, writes, env, network, /tmp, pids, fds.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import type { Server } from 'node:net';
import { join } from 'node:path';
import { installLeakGuard } from '../helpers/leak-guard.js';
import { ProcessBackend } from '../../src/runtime/process/process-backend.js';
import type { FunctionInstance, InstanceInvokeResult } from '../../src/runtime/runtime-backend.js';
import type { FunctionConfig } from '../../src/functions/function-model.js';
import { cleanupFixtures, codeDir, json, request, spec, tempDir } from './runtime-fixtures.js';

installLeakGuard();
process.env.NIMBUS_TEST_SERVER_SECRET = 'do-not-leak';

/** One handler that runs an attack chosen by the event and reports what happened. */
const ATTACKS = `
import { readFileSync, writeFileSync, readdirSync, openSync } from 'node:fs';
import { connect } from 'node:net';
import { spawn } from 'node:child_process';
const attempt = (fn) => { try { return { ok: true, value: fn() }; } catch (e) { return { ok: false, code: e.code ?? e.message }; } };
export const handler = async (e) => {
  switch (e.attack) {
    case 'read': return attempt(() => readFileSync(e.path, 'utf8'));
    case 'list': return attempt(() => readdirSync(e.path));
    case 'write': return attempt(() => writeFileSync(e.path, 'pwned'));
    case 'env': return { ...process.env };
    case 'whoami': return { uid: process.getuid(), gid: process.getgid(), pids: readdirSync('/proc').filter((p) => /^\\d+$/.test(p)).length };
    case 'connect': return await new Promise((resolve) => {
      const s = connect(e.port, '127.0.0.1');
      s.setTimeout(2000, () => { s.destroy(); resolve({ ok: false, code: 'TIMEOUT' }); });
      s.on('data', (d) => { s.destroy(); resolve({ ok: true, value: String(d) }); });
      s.on('error', (err) => resolve({ ok: false, code: err.code }));
    });
    case 'fill-tmp': return attempt(() => { for (let i = 0; i < e.mb; i++) writeFileSync('/tmp/f' + i, Buffer.alloc(1024 * 1024, 1)); return e.mb; });
    case 'fork': {
      const children = []; let error = null;
      for (let i = 0; i < e.n && !error; i++) {
        try {
          const c = spawn('/bin/sleep', ['30'], { stdio: 'ignore' });
          await new Promise((resolve) => { c.once('spawn', resolve); c.once('error', (err) => { error = err.code ?? err.message; resolve(); }); });
          if (!error) children.push(c);
        } catch (err) { error = err.code ?? err.message; }
      }
      for (const c of children) c.kill('SIGKILL');
      return { started: children.length, error };
    }
    case 'fds': { const fds = []; try { for (let i = 0; i < e.n; i++) fds.push(openSync('/dev/null', 'r')); return { opened: fds.length, error: null }; } catch (err) { return { opened: fds.length, error: err.code }; } }
  }
  return 'unknown attack';
};`;

interface Attempt {
  ok: boolean;
  code?: string;
  value?: unknown;
}

describe('sandbox escapes (process tier, bwrap)', () => {
  let backend: ProcessBackend;
  let dir: string;
  let dataDir: string;
  const live: FunctionInstance[] = [];

  before(async () => {
    dataDir = tempDir('nimbus-data-');
    backend = await ProcessBackend.create({ workDir: join(dataDir, 'run'), sandbox: 'required' });
    dir = codeDir({ 'index.mjs': ATTACKS });
    writeFileSync(join(dataDir, 'secret.txt'), 'host secret');
  });
  after(async () => {
    await Promise.all(live.map((i) => i.dispose()));
    await backend.close();
    cleanupFixtures();
  });

  async function run(event: Record<string, unknown>, config: Partial<FunctionConfig> = {}): Promise<unknown> {
    const inst = await backend.spawn(spec(dir, { timeout: 10, ...config }));
    live.push(inst);
    const r: InstanceInvokeResult = await inst.invoke(request(event, 10));
    if (!r.ok) assert.fail(`${r.error.errorType}: ${r.error.errorMessage}\n${r.logs}`);
    return json(r.payload);
  }

  it('runs as nobody in its own pid namespace', async () => {
    assert.equal(backend.sandboxed, true);
    const who = (await run({ attack: 'whoami' })) as { uid: number; gid: number; pids: number };
    assert.equal(who.uid, 65534);
    assert.equal(who.gid, 65534);
    assert.ok(who.pids <= 4, `sees ${who.pids} processes`);
  });

  it('cannot read host files outside its code', async () => {
    for (const path of [
      join(dataDir, 'secret.txt'),
      '/etc/shadow',
      '/root/.bashrc',
      join(process.cwd(), 'package.json'),
    ]) {
      const r = (await run({ attack: 'read', path })) as Attempt;
      assert.equal(r.ok, false, `read ${path}: ${JSON.stringify(r.value)?.slice(0, 80)}`);
    }
    for (const path of ['/root', '/home', '/work', '/opt', dataDir]) {
      const r = (await run({ attack: 'list', path })) as Attempt;
      assert.equal(r.ok, false, `list ${path}`);
    }
    const init = (await run({ attack: 'read', path: '/proc/1/environ' })) as Attempt;
    assert.ok(!String(init.value).includes('do-not-leak'), "the sandbox's pid 1 has a clean environment too");
    const own = (await run({ attack: 'read', path: '/var/task/index.mjs' })) as Attempt;
    assert.equal(own.ok, true, 'its own code is readable');
  });

  it('cannot write outside /tmp', async () => {
    for (const path of ['/var/task/x', '/x', '/home/x', '/etc/x', '/usr/x', '/var/runtime/x']) {
      const r = (await run({ attack: 'write', path })) as Attempt;
      assert.equal(r.ok, false, `write ${path}`);
    }
    assert.equal(((await run({ attack: 'write', path: '/tmp/ok' })) as Attempt).ok, true);
  });

  it('does not see the server environment', async () => {
    const env = (await run({ attack: 'env' })) as Record<string, string>;
    assert.equal(env.NIMBUS_TEST_SERVER_SECRET, undefined);
    for (const key of Object.keys(env)) {
      assert.match(key, /^(AWS_|LAMBDA_|_HANDLER|TZ|LANG|PATH)/, `unexpected variable ${key}`);
    }
  });

  it('reaches the network only when allowed', async () => {
    const server: Server = createServer((s) => s.end('hello from host'));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const port = (server.address() as { port: number }).port;
      const off = (await run({ attack: 'connect', port })) as Attempt;
      assert.equal(off.ok, false, 'network off');
      const on = (await run({ attack: 'connect', port }, { network: true })) as Attempt;
      assert.deepEqual(on, { ok: true, value: 'hello from host' });
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });

  it('limits /tmp to tmpSize', async () => {
    const r = (await run({ attack: 'fill-tmp', mb: 4 }, { tmpSize: 2 })) as Attempt;
    assert.deepEqual(r, { ok: false, code: 'ENOSPC' });
  });

  it('limits processes (fork bomb fails only that invocation)', async (t) => {
    if (backend.memoryEnforcement !== 'cgroup') return t.skip('no writable pids cgroup on this machine');
    const r = (await run({ attack: 'fork', n: 200 }, { maxProcesses: 20 })) as {
      started: number;
      error: string | null;
    };
    assert.ok(r.error !== null, `started ${r.started} processes without hitting the limit`);
    assert.ok(r.started < 40, `started ${r.started}`);
    assert.equal(
      ((await run({ attack: 'whoami' })) as { uid: number }).uid,
      65534,
      'other instances still work',
    );
  });

  it('limits open files', async () => {
    const r = (await run({ attack: 'fds', n: 200 }, { maxOpenFiles: 64 })) as {
      opened: number;
      error: string | null;
    };
    assert.equal(r.error, 'EMFILE');
    assert.ok(r.opened < 64, `opened ${r.opened}`);
    const d = (await run({ attack: 'fds', n: 200 })) as { opened: number; error: string | null };
    assert.deepEqual(d, { opened: 200, error: null }, 'the default limit (1024) allows 200');
  });
});
