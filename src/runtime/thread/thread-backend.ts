// The `thread` tier: trusted Node.js functions in pre-started worker_threads, no sandbox.

import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { FUNCTION_DEFAULTS } from '../../functions/function-model.js';
import type { RuntimeName } from '../../functions/function-model.js';
import { lambdaEnvironment, logGroupName, newLogStreamName } from '../lambda-environment.js';
import { FunctionInitError } from '../runtime-backend.js';
import type {
  FunctionInstance,
  InstanceInvokeRequest,
  InstanceInvokeResult,
  InstanceSpec,
  LambdaError,
  RuntimeBackend,
} from '../runtime-backend.js';

const RUNNERS_DIR = resolve(dirname(fileURLToPath(import.meta.url)), '../runners');
const WORKER_ENTRY = resolve(RUNNERS_DIR, 'thread-worker.mjs');
const INIT_TIMEOUT_MS = 10_000;
/** What a worker starts with: not the server's environment (which may hold secrets). */
const BASE_ENV = { PATH: '/usr/local/bin:/usr/bin:/bin', LANG: 'C.UTF-8' };

/** Options of {@link ThreadBackend}. */
export interface ThreadBackendOptions {
  /** Idle pre-started workers (for the default memory size); 0 disables. @default 2 */
  readonly prewarm?: number;
}

/** Messages a worker posts (see src/runtime/runners/thread-worker.mjs). */
type WorkerMessage =
  | { t: 'ready' }
  | { t: 'log'; data: string }
  | { t: 'loaded'; initMs: number }
  | { t: 'load-error'; error: LambdaError; logs: string }
  | { t: 'result'; id: string; ok: true; body: string; logs: string; maxRssMB: number }
  | { t: 'result'; id: string; ok: false; error: LambdaError; logs: string; maxRssMB: number };

/**
 * Start a worker and wait for `ready`. `resourceLimits` is fixed at construction (V8 cannot
 * change a heap limit later), which is why the pool is per memory size.
 */
function startWorker(memoryMB: number): Promise<Worker> {
  const worker = new Worker(WORKER_ENTRY, {
    env: { ...BASE_ENV },
    // Not the server's flags: under tsx they would load the TS loader into every worker.
    execArgv: [],
    resourceLimits: {
      maxOldGenerationSizeMb: memoryMB,
      maxYoungGenerationSizeMb: Math.min(16, Math.max(4, memoryMB / 16)),
    },
    stdout: false,
    stderr: false,
  });
  return new Promise((resolvePromise, reject) => {
    const onMessage = (m: WorkerMessage): void => {
      if (m.t !== 'ready') return;
      worker.off('message', onMessage);
      worker.off('error', reject);
      resolvePromise(worker);
    };
    worker.on('message', onMessage);
    worker.once('error', reject);
  });
}

/** The `thread` isolation tier: fast and dense, for trusted code only (no filesystem or env isolation). */
export class ThreadBackend implements RuntimeBackend {
  readonly tier = 'thread' as const;
  /** Never sandboxed: workers share the server's process. */
  readonly sandboxed = false;
  readonly #prewarm: number;
  readonly #idle: Worker[] = [];
  #starting = 0;
  readonly #instances = new Set<ThreadInstance>();
  #closed = false;

  constructor(options: ThreadBackendOptions = {}) {
    this.#prewarm = options.prewarm ?? 2;
    this.#refill();
  }

  supports(runtime: RuntimeName): boolean {
    return runtime === 'nodejs';
  }

  liveInstances(): number {
    return this.#instances.size;
  }

  async spawn(spec: InstanceSpec): Promise<FunctionInstance> {
    if (this.#closed) throw new Error('thread backend is closed');
    if (!this.supports(spec.config.runtime)) {
      throw new Error(`the thread tier runs only nodejs, not ${spec.config.runtime}; use isolation: process`);
    }
    const pooled = spec.config.memory === FUNCTION_DEFAULTS.memory ? this.#idle.pop() : undefined;
    const worker = pooled ?? (await startWorker(spec.config.memory));
    setImmediate(() => this.#refill());
    const instance = new ThreadInstance(spec, worker, () => this.#instances.delete(instance));
    this.#instances.add(instance);
    if (this.#closed) {
      await instance.dispose();
      throw new Error('thread backend is closed');
    }
    try {
      await instance.load();
    } catch (err) {
      await instance.dispose();
      throw err;
    }
    return instance;
  }

  async close(): Promise<void> {
    this.#closed = true;
    await Promise.all([...this.#instances].map((i) => i.dispose()));
    while (this.#starting > 0) await new Promise((r) => setTimeout(r, 5));
    await Promise.all(this.#idle.splice(0).map((w) => w.terminate()));
  }

  #refill(): void {
    while (!this.#closed && this.#idle.length + this.#starting < this.#prewarm) {
      this.#starting++;
      startWorker(FUNCTION_DEFAULTS.memory)
        .then(async (worker) => {
          if (this.#closed) await worker.terminate();
          else {
            worker.once('exit', () => {
              const at = this.#idle.indexOf(worker);
              if (at >= 0) this.#idle.splice(at, 1);
            });
            this.#idle.push(worker);
          }
        })
        .catch(() => {})
        .finally(() => this.#starting--);
    }
  }
}

interface Pending {
  readonly requestId: string;
  readonly resolve: (r: InstanceInvokeResult) => void;
  readonly timer: NodeJS.Timeout;
}

/** One function loaded in one worker thread. */
class ThreadInstance implements FunctionInstance {
  readonly id: string;
  readonly spec: InstanceSpec;
  initDurationMs = 0;
  readonly #worker: Worker;
  readonly #release: () => void;
  #state: 'loading' | 'idle' | 'busy' | 'dead' = 'loading';
  #pending: Pending | undefined;
  #idleLog = '';
  #lastError: Error | undefined;
  #onLoad: ((m: WorkerMessage) => void) | undefined;
  #onLoadExit: ((code: number) => void) | undefined;
  #disposed: Promise<void> | undefined;

  constructor(spec: InstanceSpec, worker: Worker, release: () => void) {
    this.id = `thread-${worker.threadId}`;
    this.spec = spec;
    this.#worker = worker;
    this.#release = release;
    worker.removeAllListeners('exit');
    worker.on('message', (m: WorkerMessage) => this.#onMessage(m));
    worker.on('error', (err) => (this.#lastError = err));
    worker.on('exit', (code) => this.#onExit(code));
  }

  get alive(): boolean {
    return this.#state === 'idle' || this.#state === 'busy';
  }

  load(): Promise<void> {
    const spec = this.spec;
    const logStreamName = newLogStreamName(spec.version);
    // TZ is process-wide (tzset): a worker must not change the server's time zone.
    const { TZ: _tz, ...env } = lambdaEnvironment(spec, {
      taskRoot: spec.codeDir,
      runtimeDir: RUNNERS_DIR,
      logStreamName,
      path: BASE_ENV.PATH,
    });
    return new Promise<void>((resolvePromise, reject) => {
      const timer = setTimeout(() => {
        void this.#worker.terminate();
        reject(
          new FunctionInitError({
            errorType: 'Sandbox.Timedout',
            errorMessage: 'Init timed out after 10.00 seconds',
          }),
        );
      }, INIT_TIMEOUT_MS);
      this.#onLoad = (m) => {
        if (m.t === 'loaded') {
          clearTimeout(timer);
          this.initDurationMs = m.initMs;
          this.#state = 'idle';
          resolvePromise();
        } else if (m.t === 'load-error') {
          clearTimeout(timer);
          this.#state = 'dead';
          reject(new FunctionInitError(m.error, this.#takeIdleLog() + m.logs));
        }
      };
      this.#onLoadExit = (code) => {
        clearTimeout(timer);
        reject(new FunctionInitError(this.#exitError(undefined, code), this.#takeIdleLog()));
      };
      this.#worker.postMessage({
        t: 'load',
        handler: spec.config.handler,
        taskRoot: spec.codeDir,
        functionName: spec.functionName,
        functionVersion: spec.version,
        memoryMB: spec.config.memory,
        invokedFunctionArn: spec.invokedFunctionArn,
        region: spec.region,
        logGroupName: logGroupName(spec.functionName),
        logStreamName,
        env,
      });
    }).finally(() => {
      this.#onLoad = undefined;
      this.#onLoadExit = undefined;
    });
  }

  invoke(req: InstanceInvokeRequest): Promise<InstanceInvokeResult> {
    if (this.#state !== 'idle') {
      return Promise.reject(
        new Error(`instance ${this.id} is ${this.#state === 'busy' ? 'busy' : 'not alive'}`),
      );
    }
    this.#state = 'busy';
    return new Promise((resolvePromise) => {
      const timer = setTimeout(() => this.#onTimeout(), Math.max(0, req.deadlineMs - Date.now()));
      this.#pending = { requestId: req.requestId, resolve: resolvePromise, timer };
      this.#worker.postMessage({
        t: 'invoke',
        id: req.requestId,
        event: req.payload.toString('utf8'),
        deadlineMs: req.deadlineMs,
        clientContext: req.clientContext,
        traceId: req.traceId,
      });
    });
  }

  dispose(): Promise<void> {
    this.#disposed ??= (async () => {
      this.#state = 'dead';
      await this.#worker.terminate();
      this.#release();
    })();
    return this.#disposed;
  }

  #onMessage(m: WorkerMessage): void {
    if (m.t === 'log') {
      if (this.#idleLog.length < 256 * 1024) this.#idleLog += m.data;
      return;
    }
    if (this.#onLoad) {
      this.#onLoad(m);
      return;
    }
    const p = this.#pending;
    if (m.t !== 'result' || !p || m.id !== p.requestId) return;
    clearTimeout(p.timer);
    this.#pending = undefined;
    this.#state = 'idle';
    const common = {
      logs: this.#takeIdleLog() + m.logs,
      maxMemoryUsedMB: Math.ceil(m.maxRssMB),
      reusable: true,
    };
    p.resolve(
      m.ok ? { ok: true, payload: Buffer.from(m.body), ...common } : { ok: false, error: m.error, ...common },
    );
  }

  #onTimeout(): void {
    const p = this.#pending;
    if (!p) return;
    this.#pending = undefined;
    this.#state = 'dead';
    // terminate() stops JS even in an infinite loop (V8 TerminateExecution).
    void this.dispose();
    const seconds = this.spec.config.timeout.toFixed(2);
    p.resolve({
      ok: false,
      error: { errorType: 'Sandbox.Timedout', errorMessage: `Task timed out after ${seconds} seconds` },
      logs: `${this.#takeIdleLog()}${new Date().toISOString()} ${p.requestId} Task timed out after ${seconds} seconds\n`,
      maxMemoryUsedMB: 0,
      reusable: false,
    });
  }

  #onExit(code: number): void {
    this.#state = 'dead';
    void this.dispose();
    if (this.#onLoadExit) {
      this.#onLoadExit(code);
      return;
    }
    const p = this.#pending;
    if (!p) return;
    clearTimeout(p.timer);
    this.#pending = undefined;
    const error = this.#exitError(p.requestId, code);
    p.resolve({
      ok: false,
      error,
      logs: `${this.#takeIdleLog()}RequestId: ${p.requestId} Error: ${error.errorMessage.replace(/^RequestId: \S+ Error: /, '')}\n`,
      maxMemoryUsedMB: error.errorType === 'Runtime.OutOfMemory' ? this.spec.config.memory : 0,
      reusable: false,
    });
  }

  #exitError(requestId: string | undefined, code: number): LambdaError {
    const prefix = requestId === undefined ? '' : `RequestId: ${requestId} Error: `;
    const err = this.#lastError as (Error & { code?: string }) | undefined;
    if (err?.code === 'ERR_WORKER_OUT_OF_MEMORY') {
      return {
        errorType: 'Runtime.OutOfMemory',
        errorMessage: `${prefix}Runtime exited with error: signal: killed`,
      };
    }
    if (err) {
      // An uncaught exception ends the worker; report it as Lambda's Node runtime would log it.
      this.#idleLog += `${new Date().toISOString()}\t${requestId ?? 'undefined'}\tERROR\tUncaught Exception \t${JSON.stringify({ errorType: err.name, errorMessage: err.message, stack: String(err.stack ?? '').split('\n') })}\n`;
    }
    const reason =
      code === 0
        ? 'Runtime exited without providing a reason'
        : `Runtime exited with error: exit status ${code}`;
    return { errorType: 'Runtime.ExitError', errorMessage: prefix + reason };
  }

  #takeIdleLog(): string {
    const log = this.#idleLog;
    this.#idleLog = '';
    return log;
  }
}
