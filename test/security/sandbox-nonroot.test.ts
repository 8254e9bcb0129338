// A subset of the escape suite with the server running as an unprivileged user (as root we re-run it as nobody through setpriv).
import { it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { installLeakGuard } from '../helpers/leak-guard.js';

installLeakGuard();

const here = new URL('.', import.meta.url).pathname;

/**
 * Runs in the child, as the unprivileged user: a ProcessBackend with `sandbox: required`, one
 * Python function running the attacks, and the host-side view of the sandbox's user namespace.
 * cgroups are not writable for that user, so memory limits fall back to the watchdog; that does
 * not change the sandbox.
 */
const CHILD = `
import { mkdirSync, readdirSync, readFileSync, readlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
const { ProcessBackend } = await import(${JSON.stringify(join(here, '../../src/runtime/process/process-backend.ts'))});
const { FUNCTION_DEFAULTS } = await import(${JSON.stringify(join(here, '../../src/functions/function-model.ts'))});
const { PYTHON_ATTACKS } = await import(${JSON.stringify(join(here, 'sandbox-attacks.ts'))});
const root = process.argv[1];
const code = join(root, 'code');
mkdirSync(code);
writeFileSync(join(code, 'attack.py'), PYTHON_ATTACKS);
const backend = await ProcessBackend.create({ workDir: join(root, 'run'), sandbox: 'required', prewarm: { nodejs: 0, python: 0, provided: 0 } });
const inst = await backend.spawn({
  functionName: 'attacker', version: '$LATEST', codeDir: code, codeSha256: 'x', region: 'local',
  invokedFunctionArn: 'arn:aws:lambda:local:000000000000:function:attacker',
  config: { ...FUNCTION_DEFAULTS, runtime: 'python', handler: 'attack.handler' },
});
const call = async (event) => {
  const r = await inst.invoke({ requestId: randomUUID(), payload: Buffer.from(JSON.stringify(event)), deadlineMs: Date.now() + 10000 });
  if (!r.ok) throw new Error(r.error.errorMessage);
  return JSON.parse(r.payload.toString());
};
const ns = (await call({ attack: 'readlink', path: '/proc/self/ns/user' })).value;
const maps = readdirSync('/proc').filter((p) => /^\\d+$/.test(p)).flatMap((p) => {
  try { return readlinkSync('/proc/' + p + '/ns/user') === ns ? [readFileSync('/proc/' + p + '/uid_map', 'utf8').trim()] : []; } catch { return []; }
});
const out = {
  uid: process.getuid(),
  maps,
  syscalls: await call({ attack: 'syscalls' }),
  sockets: await call({ attack: 'sockets' }),
  sysctl: await call({ attack: 'rewrite', path: '/proc/sys/kernel/core_pattern' }),
};
await inst.dispose();
await backend.close();
process.stdout.write(JSON.stringify(out));
`;

it('as an unprivileged server user: the sandbox maps to that user, seccomp and /proc/sys hold', async () => {
  const root = mkdtempSync(join(tmpdir(), 'nimbus-nonroot-'));
  const isRoot = process.getuid?.() === 0;
  try {
    const node = [process.execPath, '--import', 'tsx', '--input-type=module', '-e', CHILD, root];
    let argv = node;
    if (isRoot) {
      // The temp dir must belong to the user the server runs as.
      chmodSync(root, 0o777);
      argv = ['setpriv', '--reuid=65534', '--regid=65534', '--clear-groups', ...node];
    }
    const child = spawn(argv[0] as string, argv.slice(1), {
      stdio: ['ignore', 'pipe', 'pipe'],
      cwd: join(here, '../..'),
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: root },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const code = await new Promise((resolve) => child.once('close', resolve));
    assert.equal(code, 0, stderr);
    const out = JSON.parse(stdout) as {
      uid: number;
      maps: string[];
      syscalls: Record<string, string>;
      sockets: Record<string, string>;
      sysctl: { ok: boolean };
    };
    const serverUid = isRoot ? 65534 : process.getuid?.();
    assert.equal(out.uid, serverUid);
    assert.ok(out.maps.length > 0);
    for (const map of out.maps) assert.equal(Number(map.split(/\s+/)[1]), serverUid, `uid_map ${map}`);
    const { clone3, ...rest } = out.syscalls;
    for (const [name, result] of Object.entries(rest)) assert.equal(result, 'EPERM', name);
    assert.equal(clone3, 'ENOSYS');
    assert.deepEqual(out.sockets, {
      packet: 'EPERM',
      raw: 'EPERM',
      netlink: 'EPERM',
      alg: 'EPERM',
      inet: 'ok',
      unix: 'ok',
    });
    assert.equal(out.sysctl.ok, false);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});
