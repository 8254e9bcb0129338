// The durable execution core's port: workflow definitions, executions with their append-only
// history, durable timers and task tokens. One implementation (kysely/workflow-store.ts), one
// contract suite (test/store/workflow-store.contract.test.ts). Front-end neutral: ASL state
// machines and durable functions keep their own state as opaque JSON text.

/** Standard executions are durable; Express ones run in memory and keep only a summary. */
export type WorkflowType = 'STANDARD' | 'EXPRESS';

/** Step Functions' execution statuses (durable functions use the same set). */
export type ExecutionStatus =
  'RUNNING' | 'SUCCEEDED' | 'FAILED' | 'TIMED_OUT' | 'ABORTED' | 'PENDING_REDRIVE';

/** Statuses an execution never leaves (short of a redrive). */
export const FINISHED_STATUSES: ReadonlySet<ExecutionStatus> = new Set([
  'SUCCEEDED',
  'FAILED',
  'TIMED_OUT',
  'ABORTED',
]);

/** A workflow (state machine or durable function) as declared. */
export interface WorkflowDefinition {
  /** Unique across apps (as function full names are). */
  readonly name: string;
  readonly app: string;
  readonly type: WorkflowType;
  /** Which front end runs it (`asl`, `durable`, ...). */
  readonly frontEnd: string;
  /** The definition as text (ASL JSON, or the front end's own description). */
  readonly definition: string;
}

/** A stored workflow: its current version. Every change of definition or type is a new version. */
export interface WorkflowRecord extends WorkflowDefinition {
  /** 1, 2, ...; executions keep running the version they started with. */
  readonly version: number;
  /** Epoch ms. */
  readonly createdAt: number;
  readonly updatedAt: number;
}

/** One execution of a workflow, or a child execution (a Map item, a Parallel branch, a nested run). */
export interface ExecutionRecord {
  /** Globally unique (the ARN, or a child's id). */
  readonly id: string;
  readonly workflow: string;
  readonly workflowVersion: number;
  readonly frontEnd: string;
  /** Unique per workflow: the idempotency key of a start. */
  readonly name: string;
  /** Input as JSON text. */
  readonly input: string;
  readonly status: ExecutionStatus;
  /** Output as JSON text once SUCCEEDED. */
  readonly output?: string | undefined;
  readonly error?: string | undefined;
  readonly cause?: string | undefined;
  /** The front end's state, opaque JSON text (current state, variables, counters, ...). */
  readonly state: string;
  /** Epoch ms. */
  readonly startedAt: number;
  readonly stoppedAt?: number | undefined;
  /** Epoch ms after which the execution times out (its TimeoutSeconds). */
  readonly deadlineAt?: number | undefined;
  /** Epoch ms from which it may be advanced; undefined while it waits for a task, timer or child. */
  readonly nextRunAt?: number | undefined;
  readonly leaseOwner?: string | undefined;
  readonly leaseUntil?: number | undefined;
  /** Id of the last history event (0 before the first). */
  readonly lastEventId: number;
  /** Set for a child execution: its parent and the parent's reference for it. */
  readonly parentId?: string | undefined;
  readonly parentRef?: string | undefined;
  readonly redriveCount: number;
}

/** One history event, as AWS's GetExecutionHistory shows it (`details` is its `*EventDetails`). */
export interface HistoryEvent {
  /** 1, 2, ... within the execution. */
  readonly id: number;
  /** The event this one follows from (0 for the first). */
  readonly previousEventId: number;
  /** AWS's history event type, e.g. `TaskStateEntered`, `LambdaFunctionSucceeded`. */
  readonly type: string;
  /** Epoch ms. */
  readonly timestamp: number;
  /** The type's details object as JSON text (`{}` when it has none). */
  readonly details: string;
}

/** An event to append: ids are assigned by the store, in order, after the last one. */
export interface NewHistoryEvent {
  readonly type: string;
  /** @default now */
  readonly timestamp?: number | undefined;
  /** JSON text. @default '{}' */
  readonly details?: string | undefined;
  /**
   * The previous event's id: a non-negative number is absolute, a negative one relative to this
   * event's id (-1: the event just before). @default -1
   */
  readonly previousEventId?: number | undefined;
}

/** Status of a task (an invocation the engine runs, a token an outside caller completes, or both). */
export type TaskStatus = 'PENDING' | 'STARTED' | 'SUCCEEDED' | 'FAILED' | 'TIMED_OUT' | 'CANCELLED';

/** What a task invokes (run by the engine through the invoke service). */
export interface TaskInvocation {
  readonly functionName: string;
  readonly qualifier?: string | undefined;
  /** The payload as JSON text. */
  readonly payload: string;
}

/** A task to create with a decision. */
export interface NewTask {
  /** The task token (unique; random, it is a bearer secret for SendTask*). */
  readonly token: string;
  /** The front end's reference for the task (matched against completions). */
  readonly ref: string;
  /** The state or operation name, for listings. */
  readonly stateName?: string | undefined;
  /** Invoke this; undefined for a pure callback (an activity, a durable callback). */
  readonly invoke?: TaskInvocation | undefined;
  /** Finished by SendTaskSuccess/Failure (after the invocation, if any), not by the invocation's result. */
  readonly callback: boolean;
  /** Epoch ms after which the task fails with `States.Timeout`. */
  readonly timeoutAt?: number | undefined;
  /** Seconds between heartbeats before `States.HeartbeatTimeout`. */
  readonly heartbeatSeconds?: number | undefined;
}

/** A stored task. */
export interface TaskRecord extends NewTask {
  readonly executionId: string;
  readonly status: TaskStatus;
  /** Result as JSON text once SUCCEEDED. */
  readonly result?: string | undefined;
  readonly error?: string | undefined;
  readonly cause?: string | undefined;
  /** Epoch ms by which the next heartbeat must arrive. */
  readonly heartbeatAt?: number | undefined;
  readonly leaseOwner?: string | undefined;
  readonly leaseUntil?: number | undefined;
  /** How many times the invocation was claimed (above 1 only after a crash before its result). */
  readonly attempts: number;
  readonly createdAt: number;
  readonly updatedAt: number;
}

/** A durable timer to create with a decision: fires once at `dueAt`, survives restarts. */
export interface NewTimer {
  readonly id: string;
  readonly ref: string;
  /** Epoch ms. */
  readonly dueAt: number;
  /** JSON text handed back with the completion. */
  readonly payload?: string | undefined;
}

/** A child execution to start with a decision (same workflow unless `workflow` is given). */
export interface NewChild {
  readonly id: string;
  readonly ref: string;
  readonly name: string;
  readonly input: string;
  readonly state: string;
  readonly workflow?: string | undefined;
  readonly workflowVersion?: number | undefined;
  readonly frontEnd?: string | undefined;
  readonly deadlineAt?: number | undefined;
}

/** Something a waiting execution was waiting for, now done, not yet handed to its front end. */
export type Completion =
  | {
      readonly kind: 'task';
      readonly ref: string;
      readonly token: string;
      readonly status: 'SUCCEEDED' | 'FAILED' | 'TIMED_OUT';
      readonly result?: string | undefined;
      readonly error?: string | undefined;
      readonly cause?: string | undefined;
    }
  | {
      readonly kind: 'timer';
      readonly ref: string;
      readonly id: string;
      readonly payload?: string | undefined;
    }
  | {
      readonly kind: 'child';
      readonly ref: string;
      readonly id: string;
      readonly status: ExecutionStatus;
      readonly output?: string | undefined;
      readonly error?: string | undefined;
      readonly cause?: string | undefined;
    };

/** How an execution ends. */
export interface ExecutionEnd {
  readonly status: 'SUCCEEDED' | 'FAILED' | 'TIMED_OUT' | 'ABORTED';
  readonly output?: string | undefined;
  readonly error?: string | undefined;
  readonly cause?: string | undefined;
}

/** One advance of an execution, committed atomically by {@link WorkflowStore.commitStep}. */
export interface StepCommit {
  readonly events: readonly NewHistoryEvent[];
  /** The front end's new state (JSON text). */
  readonly state: string;
  /** The completions this step consumed (they are not handed over again). */
  readonly consumed: readonly Completion[];
  readonly tasks?: readonly NewTask[] | undefined;
  readonly timers?: readonly NewTimer[] | undefined;
  readonly children?: readonly NewChild[] | undefined;
  /** Tasks (by ref) to cancel: still-open ones become CANCELLED. */
  readonly cancelTasks?: readonly string[] | undefined;
  /** Finish the execution (open tasks, timers and child executions are cancelled/aborted). */
  readonly end?: ExecutionEnd | undefined;
  /** When to run again (epoch ms); undefined waits for a completion. Ignored with `end`. */
  readonly nextRunAt?: number | undefined;
  /**
   * Lease the new invocation tasks to this owner until then, so the committing node invokes them
   * at once and nobody else does unless it dies.
   */
  readonly taskLease?: { readonly owner: string; readonly until: number } | undefined;
}

/** The answer to completing a task by token. */
export type TokenOutcome = 'ok' | 'unknown' | 'closed' | 'timed-out';

/** Filters of {@link WorkflowStore.listExecutions}. */
export interface ExecutionQuery {
  readonly workflow?: string | undefined;
  readonly status?: ExecutionStatus | undefined;
  /** Include child executions. @default false */
  readonly children?: boolean | undefined;
  readonly parentId?: string | undefined;
  /** @default 100 */
  readonly limit?: number | undefined;
  /** Cursor: the last id of the previous page (newest first, by start time then id). */
  readonly after?: { readonly startedAt: number; readonly id: string } | undefined;
}

/** Storage of the durable execution core. Every multi-row change is one transaction. */
export interface WorkflowStore {
  /**
   * Create or update a workflow. A changed definition, type or front end makes a new version;
   * an unchanged one keeps the version (and `updatedAt`). Throws `ResourceConflictException`
   * when another app owns the name.
   */
  putWorkflow(def: WorkflowDefinition, now?: number): Promise<WorkflowRecord>;
  getWorkflow(name: string): Promise<WorkflowRecord | undefined>;
  /** A version of a workflow (kept as long as executions may run it). */
  getWorkflowVersion(name: string, version: number): Promise<WorkflowRecord | undefined>;
  /** Workflows, optionally of one app, by name. */
  listWorkflows(app?: string): Promise<WorkflowRecord[]>;
  /** Delete a workflow (its executions stay, as AWS keeps them until they end). */
  deleteWorkflow(name: string): Promise<boolean>;

  /**
   * Start an execution of the workflow's current version, runnable at once, with its first events.
   * Idempotent on `name`: when an execution of that name exists, nothing is written and
   * `{ created: false, execution }` gives it (the caller decides whether that is a conflict).
   * Throws `StateMachineDoesNotExist` for an unknown workflow.
   */
  startExecution(start: {
    readonly id: string;
    readonly workflow: string;
    readonly name: string;
    readonly input: string;
    readonly state: string;
    readonly events: readonly NewHistoryEvent[];
    readonly deadlineAt?: number | undefined;
    readonly now?: number | undefined;
  }): Promise<{ created: boolean; execution: ExecutionRecord }>;
  getExecution(id: string): Promise<ExecutionRecord | undefined>;
  findExecution(workflow: string, name: string): Promise<ExecutionRecord | undefined>;
  /** Executions, newest first. */
  listExecutions(query?: ExecutionQuery): Promise<ExecutionRecord[]>;
  /** History events in id order (descending with `reverse`), after the cursor `afterId`. */
  getHistory(
    executionId: string,
    options?: { readonly afterId?: number; readonly limit?: number; readonly reverse?: boolean },
  ): Promise<HistoryEvent[]>;

  /**
   * Lease up to `limit` RUNNING executions whose `nextRunAt` has passed and whose lease is free or
   * expired. Two concurrent claimers never get the same execution.
   */
  claimExecutions(owner: string, limit: number, leaseMs: number, now?: number): Promise<ExecutionRecord[]>;
  /** The completions an execution has not consumed yet, in the order they happened. */
  pendingCompletions(executionId: string): Promise<Completion[]>;
  /**
   * Commit one advance of an execution this owner leases: events, state, new tasks/timers/children,
   * consumed completions, the end, and the lease released, all or nothing. False (and nothing
   * written) when the owner no longer holds it or it is no longer RUNNING (stopped, timed out).
   */
  commitStep(executionId: string, owner: string, step: StepCommit, now?: number): Promise<boolean>;
  /** Give back a lease without a step (the owner could not advance it now). */
  releaseExecution(executionId: string, owner: string, nextRunAt?: number): Promise<void>;
  /**
   * End a RUNNING execution from outside (stop, timeout) whoever leases it: the end, the given
   * events, and every open task, timer and child execution closed. False if it was not RUNNING.
   */
  endExecution(
    executionId: string,
    end: ExecutionEnd,
    events: readonly NewHistoryEvent[],
    now?: number,
  ): Promise<boolean>;
  /**
   * Append events to a RUNNING execution outside a step (e.g. a durable function's checkpoint),
   * only if its last event id is still `expectedLastEventId` (else false: a stale writer).
   */
  appendEvents(
    executionId: string,
    expectedLastEventId: number,
    events: readonly NewHistoryEvent[],
    state?: string,
    now?: number,
  ): Promise<boolean>;

  /** Lease up to `limit` PENDING invocation tasks whose lease is free or expired (crash recovery). */
  claimTasks(owner: string, limit: number, leaseMs: number, now?: number): Promise<TaskRecord[]>;
  getTask(token: string): Promise<TaskRecord | undefined>;
  /** Open tasks (PENDING or STARTED) of an execution. */
  openTasks(executionId: string): Promise<TaskRecord[]>;
  /**
   * Record a task invocation's result (only while PENDING and, with `owner`, leased by it):
   * SUCCEEDED/FAILED finish it and make its execution runnable; STARTED means the invocation is
   * done and the task now waits for its token. False if the task was no longer open.
   */
  recordInvocation(
    token: string,
    owner: string | undefined,
    outcome:
      | { readonly status: 'SUCCEEDED'; readonly result: string }
      | { readonly status: 'FAILED'; readonly error: string; readonly cause: string }
      | { readonly status: 'STARTED' },
    now?: number,
  ): Promise<boolean>;
  /** SendTaskSuccess/Failure: finish an open callback task and make its execution runnable. */
  completeToken(
    token: string,
    outcome:
      | { readonly status: 'SUCCEEDED'; readonly result: string }
      | { readonly status: 'FAILED'; readonly error: string; readonly cause: string },
    now?: number,
  ): Promise<TokenOutcome>;
  /** SendTaskHeartbeat: move an open task's heartbeat deadline. */
  heartbeatToken(token: string, now?: number): Promise<TokenOutcome>;

  /**
   * Fire due timers (each exactly once), time out open tasks past their deadline or heartbeat,
   * and make their executions runnable; one transaction per call. Returns what it did.
   */
  fireDue(now: number, limit: number): Promise<{ timers: number; tasks: number }>;
  /** RUNNING executions past their `deadlineAt` (the caller ends them with {@link endExecution}). */
  overdueExecutions(now: number, limit: number): Promise<ExecutionRecord[]>;
  /** The earliest epoch ms at which {@link fireDue} or an execution deadline has work. */
  nextDue(): Promise<number | undefined>;
  /**
   * Free leases left by a dead process: every lease without `owner` (a single-writer store's
   * only node at start), or those held by `owner` (a node restarting with the same id).
   * @returns how many executions and tasks were freed.
   */
  releaseLeases(owner?: string): Promise<number>;
}
