// Per-instance memory and pids cgroups (v1 memory+pids hierarchies, or a delegated v2 subtree).

import { existsSync, mkdirSync, readdirSync, readFileSync, rmdirSync, writeFileSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';

/**
 * Memory granted on top of the function's `memory` setting and of the runner's own anonymous
 * memory at load time (see {@link CgroupLimitSpec.baselineBytes}): the margin covers what the
 * runtime itself allocates later (JIT code, GC slack), so a 128 MB function gets its full 128 MB
 * of data.
 */
export const RUNNER_MEMORY_OVERHEAD_MB = 32;

/**
 * Tasks granted on top of `maxProcesses`. The pids controller counts threads: an idle node
 * runner has 7 (main, 4 V8 platform workers, inspector-less signal and libuv helpers) plus the
 * two bwrap processes, and libuv's pool adds 4 on first fs/dns use.
 */
export const RUNNER_TASK_OVERHEAD = 16;

/** Limits for one instance. */
export interface CgroupLimitSpec {
  readonly memoryMB: number;
  readonly maxProcesses: number;
  /**
   * Anonymous memory the generic runner already has charged here (node ≈20–30 MB after start),
   * added to the limit. Runners start inside their cgroup, so their startup memory counts; this
   * keeps the function's share the same as when runners were moved in after start. Only anon
   * memory: page cache charged at start is reclaimable, so adding it would raise the limit.
   */
  readonly baselineBytes?: number;
}

/** One instance's cgroup(s). */
export interface InstanceCgroup {
  /** Set the memory and pids limits (cheap: two writes). */
  setLimits(limits: CgroupLimitSpec): void;
  /**
   * Move one process in (all its threads), on the libuv thread pool: the first write to any
   * cgroup.procs after a quiet spell waits for an RCU grace period (below), and that wait must
   * not block the event loop. Rejects if a write fails.
   */
  adopt(pid: number): Promise<void>;
  /** Anonymous memory charged to this cgroup, in bytes (0 if unknown). */
  anonBytes(): number;
  /** Whether the kernel OOM killer fired inside this cgroup. */
  oomKilled(): boolean;
  /** Pids currently inside (the memory hierarchy, or the only one). */
  pids(): number[];
  /** SIGKILL everything inside. */
  killAll(): void;
  /** Remove the cgroup directories (waits briefly for killed processes to leave). */
  remove(): Promise<void>;
}

/** Creates per-instance cgroups under one `nimbus-<pid>` parent per hierarchy. */
export interface CgroupManager {
  readonly version: 1 | 2;
  /**
   * Create an instance cgroup, without limits until {@link InstanceCgroup.setLimits}. Moving a
   * process in costs 5–20 ms of wall time here, and that cost is not the process's memory: a
   * fresh `sleep` costs as much as an idle node (measured: 1.6–18 ms vs 5–21 ms, p50 ≈10 ms),
   * and the same cost moves to whichever hierarchy is written first (memory or pids) while the
   * second write right after takes 0.06 ms. It is the cgroup thread-group rwsem switching to its
   * writer mode, which waits for an RCU grace period unless a writer was there moments ago.
   * So processes are never moved on a cold-start path: runners start inside their cgroup from a
   * parked launcher (launcher-pool.ts) that was moved in beforehand, in the background.
   */
  create(id: string): InstanceCgroup;
  /** Remove the parent directories (after every instance cgroup was removed). */
  close(): void;
}

/** The path of this process's cgroup in a hierarchy, from /proc/self/cgroup. */
function ownPath(controller: string | null): string | undefined {
  for (const line of readFileSync('/proc/self/cgroup', 'utf8').split('\n')) {
    const [id, controllers, path] = line.split(':', 3) as [string, string | undefined, string | undefined];
    if (path === undefined || controllers === undefined) continue;
    if (
      controller === null ? id === '0' && controllers === '' : controllers.split(',').includes(controller)
    ) {
      return path;
    }
  }
  return undefined;
}

/**
 * Find a writable cgroup setup, or return null (the backend then falls back to a heap flag plus
 * the RSS watchdog). Instance cgroups nest under this process's own cgroup, so a limit put on
 * the server (e.g. by systemd) still bounds all its functions together.
 */
export function detectCgroups(root = '/sys/fs/cgroup'): CgroupManager | null {
  try {
    const v1 = detectV1(root);
    if (v1) return v1;
  } catch {
    // Not writable: try v2.
  }
  try {
    return detectV2(root);
  } catch {
    return null;
  }
}

function detectV1(root: string): CgroupManager | null {
  const memOwn = ownPath('memory');
  const pidsOwn = ownPath('pids');
  if (memOwn === undefined || pidsOwn === undefined) return null;
  const memParent = join(root, 'memory', memOwn, `nimbus-${process.pid}`);
  const pidsParent = join(root, 'pids', pidsOwn, `nimbus-${process.pid}`);
  if (!existsSync(join(root, 'memory', memOwn, 'memory.limit_in_bytes'))) return null;
  if (!existsSync(join(root, 'pids', pidsOwn, 'cgroup.procs'))) return null;
  sweepStale(dirname(memParent));
  sweepStale(dirname(pidsParent));
  mkdirSync(memParent, { recursive: true });
  try {
    mkdirSync(pidsParent, { recursive: true });
  } catch (err) {
    rmdirSync(memParent);
    throw err;
  }
  return {
    version: 1,
    create(id) {
      const mem = join(memParent, id);
      const pids = join(pidsParent, id);
      mkdirSync(mem);
      try {
        mkdirSync(pids);
      } catch (err) {
        tryRmdir(mem);
        throw err;
      }
      return new V1Cgroup(mem, pids);
    },
    close() {
      tryRmdir(memParent);
      tryRmdir(pidsParent);
    },
  };
}

function detectV2(root: string): CgroupManager | null {
  const own = ownPath(null);
  const mount = existsSync(join(root, 'cgroup.controllers')) ? root : null;
  if (own === undefined || mount === null) return null;
  const ownDir = join(mount, own);
  const parent = join(ownDir, `nimbus-${process.pid}`);
  // Fails with EBUSY unless the server's own cgroup is delegated and holds no processes
  // directly ("no internal processes"); then we run without cgroups.
  writeFileSync(join(ownDir, 'cgroup.subtree_control'), '+memory +pids');
  mkdirSync(parent);
  try {
    writeFileSync(join(parent, 'cgroup.subtree_control'), '+memory +pids');
  } catch (err) {
    rmdirSync(parent);
    throw err;
  }
  return {
    version: 2,
    create(id) {
      const dir = join(parent, id);
      mkdirSync(dir);
      return new V2Cgroup(dir);
    },
    close() {
      tryRmdir(parent);
    },
  };
}

class V1Cgroup implements InstanceCgroup {
  readonly #mem: string;
  readonly #pids: string;
  constructor(mem: string, pids: string) {
    this.#mem = mem;
    this.#pids = pids;
  }
  setLimits(limits: CgroupLimitSpec): void {
    const bytes = String(limitBytes(limits));
    writeFileSync(join(this.#mem, 'memory.limit_in_bytes'), bytes);
    // With swap, memsw must match or the instance would swap instead of hitting the limit.
    tryWrite(join(this.#mem, 'memory.memsw.limit_in_bytes'), bytes);
    writeFileSync(join(this.#pids, 'pids.max'), String(limits.maxProcesses + RUNNER_TASK_OVERHEAD));
  }
  async adopt(pid: number): Promise<void> {
    // cgroup.procs moves every thread of the process. The first write pays the grace period,
    // the second is then ≈0.1 ms.
    await writeFile(join(this.#mem, 'cgroup.procs'), String(pid));
    await writeFile(join(this.#pids, 'cgroup.procs'), String(pid));
  }
  anonBytes(): number {
    // v1 `rss` is anonymous memory (plus swap cache); `rss_huge` is included in it.
    return counter(join(this.#mem, 'memory.stat'), 'rss');
  }
  oomKilled(): boolean {
    return counter(join(this.#mem, 'memory.oom_control'), 'oom_kill') > 0;
  }
  pids(): number[] {
    return readPids(join(this.#mem, 'cgroup.procs'));
  }
  killAll(): void {
    killPids([...readPids(join(this.#mem, 'cgroup.procs')), ...readPids(join(this.#pids, 'cgroup.procs'))]);
  }
  async remove(): Promise<void> {
    await removeWhenEmpty([this.#mem, this.#pids], () => this.killAll());
  }
}

class V2Cgroup implements InstanceCgroup {
  readonly #dir: string;
  constructor(dir: string) {
    this.#dir = dir;
  }
  setLimits(limits: CgroupLimitSpec): void {
    writeFileSync(join(this.#dir, 'memory.max'), String(limitBytes(limits)));
    tryWrite(join(this.#dir, 'memory.swap.max'), '0');
    writeFileSync(join(this.#dir, 'pids.max'), String(limits.maxProcesses + RUNNER_TASK_OVERHEAD));
  }
  async adopt(pid: number): Promise<void> {
    await writeFile(join(this.#dir, 'cgroup.procs'), String(pid));
  }
  anonBytes(): number {
    return counter(join(this.#dir, 'memory.stat'), 'anon');
  }
  oomKilled(): boolean {
    return counter(join(this.#dir, 'memory.events'), 'oom_kill') > 0;
  }
  pids(): number[] {
    return readPids(join(this.#dir, 'cgroup.procs'));
  }
  killAll(): void {
    if (!tryWrite(join(this.#dir, 'cgroup.kill'), '1')) killPids(this.pids());
  }
  async remove(): Promise<void> {
    await removeWhenEmpty([this.#dir], () => this.killAll());
  }
}

/**
 * The memory limit in bytes. The baseline is capped so that a runner that somehow grew large
 * before its function was loaded cannot lift the limit without bound.
 */
function limitBytes(limits: CgroupLimitSpec): number {
  const baseline = Math.min(Math.max(0, limits.baselineBytes ?? 0), MAX_BASELINE_BYTES);
  return (limits.memoryMB + RUNNER_MEMORY_OVERHEAD_MB) * 1024 * 1024 + baseline;
}

/** Cap on {@link CgroupLimitSpec.baselineBytes}: ≈2× an idle node runner's anonymous memory. */
const MAX_BASELINE_BYTES = 64 * 1024 * 1024;

/** Remove `nimbus-<pid>` cgroups left behind by servers that died without closing (best effort). */
function sweepStale(dir: string): void {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return;
  }
  for (const name of names) {
    const m = /^nimbus-(\d+)$/.exec(name);
    if (!m || existsSync(`/proc/${m[1]}`)) continue;
    const parent = join(dir, name);
    for (const child of readdirSync(parent, { withFileTypes: true })) {
      if (child.isDirectory()) {
        killPids(readPids(join(parent, child.name, 'cgroup.procs')));
        tryRmdir(join(parent, child.name));
      }
    }
    tryRmdir(parent);
  }
}

/** Read `name N` from a flat keyed cgroup file; 0 when absent. */
function counter(file: string, name: string): number {
  try {
    const m = new RegExp(`^${name} (\\d+)$`, 'm').exec(readFileSync(file, 'utf8'));
    return m ? Number(m[1]) : 0;
  } catch {
    return 0;
  }
}

function readPids(file: string): number[] {
  try {
    return readFileSync(file, 'utf8')
      .split('\n')
      .filter((l) => l !== '')
      .map(Number);
  } catch {
    return [];
  }
}

function killPids(pids: readonly number[]): void {
  for (const pid of pids) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // Already gone.
    }
  }
}

function tryWrite(file: string, value: string): boolean {
  try {
    writeFileSync(file, value);
    return true;
  } catch {
    return false;
  }
}

function tryRmdir(dir: string): boolean {
  try {
    rmdirSync(dir);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'ENOENT';
  }
}

/** rmdir fails with EBUSY while killed processes are still exiting; retry for up to ~2 s. */
async function removeWhenEmpty(dirs: readonly string[], kill: () => void): Promise<void> {
  let pending = [...dirs];
  for (let attempt = 0; attempt < 100 && pending.length > 0; attempt++) {
    if (attempt > 0) {
      kill();
      await new Promise((r) => setTimeout(r, Math.min(5 * attempt, 50)));
    }
    pending = pending.filter((d) => !tryRmdir(d));
  }
}
