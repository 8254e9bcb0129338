// Async invocations on SQLite and PostgreSQL: accepts per second over HTTP (`POST
// /v1/functions/x/invoke?async=true` under wrk, beside a bare node:http server in the same run),
// end-to-end processed per second for a no-op function, and enqueue-to-start latency when idle.
// Standalone: `node --import tsx bench/async.ts [--quick]` replaces the "Async invocations"
// section of bench/RESULTS.md; run-all.ts runs it as `async`.
import { mkdtempSync, rmSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';

import type { AsyncDispatcherOptions } from '../src/invoke/async-dispatcher.js';
import { freshPgDatabase } from './lib/pg-database.js';
import { isMain, runStandalone } from './lib/results-section.js';
import { measure, type Row } from './lib/measure.js';
import { BenchClient, writeApp } from './lib/nimbus-client.js';
import { startBareServer, startServerProcess } from './lib/processes.js';
import { table, type BenchOutput, type Figure } from './lib/report.js';
import type { ServerProcessOptions } from './lib/server-process.js';
import { sleep, summarize, type Summary } from './lib/stats.js';
import { haveWrk, type WrkTarget } from './lib/wrk.js';
import { AsyncCounts } from './async-counts.js';

/** wrk connections of the accept phase. */
const CONNECTIONS = 50;
/** Concurrent HTTP clients enqueueing in the end-to-end phase. */
const ENQUEUERS = 32;
const FN = 'ab-noop';
const FN_THREAD = 'ab-tnoop';

type StoreKind = 'sqlite' | 'postgres';

/** The no-op function returns when it started (epoch ms): enqueue-to-start without the dispatcher's word. */
const APP = {
  'nimbus.yml': `app: ab
functions:
  noop:
    handler: index.handler
    runtime: nodejs
    maxConcurrency: 16
    minInstances: 4
  tnoop:
    handler: index.handler
    runtime: nodejs
    isolation: thread
    maxConcurrency: 16
    minInstances: 2
`,
  'index.mjs': 'export const handler = async () => Date.now();\n',
};

/** One store's figures. */
interface StoreResult {
  readonly store: StoreKind;
  readonly accept: Row;
  readonly bare: Row;
  readonly e2e: { n: number; seconds: number; perSecond: number };
  /** The same no-op function with `isolation: thread`. */
  readonly e2eThread: { n: number; seconds: number; perSecond: number };
  readonly startLatency: Summary;
  /** 1-minute load average before and after (other work on the machine skews every figure). */
  readonly load: readonly [number, number];
}

/** POST one async invoke over a keep-alive agent; resolves with the invocation id. */
function enqueueOne(agent: Agent, client: BenchClient, body: string, fn = FN): Promise<string> {
  const url = new URL(`/v1/functions/${fn}/invoke?async=true`, client.info.url);
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      {
        method: 'POST',
        agent,
        headers: {
          authorization: `Bearer ${client.info.token}`,
          'content-type': 'application/json',
          'content-length': Buffer.byteLength(body),
        },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString();
          if (res.statusCode !== 202) reject(new Error(`enqueue → ${res.statusCode}: ${text}`));
          else resolve((JSON.parse(text) as { invocationId: string }).invocationId);
        });
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

async function benchStore(
  kind: StoreKind,
  seconds: number,
  n: number,
  samples: number,
): Promise<StoreResult> {
  const loadBefore = loadavg()[0]!;
  const dir = mkdtempSync(join(tmpdir(), 'nimbus-bench-async-'));
  const db =
    kind === 'sqlite'
      ? { url: `sqlite:${join(dir, 'async.db')}`, drop: async () => undefined }
      : await freshPgDatabase(`nimbus_bench_async_${process.pid}`);
  // The server process spreads its JSON options into startServer.
  const options: ServerProcessOptions & { store: string; async: AsyncDispatcherOptions } = {
    prewarm: { nodejs: 4, python: 0, provided: 0 },
    threadPrewarm: 2,
    store: db.url,
    async: {},
  };
  const server = await startServerProcess(options);
  const bare = await startBareServer();
  const client = new BenchClient(server.info);
  const counts = await AsyncCounts.open(db.url);
  const agent = new Agent({ keepAlive: true, maxSockets: ENQUEUERS });
  try {
    await client.deploy(writeApp(APP));
    // Warm: instances started, JIT, connections.
    for (let i = 0; i < 200; i++) await enqueueOne(agent, client, '{}');
    await counts.waitIdle(60_000);

    // 1. Enqueue-to-start latency when idle: one event at a time, the next once it finished.
    const latencies: number[] = [];
    for (let i = 0; i < samples; i++) {
      const id = await enqueueOne(agent, client, '{}');
      const inv = await counts.waitFinished(id, 10_000);
      latencies.push(inv.functionStartedAt - inv.createdAt);
      await sleep(5);
    }

    // 2. End to end: N enqueued by ENQUEUERS clients, until the last has succeeded; the
    // default (process) tier, then the same no-op in the thread tier, which shows what the
    // async path costs without the runner process hop.
    const endToEnd = async (fn: string) => {
      const before = await counts.succeeded();
      const t0 = Date.now();
      let next = 0;
      await Promise.all(
        Array.from({ length: ENQUEUERS }, async () => {
          while (next < n) {
            next++;
            await enqueueOne(agent, client, '{}', fn);
          }
        }),
      );
      await counts.waitSucceeded(before + n, 300_000);
      const seconds = ((await counts.lastFinishedAt()) - t0) / 1000;
      await counts.waitIdle(60_000);
      return { n, seconds, perSecond: n / seconds };
    };
    const e2e = await endToEnd(FN);
    const e2eThread = await endToEnd(FN_THREAD);

    // 3. Accepts per second under wrk, the bare server in the same run.
    const target = (url: string, path: string, headers: Record<string, string>): WrkTarget => ({
      method: 'POST',
      url,
      path,
      body: '{}',
      headers: { 'content-type': 'application/json', ...headers },
    });
    const asyncTarget = target(server.info.url, `/v1/functions/${FN}/invoke?async=true`, {
      authorization: `Bearer ${server.info.token}`,
    });
    const bareTarget = target(bare.info.url, '/', {});
    await measure('warm-up', asyncTarget, server.pid, CONNECTIONS, 1);
    await counts.waitIdle(120_000);
    const accept = await measure(
      `Nimbus async accept (${kind})`,
      asyncTarget,
      server.pid,
      CONNECTIONS,
      seconds,
    );
    const bareRow = await measure('bare node:http', bareTarget, bare.pid, CONNECTIONS, seconds);
    if (accept.result.errors > 0) throw new Error(`${accept.result.errors} accept errors under wrk`);
    return {
      store: kind,
      accept,
      bare: bareRow,
      e2e,
      e2eThread,
      startLatency: summarize(latencies),
      load: [loadBefore, loadavg()[0]!],
    };
  } finally {
    agent.destroy();
    client.close();
    await counts.close();
    await Promise.all([server.stop(), bare.stop()]);
    await db.drop();
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Run the async benchmark on both stores. */
export async function asyncBench(opts: {
  seconds: number;
  n?: number;
  samples?: number;
}): Promise<BenchOutput> {
  if (!haveWrk()) throw new Error('wrk is not installed (apt-get install wrk)');
  const results: StoreResult[] = [];
  // ASYNC_BENCH_STORES=sqlite runs one store (profiling); both by default.
  const kinds = (process.env['ASYNC_BENCH_STORES'] ?? 'sqlite,postgres').split(',') as StoreKind[];
  for (const kind of kinds) {
    results.push(await benchStore(kind, opts.seconds, opts.n ?? 10_000, opts.samples ?? 200));
  }
  return report(results, opts);
}

function report(
  results: StoreResult[],
  opts: { seconds: number; n?: number; samples?: number },
): BenchOutput {
  const figures: Figure[] = [];
  for (const r of results) {
    const sqlite = r.store === 'sqlite';
    figures.push(
      {
        label: `Async accepts/s over HTTP, ${r.store} (${CONNECTIONS} connections)`,
        value: r.accept.result.rps,
        unit: '/s',
        digits: 0,
        ...(sqlite ? { target: { op: '>=', value: 5000 } as const } : {}),
      },
      {
        label: `Async processed/s end to end, no-op function, ${r.store}`,
        value: r.e2e.perSecond,
        unit: '/s',
        digits: 0,
        ...(sqlite ? { target: { op: '>=', value: 2000 } as const } : {}),
      },
      {
        label: `Async processed/s end to end, no-op function in the thread tier, ${r.store}`,
        value: r.e2eThread.perSecond,
        unit: '/s',
        digits: 0,
      },
      {
        label: `Async enqueue-to-start p50 when idle, ${r.store}`,
        value: r.startLatency.p50,
        unit: 'ms',
        digits: 1,
        ...(sqlite ? { target: { op: '<=', value: 10 } as const } : {}),
      },
      {
        label: `Async enqueue-to-start p99 when idle, ${r.store}`,
        value: r.startLatency.p99,
        unit: 'ms',
        digits: 1,
      },
    );
  }
  const details = table(
    [
      'store',
      'accepts/s',
      'accept p50 / p99',
      'bare node:http req/s',
      'accept vs bare',
      'server CPU/accept',
      'processed/s (N)',
      'processed/s, thread tier',
      'enqueue→start p50 / p99 / max',
      'load avg (1 min) before → after',
    ],
    results.map((r) => [
      r.store,
      r.accept.result.rps.toFixed(0),
      `${r.accept.result.p50.toFixed(2)} / ${r.accept.result.p99.toFixed(2)} ms`,
      r.bare.result.rps.toFixed(0),
      `${((100 * r.accept.result.rps) / r.bare.result.rps).toFixed(1)}%`,
      `${r.accept.serverUs.toFixed(0)} µs`,
      `${r.e2e.perSecond.toFixed(0)} (${r.e2e.n} in ${r.e2e.seconds.toFixed(2)} s)`,
      `${r.e2eThread.perSecond.toFixed(0)} (${r.e2eThread.n} in ${r.e2eThread.seconds.toFixed(2)} s)`,
      `${r.startLatency.p50.toFixed(0)} / ${r.startLatency.p99.toFixed(0)} / ${r.startLatency.max.toFixed(0)} ms`,
      `${r.load[0].toFixed(1)} → ${r.load[1].toFixed(1)}`,
    ]),
  );
  const method = [
    `- Server: a Nimbus server in its own process (\`bench/lib/server-process.ts\`), default async settings (16 invocations at a time), app \`ab\` with the nodejs function \`noop\` (\`maxConcurrency: 16, minInstances: 4\`, process tier) whose handler returns \`Date.now()\`. SQLite: a file in a temp dir (WAL, synchronous=NORMAL). PostgreSQL: the local server, a fresh database per run, dropped after.`,
    `- Accepts/s: \`wrk -t1 -c${CONNECTIONS} -d${opts.seconds}s\` POSTing \`{}\` to \`/v1/functions/ab-noop/invoke?async=true\` with the bearer token (every answer a 202 after the commit); the dispatcher runs meanwhile, so the figure includes the cost of processing what is accepted. Baseline: \`bench/lib/bare-server.ts\` (node:http reading the body and answering 200) under the same wrk load in the same run. CPU/accept: the server's process tree CPU time over the run ÷ accepts.`,
    `- Processed/s end to end: ${opts.n ?? 10_000} events enqueued by ${ENQUEUERS} concurrent keep-alive HTTP clients; time from the first enqueue to the \`finished_at\` of the last success (read from the store by the benchmark). Enqueueing runs during the processing, on the same 2 cores. Then the same for \`tnoop\`, the same handler with \`isolation: thread\` (worker threads, no runner process hop).`,
    `- Enqueue-to-start: ${opts.samples ?? 200} events one at a time on an idle server (each after the previous finished, 5 ms apart); the function's own \`Date.now()\` at start minus the invocation's \`created_at\` (the commit time of the enqueue), both from the server's clock in whole ms.`,
  ];
  method.push(
    '- Why the code looks as it does (first run of this benchmark → now, SQLite, same machine): one INSERT per accept capped accepts at 2,181/s, so enqueues are group-committed (one multi-row INSERT per event-loop turn; 5,000-8,400/s since); a three-way OR in the claim made SQLite sort the whole backlog on every claim (334 µs per event with 20,000 queued), so the queued branch is claimed alone through its index; a claim per accept and per finished event became coalesced wake-ups plus claiming ahead (up to `concurrency` events held under lease); completions share a transaction and a precompiled UPDATE (Kysely compiled each call in 65-100 µs, the SQLite statement takes ~6 µs). End-to-end processed/s went from 370/s to 950-1,500/s.',
    '- Load: the figures move with the load from other work on the same 2 cores (the load average is in the table). At a load average of ~7 every SQLite target was met; at 9-12 the same code measured 950-1,500 processed/s end to end and 5,100-8,400 accepts/s. A profile of an in-process drain (no HTTP) under that load: the main thread idle 13% waiting on runners, the runner frame write (~145 µs per event) the largest item, the store ~46 µs per event; the thread tier is no faster end to end, so what remains is the single node thread shared by HTTP accepts (~100 µs CPU each), invokes and the store.',
  );
  return { title: 'Async invocations', figures, details, method };
}

if (isMain(import.meta.url)) {
  await runStandalone({
    section: '## Async invocations',
    script: 'bench/async.ts',
    figures: 'targets',
    run: (quick) =>
      asyncBench({ seconds: quick ? 2 : 5, n: quick ? 3000 : 10_000, samples: quick ? 50 : 200 }),
  });
}
