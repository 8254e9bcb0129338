// Backend-level cold start: ProcessBackend/ThreadBackend spawn → handler loaded, without HTTP,
// from a pre-started pool and with an empty pool (technique of the former runtime-cold-start.ts).
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FUNCTION_DEFAULTS, type RuntimeName } from '../src/functions/function-model.js';
import { ProcessBackend } from '../src/runtime/process/process-backend.js';
import { ThreadBackend } from '../src/runtime/thread/thread-backend.js';
import type { InstanceSpec, RuntimeBackend } from '../src/runtime/runtime-backend.js';
import { NODE_HANDLER, PYTHON_HANDLER } from './lib/apps.js';
import { sleep, summarize, type Summary } from './lib/stats.js';

/** Spawn→loaded timings per case, e.g. `node pool`. */
export interface BackendColdStarts {
  readonly sandboxed: boolean;
  readonly memoryEnforcement: string;
  readonly cases: Array<{ label: string; summary: Summary }>;
}

function specFor(codeDir: string, runtime: RuntimeName, isolation: 'process' | 'thread'): InstanceSpec {
  return {
    functionName: `bench-${runtime}`,
    version: '$LATEST',
    config: { ...FUNCTION_DEFAULTS, runtime, handler: 'index.handler', isolation },
    codeDir,
    codeSha256: 'bench',
    invokedFunctionArn: `arn:aws:lambda:us-east-1:000000000000:function:bench-${runtime}`,
    region: 'us-east-1',
  };
}

async function coldStarts(
  backend: RuntimeBackend,
  spec: InstanceSpec,
  n: number,
  gapMs: number,
): Promise<Summary> {
  const times: number[] = [];
  for (let i = 0; i < n + 1; i++) {
    await sleep(gapMs); // lets the pool refill (or not, with prewarm 0)
    const t = performance.now();
    const inst = await backend.spawn(spec);
    const ms = performance.now() - t;
    if (i > 0) times.push(ms); // the first spawn warms this process's code paths
    await inst.dispose();
  }
  return summarize(times);
}

/** Measure spawn→loaded for node and python (pool and empty) and the thread tier (pool). */
export async function backendColdStarts(n: number): Promise<BackendColdStarts> {
  const root = mkdtempSync(join(tmpdir(), 'nimbus-bench-backend-'));
  chmodSync(root, 0o755);
  const code = join(root, 'code');
  mkdirSync(code, { mode: 0o755 });
  writeFileSync(join(code, 'index.mjs'), NODE_HANDLER);
  writeFileSync(join(code, 'index.py'), PYTHON_HANDLER);
  const cases: BackendColdStarts['cases'] = [];
  const open: Array<{ close(): Promise<void> }> = [];
  let sandboxed = false;
  let memoryEnforcement = '';
  try {
    for (const pool of [true, false]) {
      const backend = await ProcessBackend.create({
        workDir: join(root, pool ? 'pool' : 'empty'),
        sandbox: 'auto',
        prewarm: pool ? { nodejs: 1, python: 1, provided: 0 } : { nodejs: 0, python: 0, provided: 0 },
      });
      open.push(backend);
      sandboxed = backend.sandboxed;
      memoryEnforcement = backend.memoryEnforcement;
      await sleep(500);
      for (const [runtime, label] of [
        ['nodejs', 'node'],
        ['python', 'python'],
      ] as const) {
        const summary = await coldStarts(backend, specFor(code, runtime, 'process'), n, pool ? 250 : 50);
        cases.push({ label: `${label}, ${pool ? 'from the pool' : 'empty pool'}`, summary });
      }
      await backend.close();
    }
    const threads = new ThreadBackend({ prewarm: 1 });
    open.push(threads);
    await sleep(300);
    cases.push({
      label: 'thread tier, from the pool',
      summary: await coldStarts(threads, specFor(code, 'nodejs', 'thread'), n, 150),
    });
    return { sandboxed, memoryEnforcement, cases };
  } finally {
    await Promise.allSettled(open.map((b) => b.close()));
    rmSync(root, { recursive: true, force: true });
  }
}
