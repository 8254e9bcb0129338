// /proc readings for the benchmarks: CPU time of process trees and private/proportional memory.
import { readFileSync } from 'node:fs';
import { processTree } from '../../src/runtime/process/rss-watchdog.js';

export { processTree };

/** Clock ticks per second of /proc/<pid>/stat times (USER_HZ, 100 on Linux). */
const TICKS_PER_S = 100;

/** User + system CPU time of one process (all its threads), in ms; 0 when it is gone. */
export function cpuMs(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'latin1');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // After the command: state(0) ppid(1) … utime(11) stime(12).
    return ((Number(f[11]) + Number(f[12])) * 1000) / TICKS_PER_S;
  } catch {
    return 0;
  }
}

/** CPU ms of `root` itself and, separately, of all its descendants alive now. */
export function treeCpuMs(root: number): { self: number; children: number } {
  const tree = processTree(root).filter((p) => p !== root);
  return { self: cpuMs(root), children: tree.reduce((sum, p) => sum + cpuMs(p), 0) };
}

/** Memory of one process from smaps_rollup, in MB (0s when it is gone). */
export interface ProcMemory {
  readonly pssMB: number;
  readonly privateMB: number;
  readonly rssMB: number;
}

/** PSS, Private_Clean + Private_Dirty and RSS of `pid`. */
export function procMemory(pid: number): ProcMemory {
  let text = '';
  try {
    text = readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8');
  } catch {
    return { pssMB: 0, privateMB: 0, rssMB: 0 };
  }
  const kb = (name: string) => Number(new RegExp(`^${name}:\\s+(\\d+)`, 'm').exec(text)?.[1] ?? 0);
  return {
    pssMB: kb('Pss') / 1024,
    privateMB: (kb('Private_Clean') + kb('Private_Dirty')) / 1024,
    rssMB: kb('Rss') / 1024,
  };
}

/** The command line of `pid` (NUL-separated arguments joined by spaces). */
export function cmdline(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ').trim();
  } catch {
    return '';
  }
}

/** Live direct children of `pid`. */
export function childrenOf(pid: number): number[] {
  return processTree(pid).filter((p) => {
    try {
      const stat = readFileSync(`/proc/${p}/stat`, 'latin1');
      return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]) === pid;
    } catch {
      return false;
    }
  });
}
