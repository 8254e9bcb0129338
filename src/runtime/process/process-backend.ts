// The `process` tier: sandboxed runner processes from a pre-started pool per runtime, with cgroup limits.

import { existsSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { NimbusError } from '../../errors.js';
import { FUNCTION_DEFAULTS } from '../../functions/function-model.js';
import type { FunctionConfig, RuntimeName } from '../../functions/function-model.js';
import { lambdaEnvironment, logGroupName, newLogStreamName } from '../lambda-environment.js';
import type { FunctionInstance, InstanceSpec, RuntimeBackend } from '../runtime-backend.js';
import {
  binariesOutsideUsr,
  bwrapArgs,
  findExecutable,
  makeSandboxDir,
  SANDBOX_API_SOCKET,
  SANDBOX_PATH,
  SANDBOX_RUNTIME_DIR,
  SANDBOX_SHM_MAX_MB,
  SANDBOX_TASK_ROOT,
  SANDBOX_UID,
  SECCOMP_FD,
} from './bwrap-sandbox.js';
import { defaultCpus, detectCgroups, RUNNER_MEMORY_OVERHEAD_MB } from './cgroup-limits.js';
import type { CgroupManager } from './cgroup-limits.js';
import { discardLauncher, LauncherPool } from './launcher-pool.js';
import type { Launcher } from './launcher-pool.js';
import { ProcessInstance } from './process-instance.js';
import { RUNNER_COMMANDS, takesHeapFlag } from './runner-commands.js';
import { RunnerProcess } from './runner-process.js';
import { setUpSandbox } from './sandbox-setup.js';
import type { SandboxSetup } from './sandbox-setup.js';
import { createSlot, ownerDirName, populateSlot, removeSlot, removeStaleOwnerDirs } from './slot-dir.js';

/** Where the runner scripts live on the host (next to this file's parent in src/ and dist/). */
export const RUNNERS_DIR = resolve(dirname(fileURLToPath(import.meta.url)), '../runners');

/** Launchers kept parked in fresh cgroups (with cgroups only): one covers a cold start. */
const PARKED_LAUNCHERS = 1;

/** Pre-started runners kept idle per runtime by default. */
export const DEFAULT_PREWARM: Readonly<Record<RuntimeName, number>> = { nodejs: 2, python: 1, provided: 1 };

/** Logger the backends report through. */
export interface BackendLogger {
  warn(msg: string): void;
  info(msg: string): void;
}

/** Options of {@link ProcessBackend.create}. */
export interface ProcessBackendOptions {
  /**
   * The sandbox run directory: what sandboxes mount lives under it (this backend's slots, its
   * copy of the runner scripts, the seccomp program), in a subdirectory per backend that the
   * next start removes if its process is gone. The server passes a directory outside the data
   * dir (see src/server/data-dir.ts) so no data-dir path shows in a sandbox's mountinfo.
   */
  readonly workDir: string;
  /** `auto`: bwrap when usable; `required`: fail without it; `off`: never sandbox. */
  readonly sandbox: 'auto' | 'required' | 'off';
  /** Use this bwrap binary instead of looking it up on PATH (tests point it at a missing path). */
  readonly bwrapPath?: string | undefined;
  /** Idle pre-started runners per runtime; 0 disables. @default {@link DEFAULT_PREWARM} */
  readonly prewarm?: Partial<Record<RuntimeName, number>>;
  readonly logger?: BackendLogger;
  /** Host directory of the Nimbus API socket, shown to sandboxed functions (for the SDK). */
  readonly apiSocketDir?: string | undefined;
  /** Load the seccomp filter into sandboxes. @default true (false only for bench/sandbox-hardening.ts, which measures its cost) */
  readonly seccomp?: boolean | undefined;
  /**
   * `auto`: a cgroup per instance where writable; `off`: never (heap flag and RSS watchdog, no
   * CPU or pids limit), e.g. to test that path on a machine with cgroups. @default 'auto'
   */
  readonly cgroups?: 'auto' | 'off';
}

let nextRunnerId = 0;

/** The parts of a function's configuration a runner is started with. */
type RunnerShape = Pick<FunctionConfig, 'memory' | 'network' | 'tmpSize' | 'maxOpenFiles'>;

/** The `process` isolation tier. Create with {@link ProcessBackend.create}. */
export class ProcessBackend implements RuntimeBackend {
  readonly tier = 'process' as const;
  /** Whether runners run inside bubblewrap. */
  readonly sandboxed: boolean;
  /** How memory limits are enforced: a cgroup per instance, or heap flag plus RSS watchdog. */
  readonly memoryEnforcement: 'cgroup' | 'watchdog';
  readonly #options: ProcessBackendOptions;
  readonly #bwrap: SandboxSetup | undefined;
  /** This backend's directory under the run dir (slots, runner scripts, seccomp program). */
  readonly #ownDir: string;
  readonly #cgroups: CgroupManager | null;
  /** With cgroups: shells parked inside fresh cgroups, in which runners are started. */
  readonly #launchers: LauncherPool | undefined;
  readonly #prlimit: string | undefined;
  readonly #slotsDir: string;
  readonly #prewarm: Record<RuntimeName, number>;
  readonly #idle = new Map<string, RunnerProcess[]>();
  /** Pool keys kept pre-started (the default configuration of each runtime with a prewarm > 0). */
  readonly #prewarmKeys = new Map<string, RuntimeName>();
  readonly #starting = new Map<string, number>();
  /** Keys whose last pre-start failed: not refilled again until a spawn succeeds. */
  readonly #broken = new Set<string>();
  readonly #instances = new Set<ProcessInstance>();
  readonly #allRunners = new Set<RunnerProcess>();
  #closed = false;
  #closing: Promise<void> | undefined;

  /**
   * Whether the sandbox's uid maps to host root: the server is root and bwrap could only run as
   * root (`sandbox: auto` accepts that with a warning; `required` refuses to start).
   */
  readonly sandboxMapsToHostRoot: boolean;

  private constructor(
    options: ProcessBackendOptions,
    bwrap: SandboxSetup | undefined,
    cgroups: CgroupManager | null,
    ownDir: string,
  ) {
    this.#options = options;
    this.#bwrap = bwrap;
    this.sandboxed = bwrap !== undefined;
    this.sandboxMapsToHostRoot = bwrap !== undefined && !bwrap.runAsNobody && process.getuid?.() === 0;
    this.#ownDir = ownDir;
    this.#cgroups = cgroups;
    this.memoryEnforcement = cgroups ? 'cgroup' : 'watchdog';
    this.#prlimit = findExecutable('prlimit', ['/usr/bin', '/bin', '/usr/sbin', '/sbin']);
    this.#slotsDir = join(ownDir, 'slots');
    this.#prewarm = { ...DEFAULT_PREWARM, ...options.prewarm };
    this.#launchers = cgroups
      ? new LauncherPool(
          cgroups,
          {
            uid: bwrap?.runAsNobody ? SANDBOX_UID : undefined,
            env: runnerEnv(bwrap !== undefined),
            cwd: ownDir,
          },
          PARKED_LAUNCHERS,
        )
      : undefined;
  }

  /**
   * Probe bwrap and cgroups, then start the pre-warmed runners (without waiting for them).
   * Throws `SandboxUnavailableError` when `sandbox: 'required'` and bwrap is unusable.
   */
  static async create(options: ProcessBackendOptions): Promise<ProcessBackend> {
    makeSandboxDir(options.workDir);
    const stale = await removeStaleOwnerDirs(options.workDir);
    if (stale.length > 0) {
      options.logger?.info(`removed ${stale.length} sandbox director(ies) left by a stopped server`);
    }
    const ownDir = join(options.workDir, ownerDirName());
    const slotsDir = join(ownDir, 'slots');
    makeSandboxDir(ownDir);
    makeSandboxDir(slotsDir);
    let bwrap: SandboxSetup | undefined;
    try {
      bwrap = await setUpSandbox(options, { ownDir, slotsDir, runnersSource: RUNNERS_DIR });
    } catch (err) {
      await rm(ownDir, { recursive: true, force: true });
      throw err;
    }
    const cgroups = options.cgroups === 'off' ? null : detectCgroups();
    if (!cgroups) {
      options.logger?.info(
        'no writable cgroup: memory limits use a V8 heap flag and an RSS watchdog, no pids limit',
      );
    }
    const backend = new ProcessBackend(options, bwrap, cgroups, ownDir);
    backend.#launchers?.topUp();
    for (const runtime of Object.keys(backend.#prewarm) as RuntimeName[]) {
      if (!backend.supports(runtime) || (backend.#prewarm[runtime] ?? 0) <= 0) continue;
      const key = backend.#key(runtime, FUNCTION_DEFAULTS);
      backend.#prewarmKeys.set(key, runtime);
      backend.#refill(key);
    }
    return backend;
  }

  supports(runtime: RuntimeName): boolean {
    const script = RUNNER_COMMANDS[runtime]({ runnersDir: RUNNERS_DIR }).args.at(-1) as string;
    return existsSync(script);
  }

  liveInstances(): number {
    return this.#instances.size;
  }

  /** Idle pre-started runners (for tests and metrics). */
  idleRunners(): number {
    let n = 0;
    for (const list of this.#idle.values()) n += list.length;
    return n;
  }

  async spawn(spec: InstanceSpec): Promise<FunctionInstance> {
    if (this.#closed) throw new Error('process backend is closed');
    const { runtime } = spec.config;
    if (!this.supports(runtime)) {
      throw new NimbusError(
        'InvalidRuntimeException',
        `the ${runtime} runtime is not available on this node`,
      );
    }
    const key = this.#key(runtime, spec.config);
    let runner = this.#takeIdle(key);
    try {
      let slotFilled = false;
      if (runner === undefined) {
        // Empty pool: no warm-up (it would run between `ready` and `load`: measured +1.8 ms
        // p50 spawn→loaded, 38.6 vs 40.4 ms; it pays off only off the critical path, in
        // pre-started runners), and the code is linked into the slot while the runner boots.
        runner = await this.#startRunner(runtime, spec.config, { warmUp: false, codeDir: spec.codeDir });
        slotFilled = true;
        if (this.#closed) {
          await this.#discard(runner);
          throw new Error('process backend is closed');
        }
      }
      this.#broken.delete(key);
      return await this.#load(spec, runner, slotFilled);
    } finally {
      // After the load and the first invoke, so the refills' fork/exec (≈2 ms on this thread
      // each) and node start (≈30 ms of CPU) do not slow this cold start. A setImmediate fired
      // between sending the first invoke and reading its answer: deferring the refill cut the
      // pool cold start through the server from 12.5 to 7.8 ms p50 (bench/RESULTS.md).
      setTimeout(() => {
        if (!this.#closed) this.#launchers?.topUp();
        this.#refill(key);
      }, 10).unref();
    }
  }

  close(): Promise<void> {
    this.#closed = true;
    this.#closing ??= (async () => {
      const runners = [...this.#allRunners];
      this.#idle.clear();
      await Promise.all([...this.#instances].map((i) => i.dispose()));
      // Runners still starting are tracked in #allRunners too.
      await Promise.all(runners.map((r) => this.#discard(r)));
      while (this.#startingTotal() > 0) await new Promise((r) => setTimeout(r, 10));
      await Promise.all([...this.#allRunners].map((r) => this.#discard(r)));
      await this.#launchers?.close();
      await rm(this.#ownDir, { recursive: true, force: true });
      this.#cgroups?.close();
    })();
    return this.#closing;
  }

  /**
   * Pool key: what must be fixed when a runner starts. Network and /tmp size are bwrap mounts and
   * namespaces, set at start. RLIMIT_NOFILE too: `prlimit --pid` on a running sandbox needs
   * CAP_SYS_RESOURCE (containers usually drop it; it failed with EPERM here), whereas the
   * `prlimit --nofile=N -- bwrap ...` wrapper sets it on itself before exec (≈1 ms at start).
   * With cgroups a runner serves any memory size (the limit is set at load); without, node runners get `--max-old-space-size` at start (V8 cannot change it
   * later: `v8.setFlagsFromString` after startup was measured to have no effect), so node
   * runners are then per memory size too. Only the default configuration is pre-started;
   * others start on demand (the "empty pool" cold start).
   */
  #key(runtime: RuntimeName, c: RunnerShape): string {
    const heap = !this.#cgroups && takesHeapFlag(runtime) ? c.memory : '';
    const sandbox = this.#bwrap ? `${c.network ? 'net' : 'nonet'}:${c.tmpSize}` : '';
    return `${runtime}:${sandbox}:${c.maxOpenFiles}:${heap}`;
  }

  #takeIdle(key: string): RunnerProcess | undefined {
    const list = this.#idle.get(key);
    while (list && list.length > 0) {
      const runner = list.pop() as RunnerProcess;
      if (!runner.exited) return runner;
    }
    return undefined;
  }

  #startingTotal(): number {
    let n = 0;
    for (const v of this.#starting.values()) n += v;
    return n;
  }

  /** Top the idle pool of a pre-started `key` back up to its target, in the background. */
  #refill(key: string): void {
    const runtime = this.#prewarmKeys.get(key);
    if (runtime === undefined) return;
    const target = this.#prewarm[runtime] ?? 0;
    const have = (this.#idle.get(key)?.length ?? 0) + (this.#starting.get(key) ?? 0);
    for (let i = have; i < target && !this.#closed && !this.#broken.has(key); i++) {
      this.#starting.set(key, (this.#starting.get(key) ?? 0) + 1);
      this.#startRunner(runtime, FUNCTION_DEFAULTS, { warmUp: true })
        .then((runner) => {
          if (this.#closed) return this.#discard(runner);
          runner.handlers = {
            onFrame() {},
            onOutput: (chunk) =>
              this.#options.logger?.info(`[runner ${runner.id}] ${chunk.toString().trimEnd()}`),
            onExit: () => {
              const list = this.#idle.get(key);
              const at = list?.indexOf(runner) ?? -1;
              if (list && at >= 0) list.splice(at, 1);
              void this.#discard(runner);
            },
          };
          const list = this.#idle.get(key) ?? [];
          list.push(runner);
          this.#idle.set(key, list);
          return undefined;
        })
        .catch((err: unknown) => {
          if (!this.#closed) {
            // Stop refilling this key until a spawn succeeds, rather than crash-looping.

            this.#broken.add(key);
            this.#options.logger?.warn(`could not pre-start a ${runtime} runner: ${(err as Error).message}`);
          }
        })
        .finally(() => {
          this.#starting.set(key, (this.#starting.get(key) ?? 1) - 1);
          // The refill used a parked launcher: park the next one for an on-demand start.
          if (!this.#closed) this.#launchers?.topUp();
        });
    }
  }

  #slotDir(id: string): string {
    return join(this.#slotsDir, id);
  }

  /**
   * Start a generic runner and wait for `ready`. With cgroups it starts in a parked launcher,
   * so it is inside its own cgroup from birth. With `codeDir`, the slot is filled while the
   * runner boots (hard links: ≈10 µs a file, but a large node_modules is thousands).
   */
  async #startRunner(
    runtime: RuntimeName,
    shape: RunnerShape,
    opts: { readonly warmUp: boolean; readonly codeDir?: string },
  ): Promise<RunnerProcess> {
    const id = `${runtime}-${process.pid}-${++nextRunnerId}`;
    const slotDir = this.#slotDir(id);
    const runnersDir = this.#bwrap ? SANDBOX_RUNTIME_DIR : RUNNERS_DIR;
    const seccompFile = this.#bwrap?.seccompFile;
    const heapMB = !this.#cgroups && takesHeapFlag(runtime) ? shape.memory : undefined;
    const command = RUNNER_COMMANDS[runtime]({
      runnersDir,
      warmUp: opts.warmUp,
      ...(heapMB === undefined ? {} : { heapMB }),
    });
    const env = runnerEnv(this.#bwrap !== undefined);
    const bwrap = this.#bwrap && {
      path: this.#bwrap.path,
      fdFiles: seccompFile === undefined ? undefined : { [SECCOMP_FD]: seccompFile },
      args: bwrapArgs({
        slotDir,
        runnersDir: this.#bwrap.runnersDir,
        seccompFd: seccompFile === undefined ? undefined : SECCOMP_FD,
        tmpSizeMB: shape.tmpSize,
        network: shape.network,
        env,
        extraBinaries: binariesOutsideUsr([command.executable]),
        apiSocketDir: this.#options.apiSocketDir,
      }),
    };
    const codeDir = opts.codeDir;
    const slot = this.#bwrap
      ? createSlot(slotDir).then(() => (codeDir === undefined ? undefined : populateSlot(codeDir, slotDir)))
      : Promise.resolve();
    const [launched, slotted] = await Promise.allSettled([this.#launchers?.take(), slot]);
    let launcher: Launcher | undefined;
    try {
      if (launched.status === 'rejected') throw launched.reason;
      launcher = launched.value;
      if (slotted.status === 'rejected') throw slotted.reason;
      const runner = await RunnerProcess.start({
        id,
        command,
        bwrap,
        uid: this.#bwrap?.runAsNobody ? SANDBOX_UID : undefined,
        env,
        cwd: this.#ownDir,
        prlimit: this.#prlimit ? { path: this.#prlimit, nofile: shape.maxOpenFiles } : undefined,
        launcher: launcher && { child: launcher.child, nofile: shape.maxOpenFiles },
      });
      runner.cgroup = launcher?.cgroup;
      this.#allRunners.add(runner);
      return runner;
    } catch (err) {
      // RunnerProcess.start killed the process on failure; this also removes the cgroup.
      if (launcher) await discardLauncher(launcher);
      await removeSlot(slotDir);
      throw err;
    }
  }

  async #discard(runner: RunnerProcess): Promise<void> {
    runner.kill();
    runner.cgroup?.killAll();
    await runner.closed;
    this.#allRunners.delete(runner);
    await runner.cgroup?.remove();
    await removeSlot(this.#slotDir(runner.id));
  }

  /** Give `runner` its function: slot files (unless `slotFilled`), cgroup limits, then `load`. */
  async #load(spec: InstanceSpec, runner: RunnerProcess, slotFilled: boolean): Promise<ProcessInstance> {
    const c = spec.config;
    const slotDir = this.#slotDir(runner.id);
    const instance: ProcessInstance = new ProcessInstance(spec, runner, {
      cgroup: runner.cgroup,
      watchdogLimitBytes: this.#cgroups ? undefined : (c.memory + RUNNER_MEMORY_OVERHEAD_MB) * 1024 * 1024,
      release: async () => {
        this.#instances.delete(instance);
        this.#allRunners.delete(runner);
        if (this.#bwrap) await removeSlot(slotDir);
      },
    });
    this.#instances.add(instance);
    try {
      // Limits before any user code runs: the runner has only its generic code loaded so far.
      // It started inside its cgroup, so what it holds now is the runner's, not the function's.
      const cgroup = runner.cgroup;
      cgroup?.setLimits({
        memoryMB: c.memory,
        maxProcesses: c.maxProcesses,
        baselineBytes: cgroup.anonBytes(),
        // tmpfs pages are charged to the cgroup: room for a full /tmp and /dev/shm on top, so
        // filling them is ENOSPC, not an OOM kill (the function's own memory is still `memory`).
        tmpfsMB: this.#bwrap ? c.tmpSize + Math.min(c.tmpSize, SANDBOX_SHM_MAX_MB) : 0,
        cpus: defaultCpus(c.memory),
      });
      if (this.#bwrap && !slotFilled) await populateSlot(spec.codeDir, slotDir);
      const taskRoot = this.#bwrap ? SANDBOX_TASK_ROOT : spec.codeDir;
      const logStreamName = newLogStreamName(spec.version);
      await instance.load({
        t: 'load',
        handler: c.handler,
        taskRoot,
        functionName: spec.functionName,
        functionVersion: spec.version,
        memoryMB: c.memory,
        invokedFunctionArn: spec.invokedFunctionArn,
        region: spec.region,
        logGroupName: logGroupName(spec.functionName),
        logStreamName,
        env: lambdaEnvironment(spec, {
          taskRoot,
          runtimeDir: this.#bwrap ? SANDBOX_RUNTIME_DIR : RUNNERS_DIR,
          logStreamName,
          path: this.#bwrap ? SANDBOX_PATH : '/usr/local/bin:/usr/bin:/bin',
          apiSocket: this.#bwrap ? SANDBOX_API_SOCKET : undefined,
        }),
      });
    } catch (err) {
      await instance.dispose();
      throw err;
    }
    return instance;
  }
}

/** The environment runners (and launchers) start with; bwrap passes it on with --setenv. */
function runnerEnv(sandboxed: boolean): Record<string, string> {
  return { PATH: sandboxed ? SANDBOX_PATH : '/usr/local/bin:/usr/bin:/bin', TZ: 'UTC', LANG: 'C.UTF-8' };
}
