// Kills the processes a function left running when its invocation (or init) ends.

import { readdirSync } from 'node:fs';
import type { InstanceCgroup } from './cgroup-limits.js';
import { processTree } from './rss-watchdog.js';

/** Where an instance's processes are found. */
export interface LeftoverReaperOptions {
  /** The spawned pid: bwrap, or the runner itself when unsandboxed. */
  readonly rootPid: number;
  /** The instance's cgroup, when there is one: then every process in it is the instance's. */
  readonly cgroup?: InstanceCgroup | undefined;
  /** Whether the runner is inside bwrap (its own pid namespace, whose init is bwrap's child). */
  readonly sandboxed: boolean;
  /**
   * Whether the instance is between invocations (nothing it runs now is legitimate but the kept
   * processes): the deferred full listing of {@link LeftoverReaper.reap} runs only then.
   */
  readonly isIdle?: (() => boolean) | undefined;
}

/**
 * Lambda freezes a sandbox between invocations, so nothing a function started runs on while it
 * is idle; Nimbus does not freeze, it kills: once an invocation ends, every process of the
 * instance except those recorded by {@link keepCurrent} (bwrap, its pid-namespace init, the
 * runner; for `provided` also the bootstrap and what it started during init) gets SIGKILL.
 * Measured before: a detached CPU spinner kept 40–65 % of a core for minutes after its invocation.
 *
 * How the instance's processes are listed, cheapest first:
 * - a cgroup: its `cgroup.procs` (≈10 µs), which no descendant can leave;
 * - bwrap without a cgroup: the sandbox's own /proc (`/proc/<ns-init>/root/proc`, a listing of
 *   2–3 entries) says whether anything extra runs; only then the host's /proc is scanned for the
 *   descendants of bwrap (orphans in the pid namespace are reparented to its init, so none escape
 *   the tree);
 * - unsandboxed without a cgroup (development only): a scan of the host's /proc every time; a
 *   process that double-forks is reparented outside the runner's tree and is not found.
 */
/** Longest time the task-count shortcut of {@link LeftoverReaper.reap} goes without a full listing. */
const FULL_CHECK_MS = 1000;

export class LeftoverReaper {
  readonly #options: LeftoverReaperOptions;
  #keep = new Set<number>();
  /** The sandbox's /proc seen from the host, and how many processes it listed when kept. */
  #nsProc: string | undefined;
  #nsCount = 0;
  /** With a cgroup: its task count when the last full listing found nothing extra, and when. */
  #quietTasks = -1;
  #fullCheckAt = 0;
  /** A full listing owed after a shortcut, run within FULL_CHECK_MS if the instance is idle then. */
  #deferred: NodeJS.Timeout | undefined;

  constructor(options: LeftoverReaperOptions) {
    this.#options = options;
  }

  /** Record the processes alive now as the instance's own; they are never reaped. */
  keepCurrent(): void {
    const pids = this.#list();
    this.#keep = new Set(pids);
    this.#nsProc = undefined;
    this.#quietTasks = this.#options.cgroup?.taskCount() ?? -1;
    this.#fullCheckAt = performance.now();
    if (this.#options.cgroup === undefined && this.#options.sandboxed) {
      const root = this.#options.rootPid;
      // bwrap's first child is the pid namespace's init; its /proc lists only the sandbox.
      const init = processTree(root, 3).find((pid) => pid !== root);
      const nsProc = init === undefined ? undefined : `/proc/${init}/root/proc`;
      const count = nsProc === undefined ? -1 : countPids(nsProc);
      if (nsProc !== undefined && count > 0) {
        this.#nsProc = nsProc;
        this.#nsCount = count;
      }
    }
  }

  /** SIGKILL every process of the instance that was not kept. Returns how many were signalled. */
  reap(): number {
    const cgroup = this.#options.cgroup;
    if (cgroup !== undefined && this.#quietTasks >= 0) {
      // The hot path (every warm invoke): one pread of pids.current. Unchanged since a full
      // listing found nothing extra → nothing new runs, unless the kept processes lost exactly as
      // many threads as leftovers were started (a worker thread ended while a child was
      // spawned); a full listing at least every FULL_CHECK_MS bounds that case. Measured: the
      // full listing on every invoke was ≈27 µs of server CPU per warm invoke (6.7 %).
      const tasks = cgroup.taskCount();
      if (tasks === this.#quietTasks && performance.now() - this.#fullCheckAt < FULL_CHECK_MS) {
        // If the instance then sits idle, the owed full listing still comes within FULL_CHECK_MS.
        this.#deferred ??= setTimeout(() => {
          this.#deferred = undefined;
          if (this.#options.isIdle?.() === true) this.#reapFully(cgroup);
        }, FULL_CHECK_MS).unref();
        return 0;
      }
      return this.#reapFully(cgroup);
    }
    return this.#reapListed();
  }

  /** Stop the deferred listing (the instance is being disposed; its cgroup is killed whole). */
  close(): void {
    clearTimeout(this.#deferred);
    this.#deferred = undefined;
  }

  #reapFully(cgroup: InstanceCgroup): number {
    const killed = this.#reapListed();
    this.#fullCheckAt = performance.now();
    // Only a quiet listing sets the baseline: killed tasks may still be counted while they exit.
    if (killed === 0) this.#quietTasks = cgroup.taskCount();
    return killed;
  }

  #reapListed(): number {
    if (this.#nsProc !== undefined) {
      const count = countPids(this.#nsProc);
      // -1: unreadable now (the sandbox is gone or exiting): scan the tree as without a hint.
      if (count >= 0 && count <= this.#nsCount) return 0;
    }
    const signalled = new Set<number>();
    // Repeat while new processes show up: one may fork between the listing and its kill. A fork
    // loop cannot outrun this for long: the pids limit bounds it, and each round kills all seen.
    for (let round = 0; round < 50; round++) {
      const fresh = this.#list().filter((pid) => !this.#keep.has(pid) && !signalled.has(pid));
      if (fresh.length === 0) break;
      for (const pid of fresh) {
        signalled.add(pid);
        try {
          process.kill(pid, 'SIGKILL');
        } catch {
          // Already gone.
        }
      }
    }
    return signalled.size;
  }

  /** SIGKILL every process of the instance, kept or not (for dispose without a cgroup). */
  killAll(): void {
    for (const pid of this.#list()) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // Already gone.
      }
    }
  }

  #list(): number[] {
    return this.#options.cgroup ? this.#options.cgroup.pids() : processTree(this.#options.rootPid);
  }
}

/** Numeric entries of a /proc directory, or -1 when it cannot be read. */
function countPids(proc: string): number {
  try {
    let n = 0;
    for (const name of readdirSync(proc)) {
      const c = name.charCodeAt(0);
      if (c >= 48 && c <= 57) n++;
    }
    return n;
  } catch {
    return -1;
  }
}
