// The durable execution engine: claims runnable executions, asks their front end for the next
// step, commits it with its history events before acting, then runs its tasks, timers and
// children. Any node can advance any execution; timers are led by one node (timer-loop.ts).

import { randomBytes, randomUUID } from 'node:crypto';
import { NimbusError } from '../../errors.js';
import type { AdvisoryLocks, Notifier, Subscription } from '../../store/coordination.js';
import type {
  ExecutionRecord,
  WorkflowDefinition,
  WorkflowRecord,
  WorkflowStore,
} from '../../store/ports/workflows.js';
import type { Decision, FrontEnd } from './front-end.js';
import { TaskRunner, type TaskInvoker, type TaskRunnerOptions } from './task-runner.js';
import { TimerLoop, type TimerLoopOptions } from './timer-loop.js';

/** Channel a node notifies after making executions runnable, so the others claim them at once. */
export const WORKFLOWS_CHANNEL = 'nimbus_workflows';

/** Largest execution input or output (Step Functions' 256 KiB quota). */
export const MAX_WORKFLOW_PAYLOAD = 262_144;

/** Options of the {@link WorkflowEngine}. */
export interface WorkflowEngineOptions {
  /** This node's id: the owner of its leases. */
  readonly nodeId: string;
  /** Region and account for execution ARNs. */
  readonly region: string;
  readonly accountId: string;
  /** Executions advanced at once by this node. @default 32 */
  readonly maxConcurrentSteps?: number;
  /** Lease of a claimed execution while its step is decided. @default 30000 */
  readonly stepLeaseMs?: number;
  /** Longest time between looks for runnable work (without a notifier). @default 1000 */
  readonly pollMs?: number;
  readonly tasks?: TaskRunnerOptions | undefined;
  readonly timers?: TimerLoopOptions | undefined;
  /** Other nodes write too: free only this node's leases at start. @default false */
  readonly multipleWriters?: boolean;
}

/** What the engine is built from. */
export interface WorkflowEngineDeps {
  readonly store: WorkflowStore;
  readonly invoker: TaskInvoker;
  readonly frontEnds: readonly FrontEnd[];
  readonly locks?: AdvisoryLocks | undefined;
  readonly notifier?: Notifier | undefined;
  readonly onError: (err: unknown) => void;
  /**
   * Test seam: called after a step is committed and before the engine acts on it. A test halts
   * the engine here to prove that a committed step is carried out after a restart.
   */
  readonly afterCommit?: ((executionId: string, decision: Decision) => void) | undefined;
}

const NAME_RE = /^[^\s<>{}[\]?*"#%\\^|~`$&,;:/]{1,80}$/;

/** Whether `name` holds a control character (U+0000-U+001F, U+007F-U+009F), which AWS refuses. */
function hasControl(name: string): boolean {
  return [...name].some((ch) => {
    const c = ch.codePointAt(0)!;
    return c < 0x20 || (c >= 0x7f && c <= 0x9f);
  });
}

/** Throws `InvalidName` unless `name` is a valid execution or workflow name (AWS's rules). */
export function checkName(name: string, what: string): void {
  if (!NAME_RE.test(name) || hasControl(name)) {
    throw new NimbusError(
      'InvalidName',
      `Invalid ${what} name '${name}': use 1-80 characters without whitespace, brackets, wildcards, slashes or control characters.`,
    );
  }
}

/** The durable execution engine of one node. */
export class WorkflowEngine {
  readonly #deps: WorkflowEngineDeps;
  readonly #options: Required<Omit<WorkflowEngineOptions, 'tasks' | 'timers'>>;
  readonly #frontEnds: ReadonlyMap<string, FrontEnd>;
  readonly #tasks: TaskRunner;
  readonly #timers: TimerLoop;
  readonly #versions = new Map<string, Promise<WorkflowRecord | undefined>>();
  readonly #inflight = new Set<Promise<void>>();
  #running = false;
  #halted = false;
  #pumping = false;
  #again = false;
  #poll: NodeJS.Timeout | undefined;
  #subscription: Subscription | undefined;

  constructor(deps: WorkflowEngineDeps, options: WorkflowEngineOptions) {
    this.#deps = deps;
    this.#options = {
      maxConcurrentSteps: 32,
      stepLeaseMs: 30_000,
      pollMs: 1000,
      multipleWriters: false,
      ...options,
    };
    this.#frontEnds = new Map(deps.frontEnds.map((f) => [f.name, f]));
    this.#tasks = new TaskRunner({
      store: deps.store,
      invoker: deps.invoker,
      owner: options.nodeId,
      onRecorded: () => this.wake(),
      onError: deps.onError,
      options: options.tasks,
    });
    this.#timers = new TimerLoop({
      store: deps.store,
      locks: deps.locks,
      onFired: () => {
        this.wake();
        void this.#deps.notifier?.notify(WORKFLOWS_CHANNEL).catch(deps.onError);
      },
      onOverdue: (id) => this.#timeOut(id),
      onError: deps.onError,
      options: options.timers,
    });
  }

  /** The store the engine writes to (for read-only API routes). */
  get store(): WorkflowStore {
    return this.#deps.store;
  }

  /** Free the leases a previous process of this node left, then start the loops. Idempotent. */
  async start(): Promise<void> {
    if (this.#running) return;
    this.#running = true;
    // A single-writer store has one node: every lease is a dead process's. With several
    // writers, only those taken under this node's id (its previous process died).
    await this.#deps.store.releaseLeases(this.#options.multipleWriters ? this.#options.nodeId : undefined);
    this.#timers.start();
    this.#poll = setInterval(() => {
      this.wake();
      void this.#tasks.recover().catch(this.#deps.onError);
    }, this.#options.pollMs);
    if (this.#deps.notifier !== undefined) {
      this.#subscription = await this.#deps.notifier.listen(WORKFLOWS_CHANNEL, () => this.wake());
    }
    this.wake();
    await this.#tasks.recover();
  }

  /** Stop claiming, finish steps and invocations in flight. Idempotent. */
  async stop(): Promise<void> {
    if (!this.#running) return;
    this.#running = false;
    clearInterval(this.#poll);
    await this.#subscription?.close();
    await this.#timers.stop();
    await Promise.allSettled([...this.#inflight]);
    await this.#tasks.stop();
  }

  /**
   * Stop at once, as `kill -9` would: nothing more is committed or acted on by this engine
   * (steps and invocations in flight are dropped; their leases stay until they run out).
   */
  async halt(): Promise<void> {
    this.#halted = true;
    this.#tasks.halt();
    await this.stop();
  }

  /** Look for runnable executions now. */
  wake(): void {
    if (!this.#running || this.#halted) return;
    if (this.#pumping) {
      this.#again = true;
      return;
    }
    this.#pumping = true;
    void this.#pump()
      .catch(this.#deps.onError)
      .finally(() => {
        this.#pumping = false;
        if (this.#again) {
          this.#again = false;
          this.wake();
        }
      });
  }

  /** Create or update a workflow (validated by its front end). */
  async putWorkflow(def: WorkflowDefinition): Promise<WorkflowRecord> {
    checkName(def.name, 'workflow');
    this.#frontEnd(def.frontEnd).validate(def.definition);
    return this.#deps.store.putWorkflow(def);
  }

  /** The ARN of an execution of `workflow` named `name`. */
  executionArn(workflow: string, name: string): string {
    return `arn:aws:states:${this.#options.region}:${this.#options.accountId}:execution:${workflow}:${name}`;
  }

  /**
   * Start an execution (committed before this resolves). Idempotent on the name: the same name
   * and input of a RUNNING execution answer that execution; otherwise `ExecutionAlreadyExists`.
   */
  async startExecution(args: {
    readonly workflow: string;
    readonly input?: string | undefined;
    readonly name?: string | undefined;
  }): Promise<{ execution: ExecutionRecord; created: boolean }> {
    const name = args.name ?? randomUUID();
    checkName(name, 'execution');
    const input = args.input ?? '{}';
    checkPayload(input, 'execution input');
    try {
      JSON.parse(input);
    } catch {
      throw new NimbusError(
        'InvalidParameterValueException',
        'Invalid execution input: the input must be a JSON text.',
      );
    }
    const workflow = await this.#deps.store.getWorkflow(args.workflow);
    if (workflow === undefined) {
      throw new NimbusError(
        'StateMachineDoesNotExist',
        `State Machine Does Not Exist: '${args.workflow}'; create it first (nimbus.yml workflows: or POST /v1/workflows).`,
      );
    }
    const id = this.executionArn(workflow.name, name);
    const now = Date.now();
    const start = this.#frontEnd(workflow.frontEnd).begin({ workflow, executionId: id, name, input, now });
    const result = await this.#deps.store.startExecution({
      id,
      workflow: workflow.name,
      name,
      input,
      state: start.state,
      events: start.events,
      deadlineAt: start.deadlineAt,
      now,
    });
    if (!result.created) {
      const e = result.execution;
      if (e.status !== 'RUNNING' || e.input !== input) {
        throw new NimbusError(
          'ExecutionAlreadyExists',
          `Execution Already Exists: '${e.id}' (${e.status.toLowerCase()}${e.input !== input ? ', with a different input' : ''}); start it under another name.`,
        );
      }
      return result;
    }
    this.wake();
    return result;
  }

  /** An execution, or `ExecutionDoesNotExist`. */
  async describeExecution(id: string): Promise<ExecutionRecord> {
    const e = await this.#deps.store.getExecution(id);
    if (e === undefined) {
      throw new NimbusError(
        'ExecutionDoesNotExist',
        `Execution Does Not Exist: '${id}'; list executions with GET /v1/workflows/{name}/executions.`,
      );
    }
    return e;
  }

  /** Abort a RUNNING execution (its open tasks, timers and children with it). */
  async stopExecution(id: string, error?: string, cause?: string): Promise<ExecutionRecord> {
    await this.describeExecution(id);
    const details = JSON.stringify({
      ...(error === undefined ? {} : { error }),
      ...(cause === undefined ? {} : { cause }),
    });
    await this.#deps.store.endExecution(id, { status: 'ABORTED', error, cause }, [
      { type: 'ExecutionAborted', details },
    ]);
    return this.describeExecution(id);
  }

  /** SendTaskSuccess. */
  async sendTaskSuccess(token: string, output: string): Promise<void> {
    checkPayload(output, 'task output');
    try {
      JSON.parse(output);
    } catch {
      throw new NimbusError(
        'InvalidParameterValueException',
        'Invalid Output: the task output must be a JSON text.',
      );
    }
    this.#tokenAnswer(await this.#deps.store.completeToken(token, { status: 'SUCCEEDED', result: output }));
    this.wake();
  }

  /** SendTaskFailure. */
  async sendTaskFailure(token: string, error = '', cause = ''): Promise<void> {
    this.#tokenAnswer(await this.#deps.store.completeToken(token, { status: 'FAILED', error, cause }));
    this.wake();
  }

  /** SendTaskHeartbeat. */
  async sendTaskHeartbeat(token: string): Promise<void> {
    this.#tokenAnswer(await this.#deps.store.heartbeatToken(token));
  }

  #tokenAnswer(outcome: 'ok' | 'unknown' | 'closed' | 'timed-out'): void {
    if (outcome === 'unknown') {
      throw new NimbusError(
        'TaskDoesNotExist',
        'Task Does Not Exist: no open task has this token; use the token from $$.Task.Token.',
      );
    }
    if (outcome !== 'ok') {
      throw new NimbusError(
        'TaskTimedOut',
        `Task Timed Out: the task of this token has ${outcome === 'timed-out' ? 'timed out' : 'already been closed'}.`,
      );
    }
  }

  #frontEnd(name: string): FrontEnd {
    const fe = this.#frontEnds.get(name);
    if (fe === undefined) {
      throw new NimbusError(
        'InvalidDefinition',
        `No workflow front end '${name}' on this node (known: ${[...this.#frontEnds.keys()].join(', ')}).`,
      );
    }
    return fe;
  }

  #version(name: string, version: number): Promise<WorkflowRecord | undefined> {
    const key = `${name}\u0000${version}`;
    let v = this.#versions.get(key);
    if (v === undefined) {
      // Versions are immutable: cache them (bounded, dropped wholesale).
      if (this.#versions.size > 500) this.#versions.clear();
      v = this.#deps.store.getWorkflowVersion(name, version);
      v.catch(() => this.#versions.delete(key));
      this.#versions.set(key, v);
    }
    return v;
  }

  async #pump(): Promise<void> {
    while (this.#running && !this.#halted) {
      const room = this.#options.maxConcurrentSteps - this.#inflight.size;
      if (room <= 0) return;
      const claimed = await this.#deps.store.claimExecutions(
        this.#options.nodeId,
        room,
        this.#options.stepLeaseMs,
      );
      if (this.#halted) return;
      for (const e of claimed) {
        const step: Promise<void> = this.#advance(e)
          .catch(async (err: unknown) => {
            this.#deps.onError(err);
            if (!this.#halted)
              await this.#deps.store
                .releaseExecution(e.id, this.#options.nodeId, Date.now() + 1000)
                .catch(() => undefined);
          })
          .finally(() => {
            this.#inflight.delete(step);
            this.wake();
          });
        this.#inflight.add(step);
      }
      if (claimed.length < room) return;
    }
  }

  /** One step of a claimed execution: decide, commit, then act. */
  async #advance(execution: ExecutionRecord): Promise<void> {
    const owner = this.#options.nodeId;
    const workflow = await this.#version(execution.workflow, execution.workflowVersion);
    const completions = await this.#deps.store.pendingCompletions(execution.id);
    const now = Date.now();
    let decision: Decision;
    try {
      if (workflow === undefined)
        throw new Error(`workflow ${execution.workflow} version ${execution.workflowVersion} is gone`);
      decision = await this.#frontEnd(execution.frontEnd).decide({
        workflow,
        execution,
        completions,
        now,
        newToken: () => randomBytes(24).toString('base64url'),
      });
    } catch (err) {
      // A bug or a corrupt state must not spin: the execution fails, with the reason recorded.
      const cause = err instanceof Error ? err.message : String(err);
      decision = {
        state: execution.state,
        events: [{ type: 'ExecutionFailed', details: JSON.stringify({ error: 'States.Runtime', cause }) }],
        end: { status: 'FAILED', error: 'States.Runtime', cause },
      };
    }
    if (this.#halted) return;
    const leaseUntil = now + this.#tasks.leaseMs;
    const committed = await this.#deps.store.commitStep(
      execution.id,
      owner,
      { ...decision, consumed: decision.consumed ?? completions, taskLease: { owner, until: leaseUntil } },
      now,
    );
    if (!committed) return; // Stopped, timed out or taken over meanwhile: the step never happened.
    this.#deps.afterCommit?.(execution.id, decision);
    if (this.#halted) return;
    // Act only now that the step is durable.
    const tasks = (decision.tasks ?? []).map((t) => ({ ...t, executionId: execution.id }));
    if (tasks.length > 0) this.#tasks.submit(tasks);
    for (const t of decision.timers ?? []) this.#timers.poke(t.dueAt);
    if (decision.end !== undefined && execution.parentId !== undefined) this.wake();
    if ((decision.children ?? []).length > 0 || decision.nextRunAt !== undefined) this.wake();
  }

  async #timeOut(id: string): Promise<void> {
    const ended = await this.#deps.store.endExecution(
      id,
      {
        status: 'TIMED_OUT',
        error: 'States.Timeout',
        cause: 'The execution ran longer than its TimeoutSeconds.',
      },
      [
        {
          type: 'ExecutionTimedOut',
          details: JSON.stringify({
            error: 'States.Timeout',
            cause: 'The execution ran longer than its TimeoutSeconds.',
          }),
        },
      ],
    );
    if (ended) this.wake();
  }
}

/** Throws `States.DataLimitExceeded`-style `InvalidParameterValueException` over 256 KiB. */
function checkPayload(text: string, what: string): void {
  if (Buffer.byteLength(text) > MAX_WORKFLOW_PAYLOAD) {
    throw new NimbusError(
      'InvalidParameterValueException',
      `States.DataLimitExceeded: the ${what} is larger than ${MAX_WORKFLOW_PAYLOAD} bytes; pass a reference (a bucket key) instead.`,
    );
  }
}
