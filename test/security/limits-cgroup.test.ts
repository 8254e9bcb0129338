// Per-instance cgroup limits: a CPU bandwidth limit, /tmp fills that answer ENOSPC (not an OOM kill), memory still at its setting.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { installLeakGuard } from '../helpers/leak-guard.js';
import { ProcessBackend } from '../../src/runtime/process/process-backend.js';
import { CPU_PERIOD_US, defaultCpus, MIN_CPUS } from '../../src/runtime/process/cgroup-limits.js';
import type { FunctionInstance, InstanceInvokeResult } from '../../src/runtime/runtime-backend.js';
import type { FunctionConfig } from '../../src/functions/function-model.js';
import { cleanupFixtures, codeDir, json, request, spec, tempDir } from '../runtime/runtime-fixtures.js';

installLeakGuard();

const NODE_LIMITS = `
import { writeFileSync } from 'node:fs';
export const handler = async (e) => {
  if (e.fill) {
    let mb = 0;
    try { for (; mb < e.fill; mb++) writeFileSync(e.dir + '/f' + mb, Buffer.alloc(1 << 20, 1)); return { mb, code: null }; }
    catch (err) { return { mb, code: err.code }; }
  }
  if (e.alloc) { const keep = []; for (let i = 0; i < e.alloc; i++) keep.push(Buffer.alloc(1 << 20, 1)); return keep.length; }
  if (e.spinMs) { const end = Date.now() + e.spinMs; while (Date.now() < end); return 'spun'; }
  return 'ok';
};`;

const PYTHON_FILL = `
import errno
def handler(event, context):
    mb = 0
    try:
        while mb < event["fill"]:
            with open("/tmp/f%d" % mb, "wb") as f:
                f.write(b"\\1" * (1 << 20))
            mb += 1
    except OSError as e:
        return {"mb": mb, "code": errno.errorcode.get(e.errno)}
    return {"mb": mb, "code": None}
`;

/** This server's per-instance CPU cgroup directories (`nimbus-<pid>/<instance>`), v1 or v2. */
function cpuCgroupDirs(): string[] {
  const dirs: string[] = [];
  for (const line of readFileSync('/proc/self/cgroup', 'utf8').split('\n')) {
    const [id, controllers, path] = line.split(':', 3);
    if (path === undefined || controllers === undefined) continue;
    let parent: string | undefined;
    if (controllers.split(',').includes('cpu')) parent = join('/sys/fs/cgroup/cpu', path);
    else if (id === '0' && existsSync('/sys/fs/cgroup/cgroup.controllers'))
      parent = join('/sys/fs/cgroup', path);
    if (parent === undefined) continue;
    const own = join(parent, `nimbus-${process.pid}`);
    if (!existsSync(own)) continue;
    for (const d of readdirSync(own, { withFileTypes: true }))
      if (d.isDirectory()) dirs.push(join(own, d.name));
  }
  return dirs;
}

/** `{ quotaUs, periodUs }` of a v1 or v2 cpu cgroup directory. */
function cpuState(dir: string): { quotaUs: number; periodUs: number } | undefined {
  if (existsSync(join(dir, 'cpu.cfs_quota_us'))) {
    return {
      quotaUs: Number(readFileSync(join(dir, 'cpu.cfs_quota_us'), 'utf8')),
      periodUs: Number(readFileSync(join(dir, 'cpu.cfs_period_us'), 'utf8')),
    };
  }
  if (existsSync(join(dir, 'cpu.max'))) {
    const [q, p] = readFileSync(join(dir, 'cpu.max'), 'utf8').trim().split(' ');
    return { quotaUs: q === 'max' ? -1 : Number(q), periodUs: Number(p) };
  }
  return undefined;
}

function assertOk(r: InstanceInvokeResult): asserts r is Extract<InstanceInvokeResult, { ok: true }> {
  if (!r.ok) assert.fail(`${r.error.errorType}: ${r.error.errorMessage}\n${r.logs.slice(0, 2000)}`);
}

describe('cgroup limits (process tier)', () => {
  let backend: ProcessBackend;
  const live: FunctionInstance[] = [];

  before(async () => {
    backend = await ProcessBackend.create({
      workDir: join(tempDir('nimbus-data-'), 'run'),
      sandbox: 'auto',
      prewarm: { nodejs: 0, python: 0, provided: 0 },
    });
  });
  after(async () => {
    await Promise.all(live.map((i) => i.dispose()));
    await backend.close();
    cleanupFixtures();
  });

  async function instance(files: Record<string, string>, config: Partial<FunctionConfig> = {}) {
    const inst = await backend.spawn(spec(codeDir(files), { timeout: 30, ...config }));
    live.push(inst);
    return inst;
  }

  it('the default CPU share is proportional to memory with a floor', () => {
    assert.equal(defaultCpus(128, 8), MIN_CPUS);
    assert.equal(defaultCpus(1769, 8), 1);
    assert.equal(defaultCpus(3538, 8), 2);
    assert.equal(defaultCpus(10240, 2), 2, 'at most the host');
  });

  it('sets a CPU bandwidth limit on the instance', async (t) => {
    if (backend.memoryEnforcement !== 'cgroup') return t.skip('no writable cgroup on this machine');
    const inst = await instance({ 'index.mjs': NODE_LIMITS }, { memory: 128 });
    // The instance's cgroup (made for a parked launcher beforehand) and the next parked one.
    const mine = cpuCgroupDirs().filter((d) => cpuState(d) !== undefined);
    const v2 = '/sys/fs/cgroup/cgroup.controllers';
    const cpuController =
      existsSync('/sys/fs/cgroup/cpu/cpu.cfs_quota_us') ||
      (existsSync(v2) && readFileSync(v2, 'utf8').split(' ').includes('cpu'));
    if (!cpuController) return t.skip('no cpu cgroup controller on this machine');
    const states = mine.map((d) => ({ dir: d, ...cpuState(d)! }));
    const limited = states.find((s) => s.quotaUs === Math.round(MIN_CPUS * CPU_PERIOD_US));
    assert.ok(limited, `a ${MIN_CPUS}-CPU quota on the new instance: ${JSON.stringify(states)}`);
    assert.equal(limited.periodUs, CPU_PERIOD_US);
    // Whether it throttles depends on the machine's load (a cgroup held under its quota by
    // contention is never throttled), so only the function still running under it is checked.
    const spun = await inst.invoke(request({ spinMs: 200 }, 30));
    assertOk(spun);
    assert.equal(json(spun.payload), 'spun');
  });

  it('node: filling /tmp beyond memory answers ENOSPC, not an OOM kill', async (t) => {
    if (!backend.sandboxed) return t.skip('no sandbox: /tmp is the host /tmp');
    const inst = await instance({ 'index.mjs': NODE_LIMITS }, { memory: 128, tmpSize: 256 });
    const r = await inst.invoke(request({ fill: 400, dir: '/tmp' }, 30));
    assertOk(r);
    const out = json(r.payload) as { mb: number; code: string | null };
    assert.equal(out.code, 'ENOSPC');
    assert.ok(out.mb >= 250 && out.mb <= 256, `wrote ${out.mb} MB`);
    // The instance is alive and its own memory is still held at its setting.
    const oom = await inst.invoke(request({ alloc: 400 }, 30));
    assert.equal(oom.ok, false);
    if (!oom.ok) assert.equal(oom.error.errorType, 'Runtime.OutOfMemory', oom.error.errorMessage);
  });

  it('python: filling /tmp beyond memory answers ENOSPC', async (t) => {
    if (!backend.sandboxed) return t.skip('no sandbox: /tmp is the host /tmp');
    const inst = await instance(
      { 'handler.py': PYTHON_FILL },
      { runtime: 'python', handler: 'handler.handler', memory: 128, tmpSize: 256 },
    );
    const r = await inst.invoke(request({ fill: 400 }, 30));
    assertOk(r);
    assert.deepEqual((json(r.payload) as { code: string }).code, 'ENOSPC');
  });

  it('node: /tmp and /dev/shm full together still answer ENOSPC', async (t) => {
    if (!backend.sandboxed) return t.skip('no sandbox');
    const inst = await instance({ 'index.mjs': NODE_LIMITS }, { memory: 128, tmpSize: 200 });
    const filled = await inst.invoke(request({ fill: 400, dir: '/tmp' }, 30));
    assertOk(filled);
    assert.equal((json(filled.payload) as { code: string }).code, 'ENOSPC');
    const r = await inst.invoke(request({ fill: 400, dir: '/dev/shm' }, 30));
    assertOk(r);
    const shm = json(r.payload) as { mb: number; code: string };
    assert.ok(shm.code === 'ENOSPC' || shm.code === 'EROFS' || shm.code === 'EACCES', JSON.stringify(shm));
    assert.equal(inst.alive, true);
  });
});
