// Cold-start, warm-invoke and idle-memory figures of the process and thread tiers (self-contained).
// Run: node --import tsx bench/runtime-cold-start.ts [iterations]
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FUNCTION_DEFAULTS } from '../src/functions/function-model.js';
import { ProcessBackend } from '../src/runtime/process/process-backend.js';
import { processTree } from '../src/runtime/process/rss-watchdog.js';
import { ThreadBackend } from '../src/runtime/thread/thread-backend.js';
import { childPids } from '../test/helpers/leak-guard.js';
import type { FunctionInstance, InstanceSpec, RuntimeBackend } from '../src/runtime/runtime-backend.js';

const N = Number(process.argv[2] ?? 30);
const root = mkdtempSync(join(tmpdir(), 'nimbus-bench-'));
const code = join(root, 'code');
mkdirSync(code);
chmodSync(root, 0o755);
writeFileSync(join(code, 'index.mjs'), 'export const handler = async (e) => ({ echo: e.n });');

const spec: InstanceSpec = {
  functionName: 'bench-fn',
  version: '$LATEST',
  config: { ...FUNCTION_DEFAULTS, runtime: 'nodejs', handler: 'index.handler' },
  codeDir: code,
  codeSha256: 'bench',
  invokedFunctionArn: 'arn:aws:lambda:local:000000000000:function:bench-fn',
  region: 'local',
};
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const p50 = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;
const p90 = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length * 0.9)] as number;
const fmt = (xs: number[]): string =>
  `p50 ${p50(xs).toFixed(2)} ms, p90 ${p90(xs).toFixed(2)} ms (n=${xs.length})`;

async function coldStarts(backend: RuntimeBackend, waitMs: number): Promise<number[]> {
  const times: number[] = [];
  for (let i = 0; i < N; i++) {
    await sleep(waitMs); // let the pool refill (or not, with prewarm 0)
    const t = performance.now();
    const inst = await backend.spawn(spec);
    times.push(performance.now() - t);
    await inst.dispose();
  }
  return times;
}

async function warm(inst: FunctionInstance): Promise<number[]> {
  const times: number[] = [];
  for (let i = 0; i < N * 20; i++) {
    const payload = Buffer.from(`{"n":${i}}`);
    const t = performance.now();
    const r = await inst.invoke({ requestId: `r${i}`, payload, deadlineMs: Date.now() + 3000 });
    times.push(performance.now() - t);
    if (!r.ok) throw new Error(r.error.errorMessage);
  }
  return times.slice(N); // drop the first invocations (JIT warm-up)
}

/** Proportional set size of a process tree, from smaps_rollup (KiB → MB). */
function pssMB(pid: number): { pss: number; privateMB: number } {
  let pss = 0;
  let priv = 0;
  for (const p of processTree(pid)) {
    const text = readFileSync(`/proc/${p}/smaps_rollup`, 'utf8');
    pss += Number(/^Pss:\s+(\d+)/m.exec(text)?.[1] ?? 0);
    priv +=
      Number(/^Private_Clean:\s+(\d+)/m.exec(text)?.[1] ?? 0) +
      Number(/^Private_Dirty:\s+(\d+)/m.exec(text)?.[1] ?? 0);
  }
  return { pss: pss / 1024, privateMB: priv / 1024 };
}

try {
  const pooled = await ProcessBackend.create({
    workDir: join(root, 'run1'),
    sandbox: 'auto',
    prewarm: { nodejs: 2, python: 0, provided: 0 },
  });
  await sleep(500);
  console.log(`process tier: sandboxed=${pooled.sandboxed}, memory=${pooled.memoryEnforcement}`);
  console.log(`  cold start from pool   ${fmt(await coldStarts(pooled, 150))}`);
  const inst = await pooled.spawn(spec);
  console.log(`  warm invoke round trip ${fmt(await warm(inst))}`);
  await sleep(300);
  await inst.dispose();
  await pooled.close();

  const empty = await ProcessBackend.create({
    workDir: join(root, 'run2'),
    sandbox: 'auto',
    prewarm: { nodejs: 0, python: 0, provided: 0 },
  });
  console.log(`  cold start, empty pool ${fmt(await coldStarts(empty, 20))}`);
  await empty.close();

  // Idle memory: pre-started runners of a pool, measured as the tree under each spawned pid.
  const idle = await ProcessBackend.create({
    workDir: join(root, 'run3'),
    sandbox: 'auto',
    prewarm: { nodejs: 3, python: 0, provided: 0 },
  });
  await sleep(1500);
  // The pool's runners are this process's only children now: one bwrap tree each.
  const kids = childPids();
  const mem = kids.map(pssMB);
  console.log(
    `  idle runner (bwrap + node): ${mem.map((m) => `PSS ${m.pss.toFixed(1)} MB / private ${m.privateMB.toFixed(1)} MB`).join('; ')}`,
  );
  await idle.close();

  const threads = new ThreadBackend({ prewarm: 2 });
  await sleep(300);
  console.log('thread tier:');
  console.log(`  cold start from pool   ${fmt(await coldStarts(threads, 100))}`);
  const t = await threads.spawn(spec);
  console.log(`  warm invoke round trip ${fmt(await warm(t))}`);
  await t.dispose();
  await threads.close();
} finally {
  rmSync(root, { recursive: true, force: true });
}
