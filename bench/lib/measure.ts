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
