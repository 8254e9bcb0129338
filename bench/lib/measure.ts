// One wrk run plus the CPU time the server's process tree spent serving it (per request).
import { treeCpuMs } from './proc.js';
import { wrk, type WrkResult, type WrkTarget } from './wrk.js';

/** A measured point: wrk's figures and CPU µs per request. */
export interface Row {
  readonly name: string;
  readonly result: WrkResult;
  /** CPU µs per request of the server process (all threads) and of its child processes. */
  readonly serverUs: number;
  readonly childrenUs: number;
}

/** One wrk run with the CPU time the process tree of `pid` spent on it. */
export async function measure(
  name: string,
  t: WrkTarget,
  pid: number,
  c: number,
  seconds: number,
  cpu?: number,
): Promise<Row> {
  const before = treeCpuMs(pid);
  const result = await wrk(t, c, seconds, cpu);
  const after = treeCpuMs(pid);
  const perReq = (ms: number) => (ms * 1000) / Math.max(1, result.requests);
  return {
    name,
    result,
    serverUs: perReq(after.self - before.self),
    childrenUs: perReq(after.children - before.children),
  };
}

/** Column headers of a load-test details table (rows from {@link loadRow}). */
export const LOAD_COLUMNS = [
  'server',
  'connections',
  'req/s',
  'p50',
  'p90',
  'p99',
  'vs bare req/s',
  'errors',
  'CPU/req: server',
  'CPU/req: instances',
];

/** One details-table row: `row` against the bare baseline `base`; bare rows have no instances. */
export function loadRow(row: Row, base: WrkResult, bare: boolean): string[] {
  const { name, result: r, serverUs, childrenUs } = row;
  return [
    name,
    String(r.connections),
    r.rps.toFixed(0),
    `${r.p50.toFixed(3)} ms`,
    `${r.p90.toFixed(3)} ms`,
    `${r.p99.toFixed(3)} ms`,
    `${((100 * r.rps) / base.rps).toFixed(1)}%`,
    String(r.errors),
    `${serverUs.toFixed(0)} µs`,
    bare ? '—' : `${childrenUs.toFixed(0)} µs`,
  ];
}
