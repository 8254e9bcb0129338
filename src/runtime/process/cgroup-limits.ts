// Per-instance memory, pids and CPU cgroups (v1 memory+pids(+cpu) hierarchies, or a delegated v2 subtree).

import {
  closeSync,
  existsSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  readSync,
  rmdirSync,
  writeFileSync,
} from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
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

/**
 * Memory per vCPU of CPU bandwidth: Lambda gives one full vCPU at 1769 MB and CPU in proportion
 * to memory below and above that.
 */
export const MB_PER_VCPU = 1769;

/**
 * The least CPU bandwidth an instance gets, in CPUs. Why not Lambda's 128/1769 ≈ 0.07 vCPU: a
 * CFS quota that small throttles a runner's own work (node import of a handler ≈5 ms of CPU took
 * 70 ms of wall time at 7 %), and warm invocations back to back need ≈10–20 % of a core for the
 * runner alone on this 2-vCPU VM; half a core keeps both unthrottled while still bounding what a
 * spinning function (and every process it starts) can take from the node.
 */
export const MIN_CPUS = 0.5;

/** CFS period for the CPU limit (the kernel default; the quota is this times the CPUs). */
export const CPU_PERIOD_US = 100_000;

/**
 * The CPU bandwidth of an instance with `memoryMB` of memory: proportional to memory as on Lambda
 * ({@link MB_PER_VCPU}), at least {@link MIN_CPUS}, at most the host's CPUs (then unlimited).
 */
export function defaultCpus(memoryMB: number, hostCpus = availableParallelism()): number {
  return Math.min(hostCpus, Math.max(MIN_CPUS, memoryMB / MB_PER_VCPU));
}

/** Limits for one instance. */
export interface CgroupLimitSpec {
  readonly memoryMB: number;
  readonly maxProcesses: number;
  /**
   * tmpfs space inside the sandbox (/tmp and /dev/shm together), in MB. tmpfs pages are charged
   * to the memory cgroup of whoever writes them, so the hard limit is raised by this much: a full
   * /tmp then answers ENOSPC (the tmpfs size) instead of an OOM kill. The function's own memory
   * stays at `memoryMB` through {@link anonLimitBytes}, watched by the backend. @default 0
   */
  readonly tmpfsMB?: number;
  /** CPU bandwidth in CPUs (cgroup v2 `cpu.max`, v1 CFS quota); undefined or ≥ host CPUs: none. */
  readonly cpus?: number | undefined;
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
  /** Set the memory, pids and CPU limits (cheap: a few writes). */
  setLimits(limits: CgroupLimitSpec): void;
  /** The CPU limit in force, as `{ quotaUs, periodUs }` (quotaUs -1: none), or undefined without a CPU controller. */
  cpuLimit(): { quotaUs: number; periodUs: number } | undefined;
  /**
   * {@link anonLimitBytes} of the last limits set, when the hard limit is higher (tmpfs room):
   * the backend then watches {@link anonBytes} against it. Undefined otherwise.
   */
  anonLimit(): number | undefined;
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
  /** Pids currently inside (the memory hierarchy, or the only one); a ≈10 µs file read. */
  pids(): number[];
  /**
   * Tasks (threads) inside, from `pids.current` through a file descriptor kept open and re-read
   * at offset 0 (≈1.7 µs, against ≈12 µs to open and read `cgroup.procs`); -1 when unknown.
   */
  taskCount(): number;
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
  // The cpu hierarchy is optional: without it there is no CPU limit, only the timeout.
  let cpuParent: string | undefined;
  const cpuOwn = ownPath('cpu');
  if (cpuOwn !== undefined && existsSync(join(root, 'cpu', cpuOwn, 'cpu.cfs_quota_us'))) {
    cpuParent = join(root, 'cpu', cpuOwn, `nimbus-${process.pid}`);
    try {
      sweepStale(dirname(cpuParent));
      mkdirSync(cpuParent, { recursive: true });
    } catch {
      cpuParent = undefined;
    }
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
      let cpu: string | undefined = cpuParent && join(cpuParent, id);
      try {
        if (cpu !== undefined) mkdirSync(cpu);
      } catch {
        cpu = undefined;
      }
      return new V1Cgroup(mem, pids, cpu);
    },
    close() {
      tryRmdir(memParent);
      tryRmdir(pidsParent);
      if (cpuParent !== undefined) tryRmdir(cpuParent);
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
  // Optional: without the cpu controller delegated there is no CPU limit, only the timeout.
  if (tryWrite(join(ownDir, 'cgroup.subtree_control'), '+cpu')) {
    tryWrite(join(parent, 'cgroup.subtree_control'), '+cpu');
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
  readonly #cpu: string | undefined;
  #anonLimit: number | undefined;
  constructor(mem: string, pids: string, cpu: string | undefined) {
    this.#mem = mem;
    this.#pids = pids;
    this.#cpu = cpu;
  }
  setLimits(limits: CgroupLimitSpec): void {
    const bytes = String(limitBytes(limits));
    writeFileSync(join(this.#mem, 'memory.limit_in_bytes'), bytes);
    this.#anonLimit = watchedAnonLimit(limits);
    // With swap, memsw must match or the instance would swap instead of hitting the limit.
    tryWrite(join(this.#mem, 'memory.memsw.limit_in_bytes'), bytes);
    writeFileSync(join(this.#pids, 'pids.max'), String(limits.maxProcesses + RUNNER_TASK_OVERHEAD));
    if (this.#cpu !== undefined) {
      tryWrite(join(this.#cpu, 'cpu.cfs_period_us'), String(CPU_PERIOD_US));
      tryWrite(join(this.#cpu, 'cpu.cfs_quota_us'), String(quotaUs(limits.cpus)));
    }
  }
  cpuLimit(): { quotaUs: number; periodUs: number } | undefined {
    if (this.#cpu === undefined) return undefined;
    try {
      return {
        quotaUs: Number(readFileSync(join(this.#cpu, 'cpu.cfs_quota_us'), 'utf8')),
        periodUs: Number(readFileSync(join(this.#cpu, 'cpu.cfs_period_us'), 'utf8')),
      };
    } catch {
      return undefined;
    }
  }
  anonLimit(): number | undefined {
    return this.#anonLimit;
  }
  async adopt(pid: number): Promise<void> {
    // cgroup.procs moves every thread of the process. The first write pays the grace period,
    // the second is then ≈0.1 ms.
    await writeFile(join(this.#mem, 'cgroup.procs'), String(pid));
    await writeFile(join(this.#pids, 'cgroup.procs'), String(pid));
    if (this.#cpu !== undefined) await writeFile(join(this.#cpu, 'cgroup.procs'), String(pid));
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
  readonly #tasks = new CounterFile();
  taskCount(): number {
    return this.#tasks.read(join(this.#pids, 'pids.current'));
  }
  killAll(): void {
    killPids([...readPids(join(this.#mem, 'cgroup.procs')), ...readPids(join(this.#pids, 'cgroup.procs'))]);
  }
  async remove(): Promise<void> {
    this.#tasks.close();
    const dirs = this.#cpu === undefined ? [this.#mem, this.#pids] : [this.#mem, this.#pids, this.#cpu];
    await removeWhenEmpty(dirs, () => this.killAll());
  }
}

class V2Cgroup implements InstanceCgroup {
  readonly #dir: string;
  #anonLimit: number | undefined;
  constructor(dir: string) {
    this.#dir = dir;
  }
  setLimits(limits: CgroupLimitSpec): void {
    writeFileSync(join(this.#dir, 'memory.max'), String(limitBytes(limits)));
    this.#anonLimit = watchedAnonLimit(limits);
    tryWrite(join(this.#dir, 'memory.swap.max'), '0');
    writeFileSync(join(this.#dir, 'pids.max'), String(limits.maxProcesses + RUNNER_TASK_OVERHEAD));
    const quota = quotaUs(limits.cpus);
    tryWrite(join(this.#dir, 'cpu.max'), `${quota < 0 ? 'max' : quota} ${CPU_PERIOD_US}`);
  }
  cpuLimit(): { quotaUs: number; periodUs: number } | undefined {
    try {
      const [quota, period] = readFileSync(join(this.#dir, 'cpu.max'), 'utf8').trim().split(' ');
      return { quotaUs: quota === 'max' ? -1 : Number(quota), periodUs: Number(period) };
    } catch {
      return undefined;
    }
  }
  anonLimit(): number | undefined {
    return this.#anonLimit;
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
  readonly #tasks = new CounterFile();
  taskCount(): number {
    return this.#tasks.read(join(this.#dir, 'pids.current'));
  }
  killAll(): void {
    if (!tryWrite(join(this.#dir, 'cgroup.kill'), '1')) killPids(this.pids());
  }
  async remove(): Promise<void> {
    this.#tasks.close();
    await removeWhenEmpty([this.#dir], () => this.killAll());
  }
}

/**
 * The limit on the instance's own (anonymous) memory in bytes: the function's memory, the
 * runner's margin and baseline. The baseline is capped so that a runner that somehow grew large
 * before its function was loaded cannot lift the limit without bound.
 */
export function anonLimitBytes(limits: CgroupLimitSpec): number {
  const baseline = Math.min(Math.max(0, limits.baselineBytes ?? 0), MAX_BASELINE_BYTES);
  return (limits.memoryMB + RUNNER_MEMORY_OVERHEAD_MB) * 1024 * 1024 + baseline;
}

/** {@link anonLimitBytes} when tmpfs room lifts the hard limit above it, else undefined. */
function watchedAnonLimit(limits: CgroupLimitSpec): number | undefined {
  return (limits.tmpfsMB ?? 0) > 0 ? anonLimitBytes(limits) : undefined;
}

/** The cgroup's hard memory limit: {@link anonLimitBytes} plus the tmpfs space it may fill. */
function limitBytes(limits: CgroupLimitSpec): number {
  return anonLimitBytes(limits) + Math.max(0, limits.tmpfsMB ?? 0) * 1024 * 1024;
}

/** CFS quota in µs per {@link CPU_PERIOD_US} for `cpus`; -1 (no limit) when unset or ≥ the host's CPUs. */
function quotaUs(cpus: number | undefined): number {
  if (cpus === undefined || !(cpus > 0) || cpus >= availableParallelism()) return -1;
  // The kernel refuses quotas under 1 ms.
  return Math.max(1000, Math.round(cpus * CPU_PERIOD_US));
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

/**
 * One number from a cgroup file read through a descriptor opened once and re-read at offset 0:
 * `pids.current` is regenerated on every read from 0 (checked on this kernel, v1 pids hierarchy).
 */
class CounterFile {
  #fd: number | undefined;
  #failed = false;
  readonly #buf = Buffer.alloc(32);
  /** The number, or -1 when the file cannot be read. */
  read(path: string): number {
    if (this.#failed) return -1;
    try {
      this.#fd ??= openSync(path, 'r');
      const n = Number(this.#buf.toString('latin1', 0, readSync(this.#fd, this.#buf, 0, 32, 0)).trim());
      return Number.isInteger(n) && n >= 0 ? n : -1;
    } catch {
      this.#failed = true;
      this.close();
      return -1;
    }
  }
  close(): void {
    if (this.#fd !== undefined) closeSync(this.#fd);
    this.#fd = undefined;
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
