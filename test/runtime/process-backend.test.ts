// The RuntimeBackend contract against the process tier (real bwrap when installed), plus pool behaviour.
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { installLeakGuard } from '../helpers/leak-guard.js';
import { ProcessBackend } from '../../src/runtime/process/process-backend.js';
import { runBackendContract } from './runtime-backend.contract.js';
import { cleanupFixtures, codeDir, json, request, spec, tempDir } from './runtime-fixtures.js';

installLeakGuard();
process.env.NIMBUS_TEST_SERVER_SECRET = 'do-not-leak';

runBackendContract('process (sandbox auto)', () =>
  ProcessBackend.create({ workDir: tempDir(), sandbox: 'auto' }),
);
runBackendContract('process (sandbox off)', () =>
  ProcessBackend.create({
    workDir: tempDir(),
    sandbox: 'off',
    prewarm: { nodejs: 1, python: 0, provided: 0 },
  }),
);

describe('process backend pool', () => {
  after(() => cleanupFixtures());

  it('takes pre-started runners, refills, and leaves nothing behind on close', async () => {
    const workDir = tempDir();
    const backend = await ProcessBackend.create({
      workDir,
      sandbox: 'auto',
      prewarm: { nodejs: 2, python: 0, provided: 0 },
    });
    for (let i = 0; i < 100 && backend.idleRunners() < 2; i++) await new Promise((r) => setTimeout(r, 20));
    assert.equal(backend.idleRunners(), 2);
    const dir = codeDir({ 'index.mjs': 'export const handler = async () => process.cwd();' });
    const a = await backend.spawn(spec(dir));
    const b = await backend.spawn(spec(dir));
    const c = await backend.spawn(spec(dir)); // pool empty or refilling: may start one itself
    assert.equal(backend.liveInstances(), 3);
    for (const inst of [a, b, c]) {
      const r = await inst.invoke(request());
      assert.ok(r.ok);
      assert.equal(json(r.payload), backend.sandboxed ? '/var/task' : dir);
    }
    await a.dispose();
    assert.equal(backend.liveInstances(), 2);
    await backend.close();
    assert.equal(backend.liveInstances(), 0);
    assert.equal(backend.idleRunners(), 0);
    assert.equal(existsSync(join(workDir, 'slots')), false, 'slot dirs removed');
    assert.equal(existsSync(`/sys/fs/cgroup/pids/nimbus-${process.pid}`), false, 'cgroups removed');
    await assert.rejects(backend.spawn(spec(dir)));
  });

  it('keeps what a timed-out invocation printed (runner flushes logs while it runs)', async () => {
    const backend = await ProcessBackend.create({
      workDir: tempDir(),
      sandbox: 'auto',
      prewarm: { nodejs: 0, python: 0, provided: 0 },
    });
    try {
      const dir = codeDir({
        'index.mjs': `export const handler = async (e) => {
          console.log('step one');
          if (e.quick) return 'quick';
          if (e.burst) { console.log('x'.repeat(10000)); for (;;) {} }
          await new Promise((r) => setTimeout(r, 200));
          console.log('step two');
          await new Promise((r) => setTimeout(r, 10_000));
        };`,
      });
      const quick = await backend.spawn(spec(dir));
      const q = await quick.invoke(request({ quick: true }));
      assert.ok(q.ok);
      assert.match(q.logs, /\tINFO\tstep one\n$/, 'a fast invocation still carries its logs in its result');
      await quick.dispose();

      const sleeper = await backend.spawn(spec(dir, { timeout: 1 }));
      const r = await sleeper.invoke(request({}, 1));
      assert.ok(!r.ok);
      assert.equal(r.error.errorType, 'Sandbox.Timedout');
      assert.match(r.logs, /step one\n[^]*step two\n[^]*Task timed out after 1\.00 seconds\n$/);
      await sleeper.dispose();

      // A busy loop never yields, but 8 KiB of output is flushed as it is written.
      const spinner = await backend.spawn(spec(dir, { timeout: 1 }));
      const s = await spinner.invoke(request({ burst: true }, 1));
      assert.ok(!s.ok);
      assert.equal(s.error.errorType, 'Sandbox.Timedout');
      assert.match(s.logs, /step one\n[^]*x{10000}\n/);
      await spinner.dispose();
    } finally {
      await backend.close();
    }
  });

  it('starts with prewarm disabled (empty-pool cold starts)', async () => {
    const backend = await ProcessBackend.create({
      workDir: tempDir(),
      sandbox: 'auto',
      prewarm: { nodejs: 0, python: 0, provided: 0 },
    });
    try {
      assert.equal(backend.idleRunners(), 0);
      const inst = await backend.spawn(spec(codeDir({ 'index.js': 'exports.handler = async () => 1;' })));
      const r = await inst.invoke(request());
      assert.ok(r.ok);
      assert.equal(backend.idleRunners(), 0);
    } finally {
      await backend.close();
    }
  });
});
