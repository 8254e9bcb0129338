// Cold start through the whole server (HTTP → resolve → pool → load → invoke → response) and at
// the backend level (spawn → loaded), from a pre-started pool and with an empty pool.
import { backendColdStarts } from './cold-start-backend.js';
import { appFiles, type BenchKind } from './lib/apps.js';
import { BenchClient, writeApp } from './lib/nimbus-client.js';
import { startServerProcess } from './lib/processes.js';
import { table, type BenchOutput, type Figure } from './lib/report.js';
import { fmtSummary, sleep, summarize, type Summary } from './lib/stats.js';

const KINDS: BenchKind[] = ['node', 'python', 'thread'];

interface ServerCase {
  readonly pool: boolean;
  readonly kind: BenchKind;
  readonly cold: Summary;
  readonly warm: Summary;
}

/** Cold starts of `n` never-invoked functions per kind on one server. */
async function serverColdStarts(pool: boolean, n: number): Promise<ServerCase[]> {
  const server = await startServerProcess({
    prewarm: pool ? { nodejs: 2, python: 2, provided: 0 } : { nodejs: 0, python: 0, provided: 0 },
    threadPrewarm: pool ? 2 : 0,
    memoryBudgetMB: 65_536, // every instance stays warm: no evictions during the run
  });
  const client = new BenchClient(server.info);
  try {
    // n + 1 functions per kind with the same code (one code blob, unpacked once), default config
    // (so they match the pre-started runners' pool key); `w` is invoked first to warm the server.
    const fns = KINDS.flatMap((kind) =>
      ['w', ...Array.from({ length: n }, (_, i) => String(i))].map((i) => ({ name: `${kind}-${i}`, kind })),
    );
    await client.deploy(writeApp(appFiles('cold', fns)));
    for (const kind of KINDS) await client.invoke(`cold-${kind}-w`);
    await sleep(1000);
    const before = (await client.poolStats()).coldStarts;
    const out: ServerCase[] = [];
    for (const kind of KINDS) {
      const times: number[] = [];
      for (let i = 0; i < n; i++) {
        // With a pool: long enough for the refill (bwrap + node start) to finish.
        await sleep(pool ? (kind === 'thread' ? 150 : 300) : 100);
        const t = performance.now();
        await client.invoke(`cold-${kind}-${i}`);
        times.push(performance.now() - t);
      }
      const warmTimes: number[] = [];
      for (let i = 0; i < 200; i++) {
        const t = performance.now();
        await client.invoke(`cold-${kind}-w`);
        warmTimes.push(performance.now() - t);
      }
      out.push({ pool, kind, cold: summarize(times), warm: summarize(warmTimes.slice(50)) });
    }
    const coldStarts = (await client.poolStats()).coldStarts - before;
    if (coldStarts !== n * KINDS.length) {
      throw new Error(`expected ${n * KINDS.length} cold starts, the pool counted ${coldStarts}`);
    }
    return out;
  } finally {
    client.close();
    await server.stop();
  }
}

const LABEL: Record<BenchKind, string> = { node: 'node', python: 'python', thread: 'thread tier (node)' };

/** Run both levels and report. */
export async function coldStartBench(opts: { n: number }): Promise<BenchOutput> {
  const backend = await backendColdStarts(opts.n);
  const server = [...(await serverColdStarts(true, opts.n)), ...(await serverColdStarts(false, opts.n))];
  const get = (pool: boolean, kind: BenchKind) => server.find((c) => c.pool === pool && c.kind === kind)!;
  const ms = (label: string, value: number, target?: number): Figure => ({
    label,
    value,
    unit: 'ms',
    ...(target === undefined ? {} : { target: { op: '<=', value: target } }),
  });
  const b = (label: string) => backend.cases.find((c) => c.label === label)!.summary;
  const figures: Figure[] = [
    ms('Cold start from the pool, node, through the server, p50', get(true, 'node').cold.p50, 5),
    ms('Cold start from the pool, node, through the server, p99', get(true, 'node').cold.p99),
    ms('Cold start from the pool, node, backend spawn→loaded, p50', b('node, from the pool').p50, 5),
    ms('Cold start from the pool, python, through the server, p50', get(true, 'python').cold.p50),
    ms('Cold start from the pool, python, backend spawn→loaded, p50', b('python, from the pool').p50),
    ms('Cold start, empty pool, node, through the server, p50', get(false, 'node').cold.p50, 50),
    ms('Cold start, empty pool, node, through the server, p99', get(false, 'node').cold.p99),
    ms('Cold start, empty pool, node, backend spawn→loaded, p50', b('node, empty pool').p50, 50),
    ms('Cold start, empty pool, python, through the server, p50', get(false, 'python').cold.p50),
  ];
  const details = [
    `Process tier: sandboxed (bwrap) = ${backend.sandboxed}, memory limits by ${backend.memoryEnforcement}.`,
    '',
    '**Through the server** (POST /v1/functions/{name}/invoke from a keep-alive client in another process; "warm" = same path on a warm instance of the same server):',
    '',
    ...table(
      ['case', 'cold start', 'warm invoke, same path', 'cold − warm (p50)'],
      server.map((c) => [
        `${LABEL[c.kind]}, ${c.pool ? 'from the pool' : 'empty pool'}`,
        fmtSummary(c.cold),
        fmtSummary(c.warm),
        `${(c.cold.p50 - c.warm.p50).toFixed(2)} ms`,
      ]),
    ),
    '',
    '**Backend level** (`backend.spawn(spec)` until the handler is loaded, in the bench process, no HTTP):',
    '',
    ...table(
      ['case', 'spawn → loaded'],
      backend.cases.map((c) => [c.label, fmtSummary(c.summary)]),
    ),
  ];
  const method = [
    `- Through the server: one app with ${opts.n} + 1 functions per kind (node, python, thread tier), all with the same code and default config, deployed once to a fresh server process. Each function is invoked exactly once, so every timed call is a cold start of an instance that never existed (the pool's \`coldStarts\` counter is checked to grow by exactly that many). The extra function \`*-w\` is invoked first so the server's own code paths, the code cache unpack and the client connection are warm.`,
    '- Why distinct functions rather than redeploys or a tiny `idleTimeout`: a redeploy adds deploy work and invalidation to the path, and `idleTimeout` is at least 1 s with a 1 s reaper tick, which would cost seconds per sample and dispose instances in the background during measurements. Distinct functions cost only memory (24 GiB here) and exercise the real path: store lookup, spec build, slot population, `load`, first invoke.',
    '- From the pool: prewarm 2 per runtime (2 worker threads); a pause of 300 ms (threads 150 ms) before each call lets the refill finish. Empty pool: prewarm 0 everywhere, 100 ms between calls, so each cold start also starts bwrap + the interpreter.',
    '- Backend level: `ProcessBackend.spawn` / `ThreadBackend.spawn` timed until the instance reports loaded, then disposed; first spawn of each case discarded. Pool of 1, 250 ms refill pause; empty pool 50 ms pause.',
    '- p99 is nearest-rank: with n ≤ 100 it is the largest or second-largest sample.',
  ];
  return { title: 'Cold start', figures, details, method };
}
