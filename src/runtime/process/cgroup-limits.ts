// Per-instance memory and pids cgroups (v1 memory+pids hierarchies, or a delegated v2 subtree).

import { existsSync, mkdirSync, readdirSync, readFileSync, rmdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

/**
 * Memory granted on top of the function's `memory` setting. A pre-started runner is moved into
 * its cgroup after start, so its startup pages (≈35 MB RSS for node) stay charged to the parent
 * and only memory touched afterwards counts; the margin covers what the runtime itself allocates
 * later (JIT code, GC slack), so a 128 MB function gets its full 128 MB of data.
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
}

/** One instance's cgroup(s). */
export interface InstanceCgroup {
  /** Set the memory and pids limits (cheap: two writes). */
  setLimits(limits: CgroupLimitSpec): void;
  /** Move processes in (all threads of each). Throws if a write fails. */
  addProcesses(pids: readonly number[]): void;
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
   * process into a v1 memory cgroup was measured at 10–50 ms here (the kernel synchronises the
   * thread-group lock), so pre-started runners are created and moved in the background and the
   * cold-start path only writes the limits (≈0.1 ms).
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
    const bytes = String((limits.memoryMB + RUNNER_MEMORY_OVERHEAD_MB) * 1024 * 1024);
    writeFileSync(join(this.#mem, 'memory.limit_in_bytes'), bytes);
    // With swap, memsw must match or the instance would swap instead of hitting the limit.
    tryWrite(join(this.#mem, 'memory.memsw.limit_in_bytes'), bytes);
    writeFileSync(join(this.#pids, 'pids.max'), String(limits.maxProcesses + RUNNER_TASK_OVERHEAD));
  }
  addProcesses(pids: readonly number[]): void {
    // cgroup.procs moves every thread of the process; one write per pid per hierarchy (≈10 µs each).
    for (const pid of pids) {
      writeFileSync(join(this.#mem, 'cgroup.procs'), String(pid));
      writeFileSync(join(this.#pids, 'cgroup.procs'), String(pid));
    }
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
    writeFileSync(
      join(this.#dir, 'memory.max'),
      String((limits.memoryMB + RUNNER_MEMORY_OVERHEAD_MB) * 1024 * 1024),
    );
    tryWrite(join(this.#dir, 'memory.swap.max'), '0');
    writeFileSync(join(this.#dir, 'pids.max'), String(limits.maxProcesses + RUNNER_TASK_OVERHEAD));
  }
  addProcesses(pids: readonly number[]): void {
    for (const pid of pids) writeFileSync(join(this.#dir, 'cgroup.procs'), String(pid));
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
