// Process-tree discovery and a memory watchdog: the RSS limit without a cgroup, the anon limit within one.

import { readdirSync, readFileSync } from 'node:fs';

/** Parent pid of `pid` from /proc/<pid>/stat, or -1 if it is gone. */
function parentOf(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'latin1');
    // Fields after the parenthesised command: state ppid ...
    const rest = stat.slice(stat.lastIndexOf(')') + 2);
    const space = rest.indexOf(' ');
    return Number(rest.slice(space + 1, rest.indexOf(' ', space + 1)));
  } catch {
    return -1;
  }
}

/**
 * `root` and all its live descendants (stopping early once `expectedSize` processes are found). /proc/<pid>/task/<tid>/children is not compiled into
 * every kernel (it is not here), so this scans /proc. A full scan costs ≈4 ms with ~100
 * processes; scanning only pids above `root` first (pids are allocated upwards, so children
 * of a fresh process almost always have larger ones) makes the common case ≈0.1 ms.
 */
export function processTree(root: number, expectedSize = Infinity): number[] {
  const entries = readdirSync('/proc')
    .filter((e) => e.charCodeAt(0) >= 48 && e.charCodeAt(0) <= 57)
    .map(Number);
  const tree = new Set([root]);
  const scan = (candidates: number[]): void => {
    // Repeat until stable: a grandchild may be listed before its parent is known.
    for (let changed = true; changed;) {
      changed = false;
      for (const pid of candidates) {
        if (tree.has(pid)) continue;
        if (tree.has(parentOf(pid))) {
          tree.add(pid);
          changed = true;
        }
      }
    }
  };
  scan(entries.filter((p) => p > root));
  if (tree.size < expectedSize) scan(entries.filter((p) => p < root)); // pid wrap-around
  return [...tree];
}

/** Resident set size of one process in KiB (VmRSS), 0 if it is gone. */
export function rssKiB(pid: number): number {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'latin1');
    const i = status.indexOf('VmRSS:');
    return i < 0 ? 0 : parseInt(status.slice(i + 6), 10);
  } catch {
    return 0;
  }
}

/** Options for {@link RssWatchdog}. */
export interface RssWatchdogOptions {
  /** Root of the sandbox's process tree (the spawned pid). */
  readonly rootPid: number;
  /**
   * Measure something else than the tree's summed RSS, in bytes: with a cgroup, the cgroup's
   * anonymous memory (its hard limit also covers the tmpfs pages, see cgroup-limits.ts).
   */
  readonly measure?: () => number;
  readonly limitBytes: number;
  /** Called once when the summed RSS exceeds the limit. */
  readonly onBreach: () => void;
  /** @default 50 */
  readonly intervalMs?: number;
}

/**
 * Polls the summed RSS of a process tree while an invocation runs. Reading /proc/<pid>/status
 * for three processes costs ≈30 µs, so a 50 ms period is negligible; a function can still
 * overshoot by what it allocates in 50 ms, which is why cgroups are preferred.
 */
export class RssWatchdog {
  readonly #options: RssWatchdogOptions;
  #timer: NodeJS.Timeout | undefined;
  #tree: number[] = [];
  #ticks = 0;
  #peakBytes = 0;

  constructor(options: RssWatchdogOptions) {
    this.#options = options;
  }

  /** Highest summed RSS seen, in bytes. */
  get peakBytes(): number {
    return this.#peakBytes;
  }

  start(): void {
    if (this.#timer) return;
    if (this.#options.measure === undefined) this.#tree = processTree(this.#options.rootPid);
    this.#ticks = 0;
    this.#timer = setInterval(() => this.#tick(), this.#options.intervalMs ?? 50);
    this.#timer.unref();
  }

  stop(): void {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = undefined;
  }

  #tick(): void {
    let total = 0;
    if (this.#options.measure !== undefined) {
      total = this.#options.measure();
    } else {
      // Re-discover the tree every 10 ticks to catch processes the function forked.
      if (++this.#ticks % 10 === 0) this.#tree = processTree(this.#options.rootPid);
      for (const pid of this.#tree) total += rssKiB(pid) * 1024;
    }
    if (total > this.#peakBytes) this.#peakBytes = total;
    if (total > this.#options.limitBytes) {
      this.stop();
      this.#options.onBreach();
    }
  }
}
