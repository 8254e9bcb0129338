// Processes a function starts do not outlive its invocation (detached, double-forked, in Node and Python; with and without cgroups).
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { installLeakGuard } from '../helpers/leak-guard.js';
import { ProcessBackend } from '../../src/runtime/process/process-backend.js';
import type { FunctionInstance, InstanceInvokeResult } from '../../src/runtime/runtime-backend.js';
import type { FunctionConfig } from '../../src/functions/function-model.js';
import { cleanupFixtures, codeDir, json, request, spec, tempDir } from '../runtime/runtime-fixtures.js';

installLeakGuard();

/** Starts CPU spinners named by the event's marker ($0 of the shell), then returns at once. */
const NODE_SPAWNER = `
import { spawn, spawnSync } from 'node:child_process';
const spin = 'while :; do :; done';
export const handler = async (e) => {
  if (e.how === 'detached') {
    spawn('/bin/sh', ['-c', spin, e.marker], { detached: true, stdio: 'ignore' }).unref();
  } else if (e.how === 'double-fork') {
    // The middle shell exits at once: the spinner is an orphan, reparented away from the runner.
    spawnSync('/bin/sh', ['-c', '/bin/sh -c "' + spin + '" ' + e.marker + ' >/dev/null 2>&1 &']);
  } else if (e.how === 'short') {
    spawnSync('/bin/sh', ['-c', 'exit 0']);
  }
  return 'started';
};`;

const PYTHON_SPAWNER = `
import subprocess
def handler(event, context):
    subprocess.Popen(["/bin/sh", "-c", "while :; do :; done", event["marker"]],
                     start_new_session=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return "started"
`;

/** Host pids of live (non-zombie) processes whose command line contains `marker`. */
function withMarker(marker: string): number[] {
  const out: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (!readFileSync(`/proc/${entry}/cmdline`, 'latin1').includes(marker)) continue;
      const stat = readFileSync(`/proc/${entry}/stat`, 'latin1');
      if (stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z') out.push(Number(entry));
    } catch {
      // Gone meanwhile.
    }
  }
  return out;
}

/** Poll until no process carries `marker` (a SIGKILL is asynchronous); returns what is left. */
async function goneSoon(marker: string): Promise<number[]> {
  for (let i = 0; i < 100; i++) {
    const left = withMarker(marker);
    if (left.length === 0) return [];
    await new Promise((r) => setTimeout(r, 20));
  }
  return withMarker(marker);
}

function assertOk(r: InstanceInvokeResult): asserts r is Extract<InstanceInvokeResult, { ok: true }> {
  if (!r.ok) assert.fail(`${r.error.errorType}: ${r.error.errorMessage}\n${r.logs.slice(0, 2000)}`);
}

for (const cgroups of ['auto', 'off'] as const) {
  describe(`leftover processes (process tier, cgroups ${cgroups})`, () => {
    let backend: ProcessBackend;
    const live: FunctionInstance[] = [];
    const markers: string[] = [];

    before(async () => {
      backend = await ProcessBackend.create({
        workDir: join(tempDir('nimbus-data-'), 'run'),
        sandbox: 'auto',
        cgroups,
        prewarm: { nodejs: 0, python: 0, provided: 0 },
      });
    });
    after(async () => {
      await Promise.all(live.map((i) => i.dispose()));
      await backend.close();
      cleanupFixtures();
      for (const m of markers) for (const pid of withMarker(m)) process.kill(pid, 'SIGKILL');
    });

    async function instance(files: Record<string, string>, config: Partial<FunctionConfig> = {}) {
      const inst = await backend.spawn(spec(codeDir(files), { timeout: 10, ...config }));
      live.push(inst);
      return inst;
    }

    function marker(): string {
      const m = `nimbus-spinner-${randomUUID()}`;
      markers.push(m);
      return m;
    }

    it('uses cgroups only when asked', () => {
      if (cgroups === 'off') assert.equal(backend.memoryEnforcement, 'watchdog');
    });

    for (const how of ['detached', 'double-fork'] as const) {
      it(`node: a ${how} CPU spinner is killed when the invocation ends`, async () => {
        const inst = await instance({ 'index.mjs': NODE_SPAWNER });
        const m = marker();
        const r = await inst.invoke(request({ how, marker: m }, 10));
        assertOk(r);
        assert.equal(json(r.payload), 'started');
        assert.deepEqual(await goneSoon(m), [], 'the spinner outlived its invocation');
        // The instance itself is untouched and serves the next invocation.
        const next = await inst.invoke(request({ how: 'short' }, 10));
        assertOk(next);
        assert.equal(inst.alive, true);
      });
    }

    it('python: a spinner in its own session is killed when the invocation ends', async () => {
      const inst = await instance(
        { 'handler.py': PYTHON_SPAWNER },
        { runtime: 'python', handler: 'handler.handler' },
      );
      const m = marker();
      assertOk(await inst.invoke(request({ marker: m }, 10)));
      assert.deepEqual(await goneSoon(m), [], 'the spinner outlived its invocation');
      const again = marker();
      assertOk(await inst.invoke(request({ marker: again }, 10)));
      assert.deepEqual(await goneSoon(again), []);
    });

    it('a spinner started during init is killed when init ends', async () => {
      const m = marker();
      const inst = await instance({
        'index.mjs': `import { spawn } from 'node:child_process';
spawn('/bin/sh', ['-c', 'while :; do :; done', '${m}'], { detached: true, stdio: 'ignore' }).unref();
export const handler = async () => 'ok';`,
      });
      assert.deepEqual(await goneSoon(m), []);
      assertOk(await inst.invoke(request({}, 10)));
    });

    it('provided: the bootstrap (and what it started during init) survives invocations', async () => {
      const m = marker();
      // A bootstrap that does not exec: the shell stays and runs the loop as its child.
      const bootstrap = `#!/bin/sh
api="http://$AWS_LAMBDA_RUNTIME_API/2018-06-01/runtime/invocation"
/bin/sh -c 'while :; do sleep 1; done' ${m}-helper &
while :; do
  id=$(python3 -c 'import sys,urllib.request as u; r=u.urlopen(sys.argv[1]+"/next"); print(r.headers["Lambda-Runtime-Aws-Request-Id"])' "$api")
  python3 -c 'import sys,urllib.request as u; u.urlopen(u.Request(sys.argv[1]+"/"+sys.argv[2]+"/response", data=b"\\"ok\\"", method="POST"))' "$api" "$id"
done
`;
      const dir = codeDir({ bootstrap });
      const { chmodSync } = await import('node:fs');
      chmodSync(join(dir, 'bootstrap'), 0o755);
      const inst = await backend.spawn(spec(dir, { runtime: 'provided', handler: 'x', timeout: 10 }));
      live.push(inst);
      for (let i = 0; i < 2; i++) {
        const r = await inst.invoke(request({}, 10));
        assertOk(r);
        assert.equal(json(r.payload), 'ok');
      }
      assert.equal(withMarker(`${m}-helper`).length, 1, 'the helper the bootstrap started in init lives on');
      await inst.dispose();
      assert.deepEqual(await goneSoon(`${m}-helper`), [], 'and dies with the instance');
    });
  });
}
