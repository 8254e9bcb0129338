// Runs wrk (a C load generator in its own process) with a generated Lua script and parses its
// JSON summary: throughput and latency percentiles in ms.
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);
export const WRK = '/usr/bin/wrk';

/** One wrk run's figures. */
export interface WrkResult {
  readonly connections: number;
  readonly requests: number;
  readonly rps: number;
  readonly p50: number;
  readonly p90: number;
  readonly p99: number;
  readonly mean: number;
  /** Socket errors plus non-2xx responses. */
  readonly errors: number;
}

/** What to send. */
export interface WrkTarget {
  /** @default 'POST' */
  readonly method?: string;
  readonly url: string;
  readonly path: string;
  readonly body: string;
  readonly headers: Record<string, string>;
}

const lua = (s: string): string => JSON.stringify(s); // a JSON string literal is a valid Lua string here

function script(t: WrkTarget): string {
  const headers = Object.entries(t.headers)
    .map(([k, v]) => `wrk.headers[${lua(k)}] = ${lua(v)}`)
    .join('\n');
  return `wrk.method = ${lua(t.method ?? 'POST')}
wrk.path = ${lua(t.path)}
${t.body === '' ? '' : `wrk.body = ${lua(t.body)}`}
${headers}
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format('WRK_JSON {"requests":%d,"duration_us":%d,"errors":%d,"p50":%d,"p90":%d,"p99":%d,"mean":%f}\\n',
    summary.requests, summary.duration, e.connect + e.read + e.write + e.status + e.timeout,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.mean))
end
`;
}

/** Whether wrk is installed. */
export const haveWrk = (): boolean => existsSync(WRK);

/** Set the CPU affinity of `pid` (a `taskset` list such as `0` or `0-1`). */
export async function pin(pid: number, cpus: string): Promise<void> {
  await run('taskset', ['-pc', cpus, String(pid)]);
}

/**
 * Run wrk for `seconds` with `connections` keep-alive connections on one thread (on CPU `cpu`
 * only, when given).
 */
export async function wrk(
  target: WrkTarget,
  connections: number,
  seconds: number,
  cpu?: number,
): Promise<WrkResult> {
  const dir = mkdtempSync(join(tmpdir(), 'nimbus-bench-wrk-'));
  try {
    const file = join(dir, 'req.lua');
    writeFileSync(file, script(target));
    const args = ['-t1', `-c${connections}`, `-d${seconds}s`, '--timeout', '5s', '-s', file, target.url];
    const { stdout } = await (cpu === undefined
      ? run(WRK, args, { timeout: (seconds + 30) * 1000 })
      : run('taskset', ['-c', String(cpu), WRK, ...args], { timeout: (seconds + 30) * 1000 }));
    const line = stdout.split('\n').find((l) => l.startsWith('WRK_JSON '));
    if (!line) throw new Error(`wrk printed no summary:\n${stdout}`);
    const j = JSON.parse(line.slice('WRK_JSON '.length)) as Record<string, number>;
    const us = (x: number | undefined) => (x ?? Number.NaN) / 1000;
    return {
      connections,
      requests: j.requests!,
      rps: j.requests! / (j.duration_us! / 1e6),
      p50: us(j.p50),
      p90: us(j.p90),
      p99: us(j.p99),
      mean: us(j.mean),
      errors: j.errors!,
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
