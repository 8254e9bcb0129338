// How long big deploys hold the server's event loop (every other tenant's requests wait that
// long): the longest event-loop delay while 60 functions' bundles are uploaded, while one
// 60-function deploy runs, and while six run at once, next to the same window of an idle server.
// The server runs in this process (SQLite, the embedded default) so the loop measured is its own;
// the CLI's bundling is done before measuring, so only upload and deploy are in the window.
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ApiClient } from '../src/cli/api-client.js';
import { prepareDeploy, stopBundling, uploadCode, type PreparedDeploy } from '../src/cli/commands/deploy.js';
import { createOutput } from '../src/cli/output.js';
import { Spinner } from '../src/cli/spinner.js';
import { startServer } from '../src/server/nimbus-server.js';
import { table, type BenchOutput } from './lib/report.js';
import { isMain, runStandalone } from './lib/results-section.js';

const FUNCTIONS = 60;
const quiet = new Spinner(createOutput({ write: () => true, isTTY: false } as never, { env: {} }));

/** An app of FUNCTIONS functions with their own ~200 KB handler each, routes and a queue trigger. */
function writeBigApp(dir: string, app: string): void {
  const lines = [`app: ${app}`, 'functions:'];
  for (let i = 0; i < FUNCTIONS; i++) {
    lines.push(
      `  f${i}:`,
      `    handler: f${i}.handler`,
      '    events:',
      `      - http: GET /${app}/f${i}`,
      `      - queue: ${app}-jobs`,
    );
    writeFileSync(
      join(dir, `f${i}.js`),
      `exports.handler = async () => ${i};\nexports.table = ${JSON.stringify(Array.from({ length: 12_000 }, (_, k) => `${app}-${i}-${k}`))};\n`,
    );
  }
  lines.push('resources:', `  queues: [${app}-jobs]`);
  writeFileSync(join(dir, 'nimbus.yml'), lines.join('\n') + '\n');
}

/** What one phase measured (ms). */
interface Stall {
  readonly max: number;
  readonly p99: number;
  readonly ms: number;
  /** Slowest answer to a request that needs no store (a gateway 404). */
  readonly plain: number;
  /** Slowest answer to a request that reads the store (GET /v1/functions/{name}). */
  readonly stored: number;
}

/**
 * Longest and p99 event-loop delay while `work` runs, and the slowest answer to each of two
 * other tenants' requests sent back to back meanwhile (what a tenant actually waits).
 */
async function stall(work: () => Promise<unknown>, probe: Probe): Promise<Stall> {
  const h = monitorEventLoopDelay({ resolution: 1 });
  const started = performance.now();
  let running = true;
  const slowest = async (req: () => Promise<Response>): Promise<number> => {
    let max = 0;
    while (running) {
      const t0 = performance.now();
      await (await req()).arrayBuffer();
      max = Math.max(max, performance.now() - t0);
      await new Promise((r) => setTimeout(r, 2));
    }
    return max;
  };
  h.enable();
  const probes = Promise.all([
    slowest(() => fetch(`${probe.url}/no-such-route`)),
    slowest(() => fetch(`${probe.url}/v1/functions/${probe.fn}`, { headers: probe.headers })),
  ]);
  await work();
  running = false;
  const [plain, stored] = await probes;
  h.disable();
  return { max: h.max / 1e6, p99: h.percentile(99) / 1e6, ms: performance.now() - started, plain, stored };
}

/** Where the probe requests go: the server and a function deployed before measuring. */
interface Probe {
  readonly url: string;
  readonly fn: string;
  readonly headers: Record<string, string>;
}

/** Runs the measurement; `rounds` repeats of each phase, the worst kept. */
export async function deployStallBench(opts: { rounds: number }): Promise<BenchOutput> {
  const dataDir = mkdtempSync(join(tmpdir(), 'bench-stall-'));
  const server = await startServer({
    port: 0,
    dataDir,
    env: {},
    prewarm: { nodejs: 0, python: 0, provided: 0 },
    threadPrewarm: 0,
    logger: { info: () => undefined, warn: () => undefined, error: () => undefined },
  });
  const client = new ApiClient({ endpoint: server.url, token: server.rootCredentials!.token });
  const rows: string[][] = [];
  const worst = { idle: 0, upload: 0, one: 0, six: 0, onePlain: 0, oneStored: 0, sixPlain: 0, sixStored: 0 };
  try {
    // Another tenant's function, for the probe that reads the store.
    const other = mkdtempSync(join(dataDir, 'other-'));
    writeFileSync(
      join(other, 'nimbus.yml'),
      'app: other\nfunctions:\n  probe:\n    handler: index.handler\n',
    );
    writeFileSync(join(other, 'index.js'), 'exports.handler = async () => 1;\n');
    const prepared = await prepareDeploy(other, quiet);
    await uploadCode(prepared, client, quiet);
    await client.deploy(prepared.app, prepared.request);
    const probe: Probe = {
      url: server.url,
      fn: 'other-probe',
      headers: { authorization: `Bearer ${server.rootCredentials!.token}` },
    };
    for (let round = 0; round < opts.rounds; round++) {
      const apps: PreparedDeploy[] = [];
      for (let a = 0; a < 6; a++) {
        const dir = mkdtempSync(join(dataDir, 'app-'));
        writeBigApp(dir, `big${round}x${a}`);
        apps.push(await prepareDeploy(dir, quiet));
      }
      const idle = await stall(() => new Promise((r) => setTimeout(r, 500)), probe);
      const upload = await stall(() => Promise.all(apps.map((p) => uploadCode(p, client, quiet))), probe);
      const one = await stall(() => client.deploy(apps[0]!.app, apps[0]!.request), probe);
      const six = await stall(() => Promise.all(apps.map((p) => client.deploy(p.app, p.request))), probe);
      for (const [phase, s] of [
        ['idle (500 ms)', idle],
        [`upload of ${6 * FUNCTIONS} bundles`, upload],
        [`one ${FUNCTIONS}-function deploy`, one],
        [`six ${FUNCTIONS}-function deploys at once`, six],
      ] as const) {
        rows.push([
          String(round + 1),
          phase,
          s.ms.toFixed(0),
          s.p99.toFixed(1),
          s.max.toFixed(1),
          s.plain.toFixed(1),
          s.stored.toFixed(1),
        ]);
      }
      worst.onePlain = Math.max(worst.onePlain, one.plain);
      worst.oneStored = Math.max(worst.oneStored, one.stored);
      worst.sixPlain = Math.max(worst.sixPlain, six.plain);
      worst.sixStored = Math.max(worst.sixStored, six.stored);
      worst.idle = Math.max(worst.idle, idle.max);
      worst.upload = Math.max(worst.upload, upload.max);
      worst.one = Math.max(worst.one, one.max);
      worst.six = Math.max(worst.six, six.max);
    }
  } finally {
    await server.close();
    await stopBundling();
    rmSync(dataDir, { recursive: true, force: true });
  }
  return {
    title: 'Deploys and the event loop',
    figures: [
      { label: 'longest event-loop stall, idle server', value: worst.idle, unit: 'ms', digits: 1 },
      {
        label: `longest stall, uploading ${6 * FUNCTIONS} bundles`,
        value: worst.upload,
        unit: 'ms',
        digits: 1,
      },
      { label: `longest stall, one ${FUNCTIONS}-function deploy`, value: worst.one, unit: 'ms', digits: 1 },
      {
        label: `longest stall, six ${FUNCTIONS}-function deploys at once`,
        value: worst.six,
        unit: 'ms',
        digits: 1,
      },
      { label: 'slowest other request, one deploy (no store)', value: worst.onePlain, unit: 'ms', digits: 1 },
      { label: 'slowest store-reading request, one deploy', value: worst.oneStored, unit: 'ms', digits: 1 },
      {
        label: 'slowest other request, six deploys (no store)',
        value: worst.sixPlain,
        unit: 'ms',
        digits: 1,
      },
      { label: 'slowest store-reading request, six deploys', value: worst.sixStored, unit: 'ms', digits: 1 },
    ],
    details: table(
      [
        'round',
        'phase',
        'took ms',
        'p99 delay ms',
        'max delay ms',
        'slowest plain req ms',
        'slowest store req ms',
      ],
      rows,
    ),
    method: [
      `Server in the benchmark process on SQLite; six apps of ${FUNCTIONS} functions (~200 KB of code each, an http route and a queue trigger per function) bundled first, then measured with monitorEventLoopDelay (1 ms resolution): the upload of every bundle, one deploy, then all six deploys at once. Meanwhile two other tenants' requests are sent back to back (2 ms apart): a gateway request for a route no app has (no store query, except the route-table reload after a deploy) and GET /v1/functions/{name} of another app's function (a store read); their slowest answers are what a tenant waited.`,
      "Before (issue 8): deploys ran their store writes as one synchronous block on SQLite (0.6 s for one 60-function deploy, 1.4 s for six at once). Then: bundle hashing and inflating on the thread pool, and a transaction yielding every 5 ms of its own queries. Now also: every SQLite query waits for the next event-loop turn once 5 ms of queries ran in this one, whoever issued it (the 60 new queue pollers' first receives after the commit had been a 50-66 ms block outside any transaction); bundle checks search handler files as bytes and unpack without copies; deploys run one at a time per server.",
      'The machine is shared (2 cores): an idle window of the same server is measured alongside as the noise floor.',
    ],
  };
}

if (isMain(import.meta.url)) {
  await runStandalone({
    section: '## Deploy stalls',
    script: 'bench/deploy-stall.ts',
    figures: 'values',
    run: (quick) => deployStallBench({ rounds: quick ? 1 : 3 }),
  });
}
