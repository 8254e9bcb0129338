// A FunctionInstance backed by one runner process: load, invoke with a host-side timeout, bounded output, leftover kill, crash and OOM reporting.

import { FunctionInitError } from '../runtime-backend.js';
import type {
  FunctionInstance,
  InstanceInvokeRequest,
  InstanceInvokeResult,
  InstanceSpec,
  LambdaError,
} from '../runtime-backend.js';
import type { Frame, LoadMessage } from '../frame-protocol.js';
import type { InstanceCgroup } from './cgroup-limits.js';
import { LeftoverReaper } from './leftover-reaper.js';
import { MAX_IDLE_LOG_BYTES, MAX_LOG_BYTES, OutputBudget } from './output-budget.js';
import { RssWatchdog } from './rss-watchdog.js';
import type { RunnerProcess } from './runner-process.js';

/** Lambda's init phase limit. */
const INIT_TIMEOUT_MS = 10_000;

/** Go-style signal descriptions, as Lambda prints them ("signal: killed"). */
const SIGNAL_TEXT: Partial<Record<NodeJS.Signals, string>> = {
  SIGKILL: 'killed',
  SIGSEGV: 'segmentation fault',
  SIGABRT: 'aborted',
  SIGTERM: 'terminated',
  SIGBUS: 'bus error',
  SIGILL: 'illegal instruction',
  SIGFPE: 'floating point exception',
};
const SIGNAL_BY_NUMBER: Record<number, NodeJS.Signals> = {
  4: 'SIGILL',
  6: 'SIGABRT',
  7: 'SIGBUS',
  8: 'SIGFPE',
  9: 'SIGKILL',
  11: 'SIGSEGV',
  15: 'SIGTERM',
};

/** What an instance needs from its backend. */
export interface ProcessInstanceDeps {
  readonly cgroup?: InstanceCgroup | undefined;
  /** Memory limit for the RSS watchdog when there is no cgroup, in bytes. */
  readonly watchdogLimitBytes?: number | undefined;
  /** Frees backend-side resources (slot dir, bookkeeping) after the process is gone. */
  readonly release: () => Promise<void>;
}

type State = 'loading' | 'idle' | 'busy' | 'dead';

interface Pending {
  readonly requestId: string;
  readonly resolve: (r: InstanceInvokeResult) => void;
  readonly timer: NodeJS.Timeout;
  readonly output: OutputBudget;
}

/** One loaded function in one runner process; one invocation at a time. */
export class ProcessInstance implements FunctionInstance {
  readonly id: string;
  readonly spec: InstanceSpec;
  initDurationMs = 0;
  readonly #runner: RunnerProcess;
  readonly #deps: ProcessInstanceDeps;
  #watchdog: RssWatchdog | undefined;
  readonly #reaper: LeftoverReaper;
  /**
   * Whether processes are killed when a load or invocation ends. Not for `provided`: its
   * bootstrap is the runtime and legitimately starts processes between invocations (a shell
   * bootstrap runs `curl .../next` after each response), which cannot be told apart from
   * leftovers; there they die with the instance, and the CPU limit bounds them meanwhile.
   */
  get #reapsLeftovers(): boolean {
    return this.spec.config.runtime !== 'provided';
  }
  #state: State = 'loading';
  #pending: Pending | undefined;
  /** Output outside an invocation: of the load while loading, then late output while idle. */
  #idleOutput = new OutputBudget(MAX_LOG_BYTES);
  #memoryBreached = false;
  #disposed: Promise<void> | undefined;
  #onLoadExit: ((code: number | null, signal: NodeJS.Signals | null) => void) | undefined;

  constructor(spec: InstanceSpec, runner: RunnerProcess, deps: ProcessInstanceDeps) {
    this.id = runner.id;
    this.spec = spec;
    this.#runner = runner;
    this.#deps = deps;
    if (deps.watchdogLimitBytes !== undefined) {
      this.#watchdog = new RssWatchdog({
        rootPid: runner.pid,
        limitBytes: deps.watchdogLimitBytes,
        onBreach: () => this.#onMemoryBreach(),
      });
    }
    this.#reaper = new LeftoverReaper({
      rootPid: runner.pid,
      cgroup: deps.cgroup,
      sandboxed: runner.sandboxed,
      isIdle: () => this.#state === 'idle',
    });
    runner.handlers = {
      onFrame: (frame) => this.#onFrame(frame),
      onOutput: (chunk, fd) => (this.#pending?.output ?? this.#idleOutput).appendBytes(fd, chunk),
      onExit: (code, signal) => this.#onExit(code, signal),
    };
  }

  get alive(): boolean {
    return this.#state === 'idle' || this.#state === 'busy';
  }

  /** Send `load` and wait for the outcome. Rejects with {@link FunctionInitError}. */
  load(message: LoadMessage): Promise<void> {
    const started = performance.now();
    // The cgroup's limits are set by now. When its hard limit also covers tmpfs pages, the
    // function's own (anonymous) memory is held at its setting by polling the cgroup's counter.
    const { cgroup } = this.#deps;
    const anonLimit = cgroup?.anonLimit();
    if (this.#watchdog === undefined && cgroup !== undefined && anonLimit !== undefined) {
      this.#watchdog = new RssWatchdog({
        rootPid: this.#runner.pid,
        limitBytes: anonLimit,
        measure: () => cgroup.anonBytes(),
        onBreach: () => this.#onMemoryBreach(),
      });
    }
    return new Promise<void>((resolve, reject) => {
      const fail = (error: LambdaError, logs: string): void => {
        clearTimeout(timer);
        this.#state = 'dead';
        reject(new FunctionInitError(error, logs));
      };
      const timer = setTimeout(() => {
        this.#kill();
        fail(
          {
            errorType: 'Sandbox.Timedout',
            errorMessage: `Init timed out after ${(INIT_TIMEOUT_MS / 1000).toFixed(2)} seconds`,
          },
          this.#takeIdleLog(),
        );
      }, INIT_TIMEOUT_MS);
      timer.unref();
      this.#onLoadFrame = (frame) => {
        const h = frame.header;
        if (h.t === 'loaded') {
          clearTimeout(timer);
          this.initDurationMs = typeof h.initMs === 'number' ? h.initMs : performance.now() - started;
          if (this.#reapsLeftovers) this.#reaper.reap();
          this.#state = 'idle';
          resolve();
        } else if (h.t === 'load-error') {
          this.#kill();
          this.#idleOutput.appendText(typeof h.logs === 'string' ? h.logs : '');
          fail(h.error, this.#takeIdleLog());
        }
      };
      this.#onLoadExit = (code, signal) => {
        const logs = this.#takeIdleLog();
        fail(this.#exitError(undefined, code, signal, logs), logs);
      };
      // Before any function code runs, the processes alive are the runner's own.
      if (this.#reapsLeftovers) this.#reaper.keepCurrent();
      this.#watchdog?.start();
      this.#runner.send(message);
    }).finally(() => {
      this.#watchdog?.stop();
      this.#onLoadFrame = undefined;
      this.#onLoadExit = undefined;
    });
  }

  #onLoadFrame: ((frame: Frame) => void) | undefined;

  invoke(req: InstanceInvokeRequest): Promise<InstanceInvokeResult> {
    if (this.#state !== 'idle') {
      return Promise.reject(
        new Error(`instance ${this.id} is ${this.#state === 'busy' ? 'busy' : 'not alive'}`),
      );
    }
    this.#state = 'busy';
    return new Promise((resolve) => {
      const timer = setTimeout(() => this.#onTimeout(), Math.max(0, req.deadlineMs - Date.now()));
      const output = new OutputBudget(MAX_LOG_BYTES);
      // Init output and late output of the previous invocation belong to this one's logs.
      this.#idleOutput.moveTo(output);
      this.#idleOutput = new OutputBudget(MAX_IDLE_LOG_BYTES);
      this.#pending = { requestId: req.requestId, resolve, timer, output };
      this.#watchdog?.start();
      this.#runner.send(
        {
          t: 'invoke',
          id: req.requestId,
          deadlineMs: req.deadlineMs,
          ...(req.clientContext === undefined ? {} : { clientContext: req.clientContext }),
          ...(req.traceId === undefined ? {} : { traceId: req.traceId }),
        },
        req.payload,
      );
    });
  }

  dispose(): Promise<void> {
    this.#disposed ??= (async () => {
      if (this.#state !== 'dead') this.#state = 'dead';
      this.#reaper.close();
      this.#kill();
      await this.#runner.closed;
      this.#watchdog?.stop();
      await this.#deps.cgroup?.remove();
      await this.#deps.release();
    })();
    return this.#disposed;
  }

  #onFrame(frame: Frame): void {
    const h = frame.header;
    if (h.t === 'log') {
      (this.#pending?.output ?? this.#idleOutput).appendText(typeof h.data === 'string' ? h.data : '');
      return;
    }
    if (this.#onLoadFrame) {
      this.#onLoadFrame(frame);
      return;
    }
    const p = this.#pending;
    if (h.t !== 'result' || p === undefined || h.id !== p.requestId) return;
    this.#settle();
    // Before the answer: nothing the invocation started survives it (see leftover-reaper.ts).
    if (this.#reapsLeftovers) this.#reaper.reap();
    p.output.appendText(typeof h.logs === 'string' ? h.logs : '');
    if (typeof h.droppedBytes === 'number') p.output.addDropped(h.droppedBytes);
    const { text: logs, dropped: droppedOutputBytes } = p.output.take();
    const maxMemoryUsedMB = this.#memoryUsedMB(h.maxRssMB);
    this.#state = 'idle';
    if (h.ok) {
      p.resolve({ ok: true, payload: frame.body, logs, maxMemoryUsedMB, reusable: true, droppedOutputBytes });
    } else {
      const error = h.error ?? {
        errorType: 'Runtime.Unknown',
        errorMessage: 'runner reported an error without details',
      };
      // Other runners report a runtime that exits mid-invocation as a result, then exit.
      const reusable = error.errorType !== 'Runtime.ExitError';
      p.resolve({ ok: false, error, logs, maxMemoryUsedMB, reusable, droppedOutputBytes });
    }
  }

  #onTimeout(): void {
    const p = this.#pending;
    if (!p) return;
    this.#settle();
    this.#state = 'dead';
    this.#kill();
    const seconds = this.spec.config.timeout.toFixed(2);
    const output = p.output.take();
    p.resolve({
      ok: false,
      error: { errorType: 'Sandbox.Timedout', errorMessage: `Task timed out after ${seconds} seconds` },
      logs: `${output.text}${new Date().toISOString()} ${p.requestId} Task timed out after ${seconds} seconds\n`,
      maxMemoryUsedMB: this.#memoryUsedMB(undefined),
      reusable: false,
      droppedOutputBytes: output.dropped,
    });
  }

  #onExit(code: number | null, signal: NodeJS.Signals | null): void {
    this.#state = 'dead';
    // Whatever happened, the process is gone: free the cgroup and slot now (dispose is idempotent).
    void this.dispose();
    if (this.#onLoadExit) {
      this.#onLoadExit(code, signal);
      return;
    }
    const p = this.#pending;
    if (p) {
      this.#settle();
      const output = p.output.take();
      const error = this.#exitError(p.requestId, code, signal, output.text);
      const oom = error.errorType === 'Runtime.OutOfMemory';
      p.resolve({
        ok: false,
        error,
        logs: `${output.text}RequestId: ${p.requestId} Error: ${error.errorMessage.replace(/^RequestId: \S+ Error: /, '')}\n`,
        maxMemoryUsedMB: oom ? this.spec.config.memory : this.#memoryUsedMB(undefined),
        reusable: false,
        droppedOutputBytes: output.dropped,
      });
    }
  }

  /** Lambda's error for a runtime that exited, with the OOM cases told apart. */
  #exitError(
    requestId: string | undefined,
    code: number | null,
    signal: NodeJS.Signals | null,
    output: string,
  ): LambdaError {
    const prefix = requestId === undefined ? '' : `RequestId: ${requestId} Error: `;
    let sig = signal;
    // bwrap reports a signalled child as exit status 128 + n.
    if (sig === null && code !== null && code > 128 && SIGNAL_BY_NUMBER[code - 128])
      sig = SIGNAL_BY_NUMBER[code - 128] ?? null;
    // V8 aborts (SIGABRT) at its heap limit, the case without cgroups where the heap flag is set.
    const heapOom = output.includes('JavaScript heap out of memory');
    if (this.#memoryBreached || heapOom || this.#deps.cgroup?.oomKilled()) {
      return {
        errorType: 'Runtime.OutOfMemory',
        errorMessage: `${prefix}Runtime exited with error: signal: killed`,
      };
    }
    let reason: string;
    if (sig !== null) reason = `Runtime exited with error: signal: ${SIGNAL_TEXT[sig] ?? sig}`;
    else if (code === 0) reason = 'Runtime exited without providing a reason';
    else reason = `Runtime exited with error: exit status ${code}`;
    return { errorType: 'Runtime.ExitError', errorMessage: prefix + reason };
  }

  #settle(): void {
    if (this.#pending) clearTimeout(this.#pending.timer);
    this.#pending = undefined;
    this.#watchdog?.stop();
  }

  #onMemoryBreach(): void {
    this.#memoryBreached = true;
    this.#kill();
  }

  #kill(): void {
    // Without a cgroup, what the runner started may have left its process group.
    if (!this.#deps.cgroup) this.#reaper.killAll();
    this.#runner.kill();
    this.#deps.cgroup?.killAll();
  }

  #takeIdleLog(): string {
    return this.#idleOutput.take().text;
  }

  #memoryUsedMB(reportedMB: number | undefined): number {
    const watched = (this.#watchdog?.peakBytes ?? 0) / (1024 * 1024);
    return Math.ceil(Math.max(reportedMB ?? 0, watched));
  }
}
