// What the sandbox hardening costs: bwrap start with and without the seccomp filter and extra mounts, the pool-hit cold start and the warm invoke with and without the filter.
import { spawn } from 'node:child_process';
import { chmodSync, closeSync, mkdirSync, mkdtempSync, openSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import { FUNCTION_DEFAULTS } from '../src/functions/function-model.js';
import {
  bwrapArgs,
  findExecutable,
  makeSandboxDir,
  SANDBOX_PATH,
  SANDBOX_UID,
  SECCOMP_FD,
} from '../src/runtime/process/bwrap-sandbox.js';
import { ProcessBackend } from '../src/runtime/process/process-backend.js';
import { compileSandboxFilter } from '../src/runtime/process/seccomp/sandbox-filter.js';
import { hostSeccompArch } from '../src/runtime/process/seccomp/syscall-numbers.js';
import type { InstanceSpec } from '../src/runtime/runtime-backend.js';
import { NODE_HANDLER } from './lib/apps.js';
import type { BenchOutput } from './lib/report.js';
import { isMain, runStandalone } from './lib/results-section.js';
import { sleep, summarize, type Summary } from './lib/stats.js';

/** The arguments the hardening added (seccomp, /proc/sys and sysrq binds, /dev/shm, read-only /dev). */
function withoutHardening(args: string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const a = args[i] as string;
    if (a === '--seccomp') i += 1;
    else if ((a === '--ro-bind' || a === '--ro-bind-try') && args[i + 1]?.startsWith('/proc/s')) i += 2;
    else if (a === '--remount-ro' && args[i + 1] === '/dev') i += 1;
    else if (a === '--size' && args[i + 2] === '--tmpfs' && args[i + 3] === '/dev/shm') i += 3;
    else out.push(a);
  }
  return out;
}

function runBwrap(bwrap: string, args: string[], seccompFile: string | undefined): Promise<number> {
  return new Promise((resolve, reject) => {
    const stdio: ('ignore' | number)[] = ['ignore', 'ignore', 'ignore'];
    // A fresh fd each time: bwrap reads the program to EOF, and the offset is shared.
    const fd = seccompFile === undefined ? undefined : openSync(seccompFile, 'r');
    if (fd !== undefined) {
      for (let i = 3; i < SECCOMP_FD; i++) stdio[i] = 'ignore';
      stdio[SECCOMP_FD] = fd;
    }
    const t = performance.now();
    const root = process.getuid?.() === 0;
    const child = spawn(bwrap, [...args, '/bin/true'], {
      stdio,
      ...(root ? { uid: SANDBOX_UID, gid: SANDBOX_UID } : {}),
    });
    if (fd !== undefined) closeSync(fd);
    child.on('error', reject);
    child.on('close', (code) =>
      code === 0 ? resolve(performance.now() - t) : reject(new Error(`bwrap exit ${code}`)),
    );
  });
}

function specFor(codeDir: string): InstanceSpec {
  return {
    functionName: 'bench-hardening',
    version: '$LATEST',
    config: { ...FUNCTION_DEFAULTS, runtime: 'nodejs', handler: 'index.handler' },
    codeDir,
    codeSha256: 'bench',
    invokedFunctionArn: 'arn:aws:lambda:us-east-1:000000000000:function:bench-hardening',
    region: 'us-east-1',
  };
}

const row = (label: string, s: Summary, unit = 'ms', f = 2): string[] => [
  label,
  String(s.n),
  `${s.p50.toFixed(f)} ${unit}`,
  `${s.p90.toFixed(f)} ${unit}`,
  `${s.mean.toFixed(f)} ${unit}`,
];

/** Run the three A/B measurements. */
export async function sandboxHardeningBench(opts: { n: number; invokes: number }): Promise<BenchOutput> {
  const root = mkdtempSync(join(tmpdir(), 'nimbus-bench-hardening-'));
  chmodSync(root, 0o755);
  const run = join(root, 'run');
  makeSandboxDir(run);
  const code = join(root, 'code');
  mkdirSync(code, { mode: 0o755 });
  writeFileSync(join(code, 'index.mjs'), NODE_HANDLER, { mode: 0o644 });
  const details: string[] = [];
  try {
    // 1. bwrap start → /bin/true → exit, as the sandbox's host user.
    const bwrap = findExecutable('bwrap', ['/usr/bin', '/bin']);
    const arch = hostSeccompArch();
    if (!bwrap || !arch) throw new Error('needs bwrap on x64/arm64');
    const slot = join(run, 'slot');
    makeSandboxDir(slot);
    chmodSync(slot, 0o755);
    const filter = join(run, 'seccomp.bpf');
    writeFileSync(filter, compileSandboxFilter(arch), { mode: 0o644 });
    const args = bwrapArgs({
      slotDir: slot,
      runnersDir: slot,
      tmpSizeMB: 512,
      network: false,
      env: { PATH: SANDBOX_PATH },
      seccompFd: SECCOMP_FD,
    });
    const before: number[] = [];
    const after: number[] = [];
    for (let i = 0; i < opts.n + 2; i++) {
      const b = await runBwrap(bwrap, withoutHardening(args), undefined);
      const a = await runBwrap(bwrap, args, filter);
      if (i >= 2) {
        before.push(b);
        after.push(a);
      }
    }
    const bs = summarize(before);
    const as = summarize(after);

    // 2 and 3. Pool-hit cold start (spawn → loaded → first answer) and warm invoke, filter on/off.
    const cold: Record<string, number[]> = { on: [], off: [] };
    const warm: Record<string, number[]> = { on: [], off: [] };
    const backends = {
      on: await ProcessBackend.create({
        workDir: run,
        sandbox: 'required',
        prewarm: { nodejs: 1, python: 0, provided: 0 },
      }),
      off: await ProcessBackend.create({
        workDir: run,
        sandbox: 'required',
        seccomp: false,
        prewarm: { nodejs: 1, python: 0, provided: 0 },
      }),
    };
    try {
      const spec = specFor(code);
      const call = () => ({
        requestId: randomUUID(),
        payload: Buffer.from('{}'),
        deadlineMs: Date.now() + 10000,
      });
      for (let i = 0; i < opts.n + 1; i++) {
        for (const key of ['on', 'off'] as const) {
          await sleep(400); // the pool refills
          const t = performance.now();
          const inst = await backends[key].spawn(spec);
          const r = await inst.invoke(call());
          const ms = performance.now() - t;
          if (!r.ok) throw new Error(r.error.errorMessage);
          if (i > 0) cold[key]!.push(ms);
          if (i === opts.n) {
            for (let j = 0; j < opts.invokes; j++) {
              const w = performance.now();
              await inst.invoke(call());
              warm[key]!.push((performance.now() - w) * 1000);
            }
          }
          await inst.dispose();
        }
      }
    } finally {
      await Promise.all([backends.on.close(), backends.off.close()]);
    }
    const co = summarize(cold.on!);
    const cf = summarize(cold.off!);
    const wo = summarize(warm.on!);
    const wf = summarize(warm.off!);
    const head = ['case', 'n', 'p50', 'p90', 'mean'];
    details.push(
      `| ${head.join(' | ')} |`,
      `|${head.map(() => '---').join('|')}|`,
      ...[
        row('bwrap start → exit, before hardening', bs),
        row('bwrap start → exit, hardened (seccomp, /proc/sys, /dev/shm, ro /dev)', as),
        row('pool-hit cold start, no seccomp', cf),
        row('pool-hit cold start, seccomp', co),
        row('warm invoke, no seccomp', wf, 'µs', 0),
        row('warm invoke, seccomp', wo, 'µs', 0),
      ].map((r) => `| ${r.join(' | ')} |`),
    );
    return {
      title: 'Sandbox hardening cost',
      figures: [
        { label: 'bwrap start added (p50)', value: as.p50 - bs.p50, unit: 'ms' },
        {
          label: 'pool-hit cold start added by seccomp (p50)',
          value: co.p50 - cf.p50,
          unit: 'ms',
          target: { op: '<=', value: 1 },
        },
        { label: 'warm invoke added by seccomp (p50)', value: wo.p50 - wf.p50, unit: 'µs', digits: 0 },
      ],
      details,
      method: [
        'bwrap start: `bwrap <args> /bin/true` as uid 65534 (when root), the argument list with and without what the hardening added, alternating, first two pairs dropped.',
        'Pool-hit cold start: two ProcessBackends (seccomp on/off, both unprivileged bwrap with the new mounts) with one pre-started node runner; spawn → load → first invoke answered, alternating, 400 ms apart so the pool refills.',
        `Warm invoke: ${opts.invokes} sequential invokes of one instance of each backend. The difference between two noisy p50s on a shared 2-core machine is within noise when it is a few tens of µs.`,
      ],
    };
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}

if (isMain(import.meta.url)) {
  await runStandalone({
    section: '## Sandbox hardening cost',
    script: 'bench/sandbox-hardening.ts',
    figures: 'targets',
    run: (quick) => sandboxHardeningBench({ n: quick ? 10 : 40, invokes: quick ? 300 : 2000 }),
  });
}
