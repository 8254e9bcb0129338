// Output floods cannot take the node down: fd 1/2 floods (direct writes, inherited by children) are capped, drained and counted.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { installLeakGuard } from '../helpers/leak-guard.js';
import { startTestServer } from '../helpers/test-server.js';
import type { TestServer } from '../helpers/test-server.js';
import { ProcessBackend, RUNNERS_DIR } from '../../src/runtime/process/process-backend.js';
import { MAX_LOG_BYTES } from '../../src/runtime/process/output-budget.js';
import type { FunctionInstance, InstanceInvokeResult } from '../../src/runtime/runtime-backend.js';
import type { FunctionConfig } from '../../src/functions/function-model.js';
import { cleanupFixtures, codeDir, json, request, spec, tempDir } from '../runtime/runtime-fixtures.js';

installLeakGuard();

const MB = 1024 * 1024;
/** Flood size: well above anything kept, small enough to stay quick at pipe speed. */
const FLOOD_MB = 200;
/**
 * Server RSS growth allowed during a flood. Without the cap the whole flood was kept as a string
 * (a 200 MB flood grew the server by more than 200 MB; 512 MB ended it with RangeError).
 */
const MAX_RSS_GROWTH = 64 * MB;

const NODE_FLOOD = `
import { writeSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
// fd 1 is non-blocking in a node process: retry EAGAIN, as a determined writer would.
const writeAll = (fd, buf) => {
  for (let off = 0; off < buf.length; ) {
    try { off += writeSync(fd, buf, off); } catch (e) { if (e.code !== 'EAGAIN') throw e; }
  }
};
export const handler = async (e) => {
  if (e.mode === 'fd') {
    const chunk = Buffer.alloc(1 << 20, 0x61);
    for (let i = 0; i < e.mb; i++) writeAll(e.fd ?? 1, chunk);
  } else if (e.mode === 'child') {
    // A child inheriting fd 1 and fd 2 writes straight to the runner's pipes.
    spawnSync('/bin/sh', ['-c', 'head -c ' + e.mb * 1048576 + ' /dev/zero | tr "\\\\000" c'], { stdio: 'inherit' });
  } else if (e.mode === 'console') {
    const line = 'd'.repeat(65536);
    for (let i = 0; i < e.mb * 16; i++) console.log(line);
  } else if (e.mode === 'idle') {
    // Keeps writing after the invocation returned, while the instance is idle.
    setTimeout(() => { const chunk = Buffer.alloc(1 << 20, 0x69); for (let i = 0; i < e.mb; i++) writeAll(1, chunk); }, 0);
  }
  return 'done';
};`;

const PYTHON_FLOOD = `
import os
def handler(event, context):
    chunk = b"p" * (1 << 20)
    for _ in range(event["mb"]):
        view = memoryview(chunk)
        while view:
            view = view[os.write(event.get("fd", 1), view):]
    return "done"
`;

/** Run `fn` while sampling this process's RSS; returns its result and the peak growth. */
async function withRss<T>(fn: () => Promise<T>): Promise<{ value: T; growth: number }> {
  globalThis.gc?.();
  const base = process.memoryUsage.rss();
  let peak = base;
  const timer = setInterval(() => (peak = Math.max(peak, process.memoryUsage.rss())), 10);
  try {
    const value = await fn();
    peak = Math.max(peak, process.memoryUsage.rss());
    return { value, growth: peak - base };
  } finally {
    clearInterval(timer);
  }
}

function assertOk(r: InstanceInvokeResult): asserts r is Extract<InstanceInvokeResult, { ok: true }> {
  if (!r.ok) assert.fail(`${r.error.errorType}: ${r.error.errorMessage}\n${r.logs.slice(0, 2000)}`);
}

describe('output floods (process tier)', () => {
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

  async function instance(
    files: Record<string, string>,
    config: Partial<FunctionConfig>,
  ): Promise<FunctionInstance> {
    const inst = await backend.spawn(spec(codeDir(files), { timeout: 120, ...config }));
    live.push(inst);
    return inst;
  }

  async function flood(inst: FunctionInstance, event: Record<string, unknown>): Promise<void> {
    const { value: r, growth } = await withRss(() => inst.invoke(request(event, 120)));
    assertOk(r);
    assert.equal(json(r.payload), 'done');
    assert.ok(growth < MAX_RSS_GROWTH, `server RSS grew by ${(growth / MB).toFixed(0)} MB`);
    assert.ok(Buffer.byteLength(r.logs) <= MAX_LOG_BYTES + 4096, `kept ${r.logs.length} chars of logs`);
    const dropped = r.droppedOutputBytes ?? 0;
    assert.ok(dropped >= FLOOD_MB * MB - MAX_LOG_BYTES - 64 * 1024, `dropped ${dropped} bytes`);
    assert.ok(dropped <= FLOOD_MB * MB, `dropped ${dropped} bytes`);
    assert.match(r.logs, /\[nimbus\] output over 1048576 bytes: \d+ bytes dropped\n$/);
    // The instance is still usable, and the next invocation starts with a fresh budget.
    const next = await inst.invoke(request({ mode: 'none', mb: 0 }, 10));
    assertOk(next);
    assert.equal(json(next.payload), 'done');
    assert.ok((next.droppedOutputBytes ?? 0) < MB, `next invocation dropped ${next.droppedOutputBytes}`);
  }

  it('node: fs.writeSync(1) flood is capped and counted, the server stays small', async () => {
    const inst = await instance({ 'index.mjs': NODE_FLOOD }, {});
    await flood(inst, { mode: 'fd', mb: FLOOD_MB });
    await flood(inst, { mode: 'fd', fd: 2, mb: FLOOD_MB });
  });

  it('node: a child process inheriting stdout floods it: capped and counted', async () => {
    const inst = await instance({ 'index.mjs': NODE_FLOOD }, {});
    await flood(inst, { mode: 'child', mb: FLOOD_MB });
  });

  it('python: os.write(1) flood is capped and counted', async () => {
    const inst = await instance(
      { 'handler.py': PYTHON_FLOOD },
      { runtime: 'python', handler: 'handler.handler' },
    );
    await flood(inst, { mb: FLOOD_MB });
  });

  it('node: console.log over the cap is counted as dropped (runner-side cap)', async () => {
    const inst = await instance({ 'index.mjs': NODE_FLOOD }, {});
    const r = await inst.invoke(request({ mode: 'console', mb: 8 }, 60));
    assertOk(r);
    assert.ok((r.droppedOutputBytes ?? 0) >= 6 * MB, `dropped ${r.droppedOutputBytes}`);
    assert.ok(Buffer.byteLength(r.logs) <= MAX_LOG_BYTES + 4096);
  });

  it('output written while idle is bounded and counted in the next invocation', async () => {
    const inst = await instance({ 'index.mjs': NODE_FLOOD }, {});
    const { growth } = await withRss(async () => {
      assertOk(await inst.invoke(request({ mode: 'idle', mb: 100 }, 10)));
      // Let the idle writer finish (it is fast; the pipe is drained as it writes).
      await new Promise((r) => setTimeout(r, 1500));
    });
    assert.ok(growth < MAX_RSS_GROWTH, `server RSS grew by ${(growth / MB).toFixed(0)} MB while idle`);
    const next = await inst.invoke(request({ mode: 'none' }, 10));
    assertOk(next);
    assert.ok((next.droppedOutputBytes ?? 0) > 50 * MB, `dropped ${next.droppedOutputBytes}`);
    assert.ok(Buffer.byteLength(next.logs) <= MAX_LOG_BYTES + 4096);
  });

  it('every runner caps its own capture at the host cap', () => {
    const caps: Record<string, RegExp> = {
      'handler-host.cjs': /const MAX_LOGS = 1024 \* 1024;/,
      'python-runner.py': /MAX_LOG_BYTES = 1024 \* 1024/,
      'provided-runner.mjs': /const MAX_LOG_CHARS = 1024 \* 1024;/,
    };
    assert.equal(MAX_LOG_BYTES, 1024 * 1024);
    for (const [file, re] of Object.entries(caps)) {
      assert.match(readFileSync(join(RUNNERS_DIR, file), 'utf8'), re, file);
    }
  });
});

describe('dropped output in the REPORT line', () => {
  let t: TestServer;
  before(async () => {
    t = await startTestServer();
  });
  after(() => t.close());

  it('REPORT says how many bytes were dropped', async () => {
    await t.deployFiles({
      'nimbus.yml':
        'app: flood\nfunctions:\n  fd:\n    handler: index.handler\n    runtime: nodejs\n    timeout: 60\n',
      'index.mjs': NODE_FLOOD,
    });
    const res = await t.client.invoke('flood-fd', { payload: JSON.stringify({ mode: 'fd', mb: 8 }) });
    assert.equal(res.kind, 'sync');
    const requestId = res.requestId!;
    const r = await t.fetchV1(`/v1/functions/flood-fd/logs?since=${Date.now() - 60_000}`);
    const { lines } = (await r.json()) as { lines: Array<{ requestId: string; message: string }> };
    const report = lines.find((l) => l.requestId === requestId && l.message.startsWith('REPORT'));
    assert.ok(report, 'a REPORT line');
    const m = /\tDropped Output: (\d+) bytes$/.exec(report.message);
    assert.ok(m, report.message);
    assert.ok(Number(m[1]) >= 7 * MB, report.message);
  });
});
