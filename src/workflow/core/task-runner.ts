// Runs the invocation tasks the engine committed, through the invoke service, and records each
// result before anything acts on it; claims tasks whose node died before recording theirs.

import type { InvokeRequest, InvokeResponse } from '../../invoke/invoke-service.js';
import type { TaskRecord, WorkflowStore } from '../../store/ports/workflows.js';

/** The part of the InvokeService tasks need (same pool, limits, logs and request ids). */
export interface TaskInvoker {
  invoke(req: InvokeRequest): Promise<InvokeResponse>;
}

/** A task to run now: the committed row, or the part of it the committing node knows. */
export type RunnableTask = Pick<TaskRecord, 'token' | 'executionId' | 'invoke' | 'callback' | 'ref'>;

/** Options of the {@link TaskRunner}. */
export interface TaskRunnerOptions {
  /** Invocations this node runs at once; more wait in memory (their rows are durable). @default 64 */
  readonly maxConcurrent?: number;
  /**
   * How long a claimed invocation is this node's before another may retry it (a dead node's).
   * Longer than any function timeout (Lambda's maximum is 900 s). @default 960000
   */
  readonly leaseMs?: number;
}

/** Runs invocation tasks with bounded concurrency. */
export class TaskRunner {
  readonly #store: WorkflowStore;
  readonly #invoker: TaskInvoker;
  readonly #owner: string;
  readonly #onRecorded: (executionId: string) => void;
  readonly #onError: (err: unknown) => void;
  readonly #max: number;
  readonly leaseMs: number;
  readonly #queue: RunnableTask[] = [];
  readonly #running = new Set<Promise<void>>();
  #stopped = false;
  #halted = false;

  constructor(deps: {
    readonly store: WorkflowStore;
    readonly invoker: TaskInvoker;
    readonly owner: string;
    /** Called after a result is committed (the execution is runnable). */
    readonly onRecorded: (executionId: string) => void;
    readonly onError: (err: unknown) => void;
    readonly options?: TaskRunnerOptions | undefined;
  }) {
    this.#store = deps.store;
    this.#invoker = deps.invoker;
    this.#owner = deps.owner;
    this.#onRecorded = deps.onRecorded;
    this.#onError = deps.onError;
    this.#max = deps.options?.maxConcurrent ?? 64;
    this.leaseMs = deps.options?.leaseMs ?? 960_000;
  }

  /** Run tasks this node holds the lease of (just committed, or claimed). */
  submit(tasks: readonly RunnableTask[]): void {
    for (const t of tasks) if (t.invoke !== undefined) this.#queue.push(t);
    this.#pump();
  }

  /** Claim invocation tasks whose lease ran out (their node died before recording a result). */
  async recover(): Promise<void> {
    const room = this.#max - this.#running.size - this.#queue.length;
    if (this.#stopped || room <= 0) return;
    this.submit(await this.#store.claimTasks(this.#owner, room, this.leaseMs));
  }

  /** Stop taking tasks; wait for those in flight to record their results. */
  async stop(): Promise<void> {
    this.#stopped = true;
    this.#queue.length = 0;
    await Promise.allSettled([...this.#running]);
  }

  /** Stop at once without waiting (a crash in tests): nothing more is recorded by this runner. */
  halt(): void {
    this.#stopped = true;
    this.#halted = true;
    this.#queue.length = 0;
  }

  #pump(): void {
    while (!this.#stopped && this.#running.size < this.#max && this.#queue.length > 0) {
      const task = this.#queue.shift()!;
      const run: Promise<void> = this.#run(task)
        .catch(this.#onError)
        .finally(() => {
          this.#running.delete(run);
          this.#pump();
        });
      this.#running.add(run);
    }
  }

  async #run(task: RunnableTask): Promise<void> {
    const invoke = task.invoke!;
    let outcome: Parameters<WorkflowStore['recordInvocation']>[2];
    try {
      const res = await this.#invoker.invoke({
        functionName: invoke.functionName,
        qualifier: invoke.qualifier,
        payload: Buffer.from(invoke.payload),
      });
      if (!res.ok) {
        outcome = {
          status: 'FAILED',
          error: res.error?.errorType ?? 'Error',
          // AWS puts the function's whole error object into the cause.
          cause: res.payload.toString('utf8'),
        };
      } else if (task.callback) {
        outcome = { status: 'STARTED' };
      } else {
        outcome = { status: 'SUCCEEDED', result: res.payload.toString('utf8') };
      }
    } catch (err) {
      // A platform error (unknown function, throttle, ...): the task fails with Lambda's name for
      // it, as Step Functions reports `Lambda.ResourceNotFoundException` and the like.
      const code =
        typeof (err as { code?: unknown })?.code === 'string'
          ? (err as { code: string }).code
          : 'ServiceException';
      outcome = { status: 'FAILED', error: `Lambda.${code}`, cause: (err as Error)?.message ?? String(err) };
    }
    // A halted runner (a simulated kill -9) records nothing more.
    if (this.#halted) return;
    const recorded = await this.#store.recordInvocation(task.token, this.#owner, outcome);
    if (recorded && outcome.status !== 'STARTED') this.#onRecorded(task.executionId);
  }
}
