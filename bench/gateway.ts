// HTTP gateway under wrk at 1 and 50 connections: GET /noop → warm no-op nodejs function (process
// and thread tier; API-key and JWT routes when this tree has them) beside a bare node:http server.
import { functionYaml, OK_BODY } from './lib/apps.js';
import { AUTH_CASES, probeAuth, type AuthCase } from './lib/gateway-auth.js';
import { LOAD_COLUMNS, loadRow, measure, type Row } from './lib/measure.js';
import { BenchClient, writeApp } from './lib/nimbus-client.js';
import { startBareServer, startServerProcess } from './lib/processes.js';
import { table, type BenchOutput, type Figure } from './lib/report.js';
import { sleep } from './lib/stats.js';
import { haveWrk, wrk, type WrkTarget } from './lib/wrk.js';

/** The high connection count of the targets (and warm instances per function). */
const HI = 50;
const BARE = 'bare node:http';
const PROC = 'gateway → process tier';
const THREAD = 'gateway → thread tier';
const authName = (c: AuthCase) => `${PROC} + ${c.label}`;

/** The benchmark app: `proc` serves GET /noop (plus the auth routes), `thread` GET /thread/noop. */
function appYaml(auth: readonly AuthCase[]): string {
  const warm = { maxConcurrency: HI, minInstances: HI };
  const gateway = auth.map((c) => c.gatewayYaml()).join('');
  return (
    `app: gw\n${gateway ? `gateway:\n${gateway}` : ''}functions:\n` +
    functionYaml('proc', 'node', warm) +
    `    events:\n      - http: GET /noop\n` +
    auth.map((c) => `      - http: ${c.routeYaml()}\n`).join('') +
    functionYaml('thread', 'thread', warm) +
    `    events:\n      - http: GET /thread/noop\n`
  );
}

/** Run the gateway comparison for `seconds` per point. */
export async function gatewayBench(opts: { seconds: number }): Promise<BenchOutput> {
  if (!haveWrk()) throw new Error('wrk is not installed (apt-get install wrk)');
  const bare = await startBareServer();
  const server = await startServerProcess({
    prewarm: { nodejs: 0, python: 0, provided: 0 },
    threadPrewarm: 0,
    memoryBudgetMB: 32_768, // 2 × 50 instances of 128 MB stay warm together
  });
  const client = new BenchClient(server.info);
  try {
    // Each auth variant runs only when this tree enforces it (see probeAuth).
    const skipped: Array<[AuthCase, string]> = [];
    const enabled: AuthCase[] = [];
    for (const c of AUTH_CASES) {
      const p = await probeAuth(client, c);
      if (p.ok) enabled.push(c);
      else skipped.push([c, p.reason]);
    }
    await client.deploy(
      writeApp({
        'nimbus.yml': appYaml(enabled),
        'index.mjs': 'export const handler = async () => ({ ok: true });\n',
      }),
    );
    for (let i = 0; i < 150 && (await client.poolStats()).live < 2 * HI; i++) await sleep(100);
    const get = (path: string, headers: Record<string, string> = {}, url = server.info.url): WrkTarget => ({
      method: 'GET',
      url,
      path,
      body: '',
      headers,
    });
    const targets: Array<[string, WrkTarget, number]> = [
      [BARE, get('/', {}, bare.info.url), bare.pid],
      [PROC, get('/noop'), server.pid],
      [THREAD, get('/thread/noop'), server.pid],
    ];
    for (const c of enabled) {
      targets.push([authName(c), get(c.path, await c.credentials(client, 'gw')), server.pid]);
    }
    // Every target must answer the same body before it is timed.
    // (429 while minInstances are still starting: wait for them.)
    for (const [name, t] of targets) {
      for (let i = 0; ; i++) {
        const res = await fetch(t.url + t.path, { headers: t.headers });
        const text = await res.text();
        if (res.status === 200 && text === OK_BODY) break;
        if (res.status !== 429 || i >= 100) throw new Error(`${name} answered ${res.status} ${text}`);
        await sleep(200);
      }
    }
    // Warm-up (JIT, connections, every instance) until a second at HI connections has no error.
    for (const [, t] of targets) for (let i = 0; i < 10 && (await wrk(t, HI, 1)).errors > 0; i++);
    const rows: Row[] = [];
    for (const c of [1, HI]) {
      for (const [name, t, pid] of targets) rows.push(await measure(name, t, pid, c, opts.seconds));
    }
    return report(rows, skipped, opts.seconds);
  } finally {
    client.close();
    await Promise.all([server.stop(), bare.stop()]);
  }
}

function report(rows: Row[], skipped: Array<[AuthCase, string]>, seconds: number): BenchOutput {
  const at = (name: string, c: number) =>
    rows.find((r) => r.name === name && r.result.connections === c)?.result;
  const bare1 = at(BARE, 1)!;
  const bareHi = at(BARE, HI)!;
  const figures: Figure[] = [];
  for (const [tier, name] of [
    ['process', PROC],
    ['thread', THREAD],
  ] as const) {
    figures.push(
      {
        label: `Gateway p50 overhead at 1 connection, ${tier} tier (gateway p50 − bare p50)`,
        value: at(name, 1)!.p50 - bare1.p50,
        unit: 'ms',
        digits: 3,
        target: { op: '<=', value: 1 },
      },
      {
        label: `Gateway throughput at ${HI} connections, ${tier} tier, vs bare`,
        value: (100 * at(name, HI)!.rps) / bareHi.rps,
        unit: '%',
        digits: 1,
        ...(tier === 'process' ? { target: { op: '>=', value: 50 } as const } : {}),
      },
      {
        label: `Gateway p99 at ${HI} connections, ${tier} tier`,
        value: at(name, HI)!.p99,
        unit: 'ms',
        digits: 2,
        target: { op: '<=', value: 10 },
      },
    );
  }
  for (const c of AUTH_CASES) {
    const r = at(authName(c), HI);
    figures.push({
      label: `Gateway ${c.label} throughput cost at ${HI} connections, process tier (1 − auth/no auth)${r ? '' : ' — not available in this tree'}`,
      value: r ? 100 * (1 - r.rps / at(PROC, HI)!.rps) : Number.NaN,
      unit: '%',
      digits: 1,
      target: { op: '<=', value: 10 },
    });
  }
  const dash = '—';
  const details: string[] = table(LOAD_COLUMNS, [
    ...rows.map((row) => loadRow(row, row.result.connections === 1 ? bare1 : bareHi, row.name === BARE)),
    ...skipped.map(([c]) => [
      authName(c),
      `1, ${HI}`,
      'not available in this tree',
      ...Array<string>(7).fill(dash),
    ]),
  ]);
  if (skipped.length) details.push('', ...skipped.map(([c, r]) => `- ${c.label} route not run: ${r}`));
  const method = [
    `- Load generator: \`wrk -t1 -cN -d${seconds}s\` (C, its own process), a plain \`GET\` with keep-alive, at 1 and ${HI} connections; every target gets a 1 s warm-up at ${HI} connections first, then the points run one after another in the same run.`,
    '- Gateway: a Nimbus server in its own process (`bench/lib/server-process.ts`, access log lines built but discarded); app `gw` with `proc` (nodejs, process tier) on `GET /noop` and `thread` (nodejs, `isolation: thread`) on `GET /thread/noop`, both `export const handler = async () => ({ ok: true })`: payload 2.0, so the gateway infers `200 application/json` `{"ok":true}`. The gateway adds `x-request-id` and `apigw-requestid` headers (a new UUID per request) and a new `traceparent` in the event.',
    `- Both functions have \`maxConcurrency: ${HI}, minInstances: ${HI}\`: every connection has its own warm instance (one invocation per instance, as Lambda); the run waits until all ${2 * HI} are live.`,
    '- Baseline: `bench/lib/bare-server.ts` (node:http, answers the same 11-byte JSON body) in another process, measured in the same run.',
    `- Auth variants: \`GET /key/noop\` (\`x-api-key\`, usage plan far above the load) and \`GET /jwt/noop\` (HS256 JWT signed once with \`jose\`, verified on every request) are extra routes of the same \`proc\` function, so they use the same ${HI} instances. Each runs only if a probe deploy of that route config is accepted and the route answers 401/403 without credentials and 200 with them; otherwise its row says why. Auth cost = 1 − (auth req/s ÷ no-auth req/s) at ${HI} connections.`,
    '- CPU/req: user + system time from /proc/<pid>/stat (10 ms ticks) of the server process (all threads, so thread-tier workers count as server) and of its child processes (runners, bwrap), over each timed run, divided by requests served.',
    "- Latency percentiles are wrk's (µs resolution); p50 overhead = gateway p50 − bare p50 at 1 connection.",
  ];
  return { title: 'HTTP gateway (GET /noop)', figures, details, method };
}
