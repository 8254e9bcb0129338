// Escape attempts from hostile Node and Python functions against a real server run as root with `sandbox: required`.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { createServer } from 'node:net';
import type { Server } from 'node:net';
import { join } from 'node:path';
import { installLeakGuard } from '../helpers/leak-guard.js';
import { startTestServer } from '../helpers/test-server.js';
import type { TestServer } from '../helpers/test-server.js';
import { NODE_ATTACKS, PYTHON_ATTACKS } from './sandbox-attacks.js';

installLeakGuard();

interface Attempt {
  ok: boolean;
  code?: string;
  value?: unknown;
}

const APP = [
  'app: attacker',
  'functions:',
  '  py:',
  '    handler: attack.handler',
  '    runtime: python',
  '  node:',
  '    handler: attack.handler',
  '    runtime: nodejs',
  '  shm:',
  '    handler: attack.handler',
  '    runtime: nodejs',
  '    tmpSize: 2',
  '',
].join('\n');

describe(
  'sandbox escapes against a root server (process tier, sandbox: required)',
  { skip: skipReason() },
  () => {
    let t: TestServer;
    let victimCode: string;

    before(async () => {
      t = await startTestServer({ sandbox: 'required', prewarm: { nodejs: 0, python: 0, provided: 0 } });
      await t.deployFiles({ 'nimbus.yml': APP, 'attack.py': PYTHON_ATTACKS, 'attack.js': NODE_ATTACKS });
      await t.deployFiles({
        'nimbus.yml': 'app: victim\nfunctions:\n  secret:\n    handler: index.handler\n    runtime: nodejs\n',
        'index.js': 'exports.handler = async () => "victim secret";',
      });
      // The victim's unpacked code (the code cache fills on first use).
      assert.equal(await invoke('victim-secret', {}), 'victim secret');
      const codeDirs = readdirSync(join(t.dataDir, 'code'));
      victimCode = codeDirs.map((d) => join(t.dataDir, 'code', d, 'index.js')).find((p) => p.includes(''))!;
    });
    after(async () => {
      await t?.close();
    });

    async function invoke(fn: string, event: Record<string, unknown>): Promise<unknown> {
      const res = await t.client.invoke(fn, { payload: JSON.stringify(event) });
      assert.equal(res.kind, 'sync');
      if (res.kind !== 'sync') return undefined;
      assert.equal(res.functionError, undefined, res.body);
      return JSON.parse(res.body);
    }

    it('the server is root and sandboxed; the sandbox maps to an unprivileged host uid', async () => {
      assert.equal(process.getuid?.(), 0);
      assert.equal(t.server.platform.sandboxed, true);
      for (const fn of ['attacker-py', 'attacker-node']) {
        // Inside, uid_map shows "65534 0 1" either way: bwrap nests a second user namespace
        // (--disable-userns) and the map is relative to the parent one. What counts is the map
        // as the host reads it, so find the sandbox's processes by their user namespace.
        const ns = (await invoke(fn, { attack: 'readlink', path: '/proc/self/ns/user' })) as Attempt;
        assert.equal(ns.ok, true);
        const maps = hostUidMaps(String(ns.value));
        assert.ok(maps.length > 0, `${fn}: no host process in user namespace ${String(ns.value)}`);
        for (const { pid, map, uid } of maps) {
          const [inside, outside] = map.trim().split(/\s+/).map(Number);
          assert.equal(inside, 65534, fn);
          assert.notEqual(
            outside,
            0,
            `${fn}: the sandbox's uid maps to host root (pid ${pid}: ${map.trim()})`,
          );
          assert.equal(outside, 65534, fn);
          assert.equal(uid, 65534, `${fn}: host uid of pid ${pid}`);
        }
      }
    });

    it('cannot write a global sysctl or the sysrq trigger; /sys is absent', async () => {
      for (const fn of ['attacker-py', 'attacker-node']) {
        for (const path of [
          '/proc/sys/kernel/core_pattern',
          '/proc/sys/vm/drop_caches',
          '/proc/sysrq-trigger',
        ]) {
          const r = (await invoke(fn, { attack: 'rewrite', path })) as Attempt;
          assert.equal(r.ok, false, `${fn} wrote ${path}`);
        }
        const sys = (await invoke(fn, { attack: 'list', path: '/sys' })) as Attempt;
        assert.deepEqual(sys, { ok: false, code: 'ENOENT' }, fn);
      }
    });

    it('mount, ptrace, bpf, unshare, setns, keyctl, io_uring, perf_event_open and friends fail with EPERM', async () => {
      const r = (await invoke('attacker-py', { attack: 'syscalls' })) as Record<string, string>;
      const { clone3, ...rest } = r;
      for (const [name, result] of Object.entries(rest)) assert.equal(result, 'EPERM', `${name}: ${result}`);
      assert.equal(clone3, 'ENOSYS', 'clone3 answers ENOSYS so libc falls back to clone');
    });

    it('raw, packet, netlink and other socket families fail; unix and inet sockets work', async () => {
      const r = (await invoke('attacker-py', { attack: 'sockets' })) as Record<string, string>;
      assert.deepEqual(r, {
        packet: 'EPERM',
        raw: 'EPERM',
        netlink: 'EPERM',
        alg: 'EPERM',
        inet: 'ok',
        unix: 'ok',
      });
    });

    it('cannot connect to a server on the host loopback with the network off', async () => {
      const server: Server = createServer((s) => s.end('hello from host'));
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      try {
        const port = (server.address() as { port: number }).port;
        const r = (await invoke('attacker-py', { attack: 'connect', port })) as Attempt;
        assert.equal(r.ok, false, JSON.stringify(r));
      } finally {
        await new Promise((resolve) => server.close(resolve));
      }
    });

    it("cannot read the data dir, the credentials, the master key or another app's code", async () => {
      const paths = [
        join(t.dataDir, 'credentials.json'),
        join(t.dataDir, 'master.key'),
        join(t.dataDir, 'nimbus.db'),
        victimCode,
      ];
      for (const fn of ['attacker-py', 'attacker-node']) {
        for (const path of paths) {
          const r = (await invoke(fn, { attack: 'read', path })) as Attempt;
          assert.equal(r.ok, false, `${fn} read ${path}`);
        }
        const list = (await invoke(fn, { attack: 'list', path: t.dataDir })) as Attempt;
        assert.equal(list.ok, false, `${fn} listed the data dir`);
      }
    });

    it('mountinfo shows no data-dir or server paths', async () => {
      const r = (await invoke('attacker-node', { attack: 'read', path: '/proc/self/mountinfo' })) as Attempt;
      assert.equal(r.ok, true);
      const text = String(r.value);
      assert.ok(!text.includes(t.dataDir), text);
      assert.ok(!text.includes(process.cwd()), text);
    });

    it('cannot signal host processes', async () => {
      for (const fn of ['attacker-py', 'attacker-node']) {
        for (const pid of [process.pid, 1]) {
          const r = (await invoke(fn, { attack: 'kill', pid })) as Attempt;
          // pid 1 inside is the sandbox's own init (bwrap), never the host's.
          if (pid === 1) continue;
          assert.deepEqual(r, { ok: false, code: 'ESRCH' }, `${fn} kill(${pid}, 0)`);
        }
      }
    });

    it('/dev/shm fills stop at its size and the rest of /dev is read-only', async () => {
      const fill = (await invoke('attacker-shm', { attack: 'fill', dir: '/dev/shm', mb: 8 })) as Attempt;
      assert.deepEqual(fill, { ok: false, code: 'ENOSPC' });
      const dev = (await invoke('attacker-node', { attack: 'write', path: '/dev/pwned' })) as Attempt;
      assert.deepEqual(dev, { ok: false, code: 'EROFS' });
      const nul = (await invoke('attacker-node', { attack: 'write', path: '/dev/null' })) as Attempt;
      assert.equal(nul.ok, true, 'device nodes stay usable');
    });
  },
);

/** Host processes in user namespace `ns` (`user:[N]`): their uid_map and real uid as the host sees them. */
function hostUidMaps(ns: string): { pid: number; map: string; uid: number }[] {
  const found: { pid: number; map: string; uid: number }[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      if (readlinkSync(`/proc/${name}/ns/user`) !== ns) continue;
      const uid = Number(/^Uid:\s+(\d+)/m.exec(readFileSync(`/proc/${name}/status`, 'utf8'))?.[1]);
      found.push({ pid: Number(name), map: readFileSync(`/proc/${name}/uid_map`, 'utf8'), uid });
    } catch {
      // Exited meanwhile.
    }
  }
  return found;
}

function skipReason(): string | false {
  if (process.getuid?.() !== 0)
    return 'these attacks target a server run as root (CI runs as root); see sandbox-nonroot.test.ts';
  return false;
}
