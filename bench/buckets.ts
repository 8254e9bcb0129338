// Bucket throughput through the S3 API: PutObject/GetObject of 1 KB objects (objects/s) and of
// large objects (MB/s) with @aws-sdk/client-s3 against a Nimbus server process on SQLite and
// PostgreSQL, beside the same SDK against a bare node:http server that writes (fsync + rename) and
// reads files, in the same run. Standalone: `node --import tsx bench/buckets.ts [--quick]`
// replaces the "Buckets (S3 API)" section of bench/RESULTS.md; run-all.ts runs it as `buckets`.
import { spawn } from 'node:child_process';

import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { CreateBucketCommand, GetObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { pgAvailable, freshPgDatabase } from './lib/pg-database.js';
import { isMain, runStandalone } from './lib/results-section.js';
import { startServerProcess } from './lib/processes.js';
import { table, type BenchOutput, type Figure } from './lib/report.js';
import type { ServerProcessOptions } from './lib/server-process.js';
import { summarize } from './lib/stats.js';

/** Concurrent clients for the small-object phases. */
const CLIENTS = 4;
const SMALL = Buffer.alloc(1024, 'a');
/** Large object size: above the SDK's 8 KB stream buffer, far below the 5 GB put limit. */
const LARGE_MB = 16;
const LARGE = Buffer.from(Buffer.alloc(LARGE_MB * 1024 * 1024).map((_, i) => (i * 31) & 0xff));

type Target = 'sqlite' | 'postgres' | 'bare node:http';

interface Result {
  readonly target: Target;
  readonly op: string;
  readonly rate: number;
  readonly unit: string;
  readonly p50: number;
  readonly p99: number;
  readonly n: number;
}

/** Run `worker` in `clients` loops for `seconds`; returns calls and their latencies (ms). */
async function loop(seconds: number, clients: number, worker: (i: number) => Promise<void>) {
  const latencies: number[] = [];
  let n = 0;
  const started = performance.now();
  const deadline = started + seconds * 1000;
  await Promise.all(
    Array.from({ length: clients }, async () => {
      while (performance.now() < deadline) {
        const i = n++;
        const t = performance.now();
        await worker(i);
        latencies.push(performance.now() - t);
      }
    }),
  );
  return { calls: latencies.length, seconds: (performance.now() - started) / 1000, latencies };
}

function client(url: string, accessKeyId: string, secretAccessKey: string): S3Client {
  return new S3Client({
    endpoint: url,
    forcePathStyle: true,
    region: 'us-east-1',
    credentials: { accessKeyId, secretAccessKey },
    maxAttempts: 1,
  });
}

async function measure(target: Target, s3: S3Client, seconds: number, largeCount: number): Promise<Result[]> {
  const out: Result[] = [];
  const row = (op: string, r: Awaited<ReturnType<typeof loop>>, perCall: number, unit: string): void => {
    const s = summarize(r.latencies);
    out.push({ target, op, rate: (r.calls * perCall) / r.seconds, unit, p50: s.p50, p99: s.p99, n: r.calls });
  };
  await s3.send(new CreateBucketCommand({ Bucket: 'bench' })).catch(() => undefined);
  // Warm-up: connections, signing keys, prepared statements.
  for (let i = 0; i < 50; i++)
    await s3.send(new PutObjectCommand({ Bucket: 'bench', Key: `warm/${i}`, Body: SMALL }));
  const put = await loop(seconds, CLIENTS, async (i) => {
    await s3.send(new PutObjectCommand({ Bucket: 'bench', Key: `small/${i}`, Body: SMALL }));
  });
  row('PutObject 1 KB', put, 1, 'objects/s');
  const get = await loop(seconds, CLIENTS, async (i) => {
    const r = await s3.send(
      new GetObjectCommand({ Bucket: 'bench', Key: `small/${i % Math.max(1, put.calls)}` }),
    );
    await r.Body!.transformToByteArray();
  });
  row('GetObject 1 KB', get, 1, 'objects/s');
  const bigPut: number[] = [];
  for (let i = 0; i < largeCount; i++) {
    const t = performance.now();
    await s3.send(new PutObjectCommand({ Bucket: 'bench', Key: `large/${i}`, Body: LARGE }));
    bigPut.push(performance.now() - t);
  }
  const sum = (xs: number[]): number => xs.reduce((a, b) => a + b, 0) / 1000;
  row(
    `PutObject ${LARGE_MB} MB`,
    { calls: largeCount, seconds: sum(bigPut), latencies: bigPut },
    LARGE_MB,
    'MB/s',
  );
  const bigGet: number[] = [];
  for (let i = 0; i < largeCount; i++) {
    const t = performance.now();
    const r = await s3.send(new GetObjectCommand({ Bucket: 'bench', Key: `large/${i}` }));
    const bytes = await r.Body!.transformToByteArray();
    if (bytes.length !== LARGE.length) throw new Error(`large/${i}: got ${bytes.length} bytes`);
    bigGet.push(performance.now() - t);
  }
  row(
    `GetObject ${LARGE_MB} MB`,
    { calls: largeCount, seconds: sum(bigGet), latencies: bigGet },
    LARGE_MB,
    'MB/s',
  );
  return out;
}

async function nimbus(kind: 'sqlite' | 'postgres', seconds: number, largeCount: number): Promise<Result[]> {
  const db = kind === 'postgres' ? await freshPgDatabase(`nimbus_bench_buckets_${process.pid}`) : undefined;
  const options: ServerProcessOptions & { store?: string } = {
    prewarm: { nodejs: 0, python: 0, provided: 0 },
    threadPrewarm: 0,
    ...(db ? { store: db.url } : {}),
  };
  const server = await startServerProcess(options);
  const s3 = client(server.info.url, server.info.accessKeyId, server.info.secretAccessKey);
  try {
    return await measure(kind, s3, seconds, largeCount);
  } finally {
    s3.destroy();
    await server.stop();
    await db?.drop();
  }
}

async function bare(seconds: number, largeCount: number): Promise<Result[]> {
  const here = fileURLToPath(new URL('.', import.meta.url));
  const child = spawn(process.execPath, ['--import', 'tsx', join(here, 'buckets-bare-server.ts')], {
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  const line = await new Promise<string>((resolve, reject) => {
    createInterface({ input: child.stdout! }).once('line', resolve);
    child.once('exit', (code) => reject(new Error(`buckets-bare-server exited with ${code}`)));
  });
  const { url } = JSON.parse(line) as { url: string };
  const s3 = client(url, 'AKIDBARE', 'bare-secret');
  try {
    return await measure('bare node:http', s3, seconds, largeCount);
  } finally {
    s3.destroy();
    child.stdin!.end();
    await exited;
  }
}

/** Run the bucket benchmark. */
export async function bucketsBench(opts: { seconds: number; largeCount: number }): Promise<BenchOutput> {
  const results: Result[] = [];
  results.push(...(await bare(opts.seconds, opts.largeCount)));
  results.push(...(await nimbus('sqlite', opts.seconds, opts.largeCount)));
  if (await pgAvailable()) results.push(...(await nimbus('postgres', opts.seconds, opts.largeCount)));
  const figures: Figure[] = results
    .filter((r) => r.target !== 'bare node:http')
    .map((r) => ({
      label: `${r.op}, ${r.target}`,
      value: r.rate,
      unit: r.unit,
      digits: r.unit === 'MB/s' ? 1 : 0,
    }));
  const baseOf = (op: string): number =>
    results.find((r) => r.target === 'bare node:http' && r.op === op)?.rate ?? NaN;
  return {
    title: 'Buckets (S3 API)',
    figures,
    details: table(
      ['target', 'operation', 'throughput', 'vs bare', 'p50 ms', 'p99 ms', 'calls'],
      results.map((r) => [
        r.target,
        r.op,
        `${r.rate.toFixed(r.unit === 'MB/s' ? 1 : 0)} ${r.unit}`,
        r.target === 'bare node:http' ? '—' : `${((r.rate / baseOf(r.op)) * 100).toFixed(0)} %`,
        r.p50.toFixed(2),
        r.p99.toFixed(2),
        String(r.n),
      ]),
    ),
    method: [
      `- Client: one \`@aws-sdk/client-s3\` S3Client (default settings: CRC32 request checksums, \`endpoint\` + \`forcePathStyle\`) in the benchmark process; the server in its own process. 1 KB phases: ${CLIENTS} concurrent loops for ${opts.seconds} s each (PutObject of new keys, then GetObject of those keys, body read fully). Large: ${opts.largeCount} sequential PutObject then GetObject of ${LARGE_MB} MB Buffers; MB/s = bytes / summed call time.`,
      '- Nimbus: a fresh data dir and database per store (PostgreSQL: a new database on 127.0.0.1:5432); every put is verified (SigV4, CRC32, MD5), written to a temp file, fsynced, renamed and committed to the store before the reply.',
      '- Baseline: the same SDK client against a bare node:http server (bench/buckets-bare-server.ts) that writes the body to a temp file, fsyncs, renames, and streams files back; no signature or checksum verification, no metadata store.',
    ],
  };
}

if (isMain(import.meta.url)) {
  await runStandalone({
    section: '## Buckets (S3 API)',
    script: 'bench/buckets.ts',
    figures: 'none',
    run: (quick) => bucketsBench({ seconds: quick ? 2 : 5, largeCount: quick ? 3 : 8 }),
  });
}
