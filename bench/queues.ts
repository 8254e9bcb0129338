// Queue throughput: send / receive / delete per second on SQLite and PostgreSQL, through the queue
// service in-process and over HTTP with @aws-sdk/client-sqs (the SQS facade), beside the same SDK
// calling a bare node:http server. Standalone: `node --import tsx bench/queues.ts [--quick]`
// replaces the "Queues" section of bench/RESULTS.md; run-all.ts runs it as `queues`.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import {
  CreateQueueCommand,
  DeleteMessageBatchCommand,
  DeleteMessageCommand,
  ListQueuesCommand,
  ReceiveMessageCommand,
  SendMessageBatchCommand,
  SendMessageCommand,
  SQSClient,
} from '@aws-sdk/client-sqs';
import { startServer } from '../src/server/nimbus-server.js';
import type { QueueOperations } from '../src/services/queues/queue-types.js';
import { pgAvailable, freshPgDatabase } from './lib/pg-database.js';
import { isMain, runStandalone } from './lib/results-section.js';
import { startBareServer, startServerProcess } from './lib/processes.js';
import { table, type BenchOutput, type Figure } from './lib/report.js';
import type { ServerProcessOptions } from './lib/server-process.js';
import { summarize } from './lib/stats.js';

/** Concurrent clients (loops) per phase. */
const CLIENTS = 4;
/** Message body: 256 bytes, a typical small JSON job. */
const BODY = JSON.stringify({ job: 'resize', id: 0, pad: 'x'.repeat(220) }).padEnd(256, ' ');
/** Untimed round trips of each operation before the timed phases. */
const WARMUP = 200;
/** Entry ids of a batch of 10. */
const TEN = Array.from({ length: 10 }, (_, i) => `m${i}`);

type StoreKind = 'sqlite' | 'postgres';
type Op = 'send' | 'receive' | 'delete' | 'send batch×10' | 'receive ≤10' | 'delete batch×10';

/** One measured phase. */
interface PhaseResult {
  readonly store: StoreKind | '—';
  readonly level: string;
  readonly op: Op | 'ListQueues (bare)';
  /** Messages sent, received or deleted (10 per call for the batch operations). */
  readonly ops: number;
  readonly calls: number;
  readonly seconds: number;
  readonly latencies: number[];
}

/** The three operations of a phase run, whatever the transport. */
interface QueueDriver {
  send(): Promise<void>;
  /** Receives one message (visibility 600 s) and returns its receipt handle, or undefined when empty. */
  receive(): Promise<string | undefined>;
  delete(handle: string): Promise<void>;
  sendBatch(): Promise<void>;
  /** Receives up to 10 messages (visibility 600 s); their receipt handles. */
  receiveBatch(): Promise<string[]>;
  deleteBatch(handles: readonly string[]): Promise<void>;
}

/** Run `worker` in `CLIENTS` loops until `seconds` pass or a call returns 0 (messages handled). */
async function phase(
  seconds: number,
  worker: () => Promise<number>,
): Promise<{ ops: number; calls: number; seconds: number; latencies: number[] }> {
  const latencies: number[] = [];
  let ops = 0;
  const started = performance.now();
  const deadline = started + seconds * 1000;
  await Promise.all(
    Array.from({ length: CLIENTS }, async () => {
      while (performance.now() < deadline) {
        const t = performance.now();
        const n = await worker();
        if (n === 0) return;
        ops += n;
        latencies.push(performance.now() - t);
      }
    }),
  );
  return { ops, calls: latencies.length, seconds: (performance.now() - started) / 1000, latencies };
}

/** send for `seconds`, then receive what was sent, then delete what was received. */
async function runPhases(
  driver: QueueDriver,
  store: StoreKind,
  level: string,
  seconds: number,
): Promise<PhaseResult[]> {
  // Warm-up (JIT, connections, settings caches), not timed: the queue is empty again after it.
  for (let i = 0; i < WARMUP; i++) await driver.send();
  for (let h = await driver.receive(); h !== undefined; h = await driver.receive()) await driver.delete(h);
  for (let i = 0; i < WARMUP / 10; i++) await driver.sendBatch();
  for (let hs = await driver.receiveBatch(); hs.length > 0; hs = await driver.receiveBatch()) {
    await driver.deleteBatch(hs);
  }
  const sent = await phase(seconds, async () => {
    await driver.send();
    return 1;
  });
  const handles: string[] = [];
  const received = await phase(seconds, async () => {
    const h = await driver.receive();
    if (h === undefined) return 0;
    handles.push(h);
    return 1;
  });
  let next = 0;
  const deleted = await phase(seconds, async () => {
    const h = handles[next++];
    if (h === undefined) return 0;
    await driver.delete(h);
    return 1;
  });
  // The same with batches of 10 (SendMessageBatch, MaxNumberOfMessages 10, DeleteMessageBatch).
  const sentBatch = await phase(seconds, async () => {
    await driver.sendBatch();
    return 10;
  });
  const batches: string[][] = [];
  const receivedBatch = await phase(seconds, async () => {
    const hs = await driver.receiveBatch();
    if (hs.length > 0) batches.push(hs);
    return hs.length;
  });
  let nextBatch = 0;
  const deletedBatch = await phase(seconds, async () => {
    const hs = batches[nextBatch++];
    if (hs === undefined) return 0;
    await driver.deleteBatch(hs);
    return hs.length;
  });
  return [
    { store, level, op: 'send', ...sent },
    { store, level, op: 'receive', ...received },
    { store, level, op: 'delete', ...deleted },
    { store, level, op: 'send batch×10', ...sentBatch },
    { store, level, op: 'receive ≤10', ...receivedBatch },
    { store, level, op: 'delete batch×10', ...deletedBatch },
  ];
}

function serviceDriver(ops: QueueOperations, queue: string): QueueDriver {
  return {
    send: async () => {
      await ops.sendMessage(queue, { body: BODY });
    },
    receive: async () =>
      (await ops.receiveMessages(queue, { maxMessages: 1, visibilityTimeout: 600 }))[0]?.receiptHandle,
    delete: (handle) => ops.deleteMessage(queue, handle),
    sendBatch: async () => {
      await ops.sendMessageBatch(
        queue,
        TEN.map((id) => ({ id, body: BODY })),
      );
    },
    receiveBatch: async () =>
      (await ops.receiveMessages(queue, { maxMessages: 10, visibilityTimeout: 600 })).map(
        (m) => m.receiptHandle,
      ),
    deleteBatch: async (handles) => {
      await ops.deleteMessageBatch(
        queue,
        handles.map((receiptHandle, i) => ({ id: `m${i}`, receiptHandle })),
      );
    },
  };
}

function sqsClients(url: string, accessKeyId: string, secretAccessKey: string): SQSClient[] {
  return Array.from(
    { length: CLIENTS },
    () =>
      new SQSClient({
        endpoint: url,
        region: 'us-east-1',
        credentials: { accessKeyId, secretAccessKey },
        maxAttempts: 1,
      }),
  );
}

function sqsDriver(clients: SQSClient[], queueUrl: string): QueueDriver {
  let i = 0;
  const next = () => clients[i++ % clients.length]!;
  return {
    send: async () => {
      await next().send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: BODY }));
    },
    receive: async () =>
      (
        await next().send(
          new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 1, VisibilityTimeout: 600 }),
        )
      ).Messages?.[0]?.ReceiptHandle,
    delete: async (handle) => {
      await next().send(new DeleteMessageCommand({ QueueUrl: queueUrl, ReceiptHandle: handle }));
    },
    sendBatch: async () => {
      const r = await next().send(
        new SendMessageBatchCommand({
          QueueUrl: queueUrl,
          Entries: TEN.map((Id) => ({ Id, MessageBody: BODY })),
        }),
      );
      if (r.Failed?.length) throw new Error(`SendMessageBatch failed: ${JSON.stringify(r.Failed[0])}`);
    },
    receiveBatch: async () =>
      (
        (
          await next().send(
            new ReceiveMessageCommand({
              QueueUrl: queueUrl,
              MaxNumberOfMessages: 10,
              VisibilityTimeout: 600,
            }),
          )
        ).Messages ?? []
      ).map((m) => m.ReceiptHandle!),
    deleteBatch: async (handles) => {
      await next().send(
        new DeleteMessageBatchCommand({
          QueueUrl: queueUrl,
          Entries: handles.map((ReceiptHandle, n) => ({ Id: `m${n}`, ReceiptHandle })),
        }),
      );
    },
  };
}

async function storeUrl(
  kind: StoreKind,
  suffix: string,
): Promise<{ url?: string; drop: () => Promise<void> }> {
  if (kind === 'sqlite') return { drop: async () => undefined };
  return freshPgDatabase(`nimbus_bench_queues_${suffix}_${process.pid}`);
}

async function serviceLevel(kind: StoreKind, seconds: number): Promise<PhaseResult[]> {
  const dataDir = mkdtempSync(join(tmpdir(), 'nimbus-bench-queues-'));
  const db = await storeUrl(kind, 'svc');
  const silent = () => {};
  const server = await startServer({
    port: 0,
    dataDir,
    env: {},
    prewarm: { nodejs: 0, python: 0, provided: 0 },
    threadPrewarm: 0,
    logger: { info: silent, warn: silent, error: (m) => process.stderr.write(`[server] ${m}\n`) },
    ...(db.url ? { store: db.url } : {}),
  });
  try {
    const ops: QueueOperations = server.platform.queues;
    await ops.createQueue('bench', { visibilityTimeout: 600 });
    return await runPhases(serviceDriver(ops, 'bench'), kind, 'service (in-process)', seconds);
  } finally {
    await server.close();
    await db.drop();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

async function httpLevel(kind: StoreKind, seconds: number): Promise<PhaseResult[]> {
  const db = await storeUrl(kind, 'http');
  // The server process spreads its JSON options into startServer; `store` selects the database.
  const options: ServerProcessOptions & { store?: string } = {
    prewarm: { nodejs: 0, python: 0, provided: 0 },
    threadPrewarm: 0,
    ...(db.url ? { store: db.url } : {}),
  };
  const server = await startServerProcess(options);
  const clients = sqsClients(server.info.url, server.info.accessKeyId, server.info.secretAccessKey);
  try {
    const { QueueUrl } = await clients[0]!.send(
      new CreateQueueCommand({ QueueName: 'bench', Attributes: { VisibilityTimeout: '600' } }),
    );
    return await runPhases(sqsDriver(clients, QueueUrl!), kind, 'HTTP (SQS API, SDK)', seconds);
  } finally {
    for (const c of clients) c.destroy();
    await server.stop();
    await db.drop();
  }
}

/** The same SDK and connections against a node:http server that answers `{"ok":true}` at once. */
async function bareLevel(seconds: number): Promise<PhaseResult> {
  const bare = await startBareServer();
  const clients = sqsClients(bare.info.url, 'AKIDBARE', 'bare-secret');
  try {
    let i = 0;
    const r = await phase(seconds, async () => {
      await clients[i++ % CLIENTS]!.send(new ListQueuesCommand({}));
      return 1;
    });
    return { store: '—', level: 'bare node:http (SDK)', op: 'ListQueues (bare)', ...r };
  } finally {
    for (const c of clients) c.destroy();
    await bare.stop();
  }
}

/** Run the queue benchmark with `seconds` per phase. */
export async function queuesBench(opts: { seconds: number }): Promise<BenchOutput> {
  let stores: StoreKind[] = (await pgAvailable()) ? ['sqlite', 'postgres'] : ['sqlite'];
  // BENCH_QUEUE_STORES=sqlite (or postgres) narrows the run, for investigating one store.
  const only = process.env['BENCH_QUEUE_STORES']?.split(',');
  if (only) stores = stores.filter((s) => only.includes(s));
  const rows: PhaseResult[] = [];
  for (const kind of stores) {
    rows.push(...(await serviceLevel(kind, opts.seconds)));
    rows.push(...(await httpLevel(kind, opts.seconds)));
  }
  rows.push(await bareLevel(opts.seconds));
  return report(rows, stores, opts.seconds);
}

function report(rows: PhaseResult[], stores: StoreKind[], seconds: number): BenchOutput {
  const rate = (r: PhaseResult) => r.ops / r.seconds;
  const find = (store: string, level: string, op: string) =>
    rows.find((r) => r.store === store && r.level.startsWith(level) && r.op === op);
  const figures: Figure[] = [];
  for (const store of stores) {
    for (const op of [
      'send',
      'receive',
      'delete',
      'send batch×10',
      'receive ≤10',
      'delete batch×10',
    ] as const) {
      for (const level of ['service', 'HTTP'] as const) {
        const r = find(store, level, op);
        if (r) {
          figures.push({
            label: `Queue messages/s, ${op}, ${store}, ${level === 'service' ? 'in-process service' : 'HTTP SQS API'}, ${CLIENTS} clients`,
            value: rate(r),
            unit: '/s',
            digits: 0,
          });
        }
      }
    }
  }
  const bare = rows.find((r) => r.op === 'ListQueues (bare)');
  const fmt = (v: number, d = 2) => (Number.isFinite(v) ? v.toFixed(d) : 'n/a');
  const details = table(
    [
      'store',
      'level',
      'operation',
      'messages',
      'calls',
      'messages/s',
      'calls/s',
      'p50 ms/call',
      'p99 ms/call',
      'calls vs bare HTTP',
    ],
    rows.map((r) => {
      const s = summarize(r.latencies);
      const callRate = r.calls / r.seconds;
      const vsBare =
        bare && r.level.startsWith('HTTP')
          ? `${fmt((100 * callRate) / (bare.calls / bare.seconds), 1)}%`
          : '—';
      return [
        r.store,
        r.level,
        r.op,
        String(r.ops),
        String(r.calls),
        fmt(rate(r), 0),
        fmt(callRate, 0),
        fmt(s.p50, 3),
        fmt(s.p99, 3),
        vsBare,
      ];
    }),
  );
  const method = [
    `- Each store and level first makes ${WARMUP} untimed sends, receives and deletes (JIT, connections, caches), then runs six phases of ${seconds} s, one after another on one queue (visibility timeout 600 s): ${CLIENTS} concurrent loops each \`send\` a 256-byte body; then \`receive\` one message at a time (MaxNumberOfMessages 1, no long poll) until the time is up or the queue is empty; then \`delete\` the received handles one by one; then the same with batches: \`SendMessageBatch\` of 10, receives of up to 10, \`DeleteMessageBatch\` of what each receive got. A phase that runs out of work stops early; rates divide by the time it actually ran.`,
    '- Service level: `startServer` in the benchmark process, calling `platform.queues` (QueueOperations) directly: store + service cost, no HTTP.',
    `- HTTP level: a Nimbus server in its own process (\`bench/lib/server-process.ts\`); ${CLIENTS} \`SQSClient\`s (\`@aws-sdk/client-sqs\`, keep-alive, SigV4, MD5 checks on) in the benchmark process, one per loop. The SDK's own CPU (signing, MD5, parsing) is in these figures, and on 2 cores it competes with the server.`,
    '- Baseline: the same 4 SDK clients sending `ListQueues` to `bench/lib/bare-server.ts` (node:http answering `{"ok":true}` at once), same run: the ceiling of SDK + HTTP on this machine.',
    '- SQLite: the default store in a temp data dir (WAL). PostgreSQL: the local server (127.0.0.1:5432), a fresh database per level, dropped after.',
    '- Latency: per-call wall time in the calling loop (performance.now), nearest-rank percentiles.',
    "- Where the HTTP time goes (a `--cpu-prof` of the server process during the SQLite HTTP phases, `BENCH_SERVER_NODE_ARGS`): the server was idle about half the time, so the SDK clients in the benchmark process and the shared cores bound the HTTP figures, not the facade. Of the server's busy time, SQLite statements were the largest part, and better-sqlite3 `prepare` was about a third of the store time (Kysely prepares every query anew); socket writes next; SigV4 verification and the facade were a few percent each.",
  ];
  return { title: 'Queues', figures, details, method };
}

if (isMain(import.meta.url)) {
  await runStandalone({
    section: '## Queues',
    script: 'bench/queues.ts',
    figures: 'values',
    run: (quick) => queuesBench({ seconds: quick ? 2 : 5 }),
  });
}
