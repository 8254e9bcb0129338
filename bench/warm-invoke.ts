// Warm invoke through the Lambda API (SigV4) under wrk at 1 and 32 connections, process and
// thread tiers, beside a bare node:http server answering the same JSON in the same run.
import { availableParallelism } from 'node:os';
import { appFiles, OK_BODY } from './lib/apps.js';
import { BenchClient, signedInvoke, writeApp } from './lib/nimbus-client.js';
import { startBareServer, startServerProcess } from './lib/processes.js';
import { table, type BenchOutput, type Figure } from './lib/report.js';
import { LOAD_COLUMNS, loadRow, measure, type Row } from './lib/measure.js';
import { sleep } from './lib/stats.js';
import { haveWrk, pin, wrk, type WrkTarget } from './lib/wrk.js';

const EVENT = '{"bench":true}';

/** Run the warm-invoke comparison for `seconds` per point. */
export async function warmInvokeBench(opts: { seconds: number }): Promise<BenchOutput> {
  if (!haveWrk()) throw new Error('wrk is not installed (apt-get install wrk)');
  const bare = await startBareServer();
  const server = await startServerProcess({
    prewarm: { nodejs: 0, python: 0, provided: 0 },
    threadPrewarm: 0,
    memoryBudgetMB: 32_768, // 74 instances of 128 MB stay warm together
  });
  const client = new BenchClient(server.info);
  try {
    // One instance per connection at 32 (maxConcurrency and minInstances 32, warm before timing),
    // and the default maxConcurrency (10) where 22 of 32 requests queue for an instance.
    const warm = { maxConcurrency: 32, minInstances: 32 };
    await client.deploy(
      writeApp(
        appFiles('warm', [
          { name: 'proc', kind: 'node', extra: warm },
          { name: 'thread', kind: 'thread', extra: warm },
          { name: 'proc10', kind: 'node', extra: { minInstances: 10 } },
        ]),
      ),
    );
    for (let i = 0; i < 100 && (await client.poolStats()).live < 74; i++) await sleep(100);
    const lambda = async (fn: string): Promise<WrkTarget> => ({
      url: server.info.url,
      body: EVENT,
      ...(await signedInvoke(server.info, fn, EVENT)),
    });
    const targets: Array<[string, WrkTarget, number]> = [
      [
        'bare node:http',
        { url: bare.info.url, path: '/', body: EVENT, headers: { 'content-type': 'application/json' } },
        bare.pid,
      ],
      ['nimbus process tier', await lambda('warm-proc'), server.pid],
      ['nimbus thread tier', await lambda('warm-thread'), server.pid],
      ['nimbus process tier, maxConcurrency 10', await lambda('warm-proc10'), server.pid],
    ];
    // Check every target answers the expected body before timing it.
    for (const [name, t] of targets) {
      const res = await fetch(t.url + t.path, { method: 'POST', headers: t.headers, body: t.body });
      const text = await res.text();
      if (res.status !== 200 || text !== OK_BODY) throw new Error(`${name} answered ${res.status} ${text}`);
    }
    for (const [, t] of targets) await wrk(t, 32, 1); // warm-up: JIT, connections, every instance
    const rows: Row[] = [];
    for (const c of [1, 32]) {
      for (const [name, t, pid] of targets) {
        if (c === 1 && name.includes('maxConcurrency')) continue;
        rows.push(await measure(name, t, pid, c, opts.seconds));
      }
    }
    // The baseline again with server and wrk forced onto different CPUs: what every cross-process
    // wake-up costs on this machine (Nimbus's path has two more per request: to and from the runner).
    if (availableParallelism() > 1) {
      await pin(bare.pid, '0');
      rows.push(
        await measure(
          'bare node:http, wrk on another CPU (pinned)',
          targets[0]![1],
          bare.pid,
          1,
          opts.seconds,
          1,
        ),
      );
      await pin(bare.pid, `0-${availableParallelism() - 1}`);
    }
    return report(rows, opts.seconds);
  } finally {
    client.close();
    await Promise.all([server.stop(), bare.stop()]);
  }
}

function report(rows: Row[], seconds: number): BenchOutput {
  const at = (name: string, c: number) =>
    rows.find((r) => r.name === name && r.result.connections === c)!.result;
  const bare1 = at('bare node:http', 1);
  const bare32 = at('bare node:http', 32);
  const figures: Figure[] = [];
  for (const [tier, name] of [
    ['process', 'nimbus process tier'],
    ['thread', 'nimbus thread tier'],
  ] as const) {
    figures.push(
      {
        label: `Warm overhead p50 at 1 concurrent, ${tier} tier (nimbus p50 − bare p50)`,
        value: at(name, 1).p50 - bare1.p50,
        unit: 'ms',
        digits: 3,
        target: { op: '<=', value: 1 },
      },
      {
        label: `Warm throughput at 32 concurrent, ${tier} tier, vs bare`,
        value: (100 * at(name, 32).rps) / bare32.rps,
        unit: '%',
        digits: 1,
        target: { op: '>=', value: 50 },
      },
    );
  }
  figures.push({
    label: 'Warm invoke p50 at 1 concurrent, process tier (absolute)',
    value: at('nimbus process tier', 1).p50,
    unit: 'ms',
    digits: 3,
  });
  const details = table(
    LOAD_COLUMNS,
    // The pinned row compares with the unpinned bare baseline.
    rows.map((row) =>
      loadRow(row, row.result.connections === 1 ? bare1 : bare32, row.name.startsWith('bare')),
    ),
  );
  const method = [
    `- Load generator: \`wrk -t1 -cN -d${seconds}s\` (C, its own process) with a Lua script sending a fixed POST: the Lambda Invoke path \`/2015-03-31/functions/{name}/invocations\` with \`Authorization\`, \`X-Amz-Date\`, \`Host\` and \`Content-Type\` precomputed with \`@smithy/signature-v4\` (what the AWS SDK uses) over the fixed body \`${EVENT}\`. The server verifies the full signature (body hash, HMAC) on every request; a signature stays valid for the 15 min skew window, far longer than the run.`,
    '- Nimbus runs in its own process (`bench/lib/server-process.ts`), the bare baseline (`bench/lib/bare-server.ts`: read body, answer `{"ok":true}`) in another; wrk in a third. The functions return `{ ok: true }`, so both answer the same 11-byte JSON body.',
    '- Functions: `maxConcurrency: 32, minInstances: 32` so each of the 32 connections can have its own warm instance (Lambda semantics: one invocation per instance), plus one with the default `maxConcurrency` (10) where requests queue for instances. Every target gets a 1 s warm-up at 32 connections before timing; points run one after another in the same run.',
    '- CPU/req: user + system time from /proc/<pid>/stat (10 ms ticks) of the server process (all its threads, so worker threads of the thread tier count as server) and of its child processes (runners and their bwrap), over the timed run, divided by requests served. wrk itself runs on the same 2 cores.',
    "- Latency percentiles are wrk's (per request, µs resolution); warm overhead = nimbus p50 − bare p50 at 1 connection.",
  ];
  return { title: 'Warm invoke (Lambda API, SigV4)', figures, details, method };
}
