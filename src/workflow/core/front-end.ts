// The seam between the durable execution core and the languages it runs: ASL state machines
// today, Lambda durable functions next. A front end is pure decision logic over stored state;
// the engine owns persistence, leases, invocations, timers, tokens and children.

import type {
  Completion,
  ExecutionEnd,
  ExecutionRecord,
  NewChild,
  NewHistoryEvent,
  NewTask,
  NewTimer,
  WorkflowRecord,
} from '../../store/ports/workflows.js';

/** What a front end is given to decide one step of an execution. */
export interface DecideContext {
  /** The workflow version the execution started with. */
  readonly workflow: WorkflowRecord;
  readonly execution: ExecutionRecord;
  /**
   * Results that arrived since the last step (task results, fired timers, finished children), in
   * the order they happened. A front end that returns `consumed` may leave some for later.
   */
  readonly completions: readonly Completion[];
  /** Epoch ms of this step (use it, not the clock, so a step is reproducible). */
  readonly now: number;
  /** A new random task token (also the id of a timer or child). */
  newToken(): string;
}

/**
 * One step's decision: what to record and what to do next. The engine commits all of it in one
 * transaction with the history events, and acts (invokes, arms timers, runs children) only after
 * the commit: after a crash the step is either wholly recorded, or decided again.
 */
export interface Decision {
  /** History events to append, in order (AWS's event types and `*EventDetails`). */
  readonly events: readonly NewHistoryEvent[];
  /** The front end's new state, JSON text. */
  readonly state: string;
  /** Completions consumed by this step. @default all of `completions` */
  readonly consumed?: readonly Completion[] | undefined;
  /** Invocations and/or token waits to start. */
  readonly tasks?: readonly NewTask[] | undefined;
  /** Durable timers (Wait states, retry backoff, `ctx.wait`). */
  readonly timers?: readonly NewTimer[] | undefined;
  /** Child executions (Map iterations, Parallel branches, nested runs). */
  readonly children?: readonly NewChild[] | undefined;
  /** Open tasks (by ref) to cancel. */
  readonly cancelTasks?: readonly string[] | undefined;
  /** End the execution. */
  readonly end?: ExecutionEnd | undefined;
  /**
   * Run the next step at this time without waiting for a completion (e.g. `now` to continue
   * after a step that only recorded progress). Undefined: sleep until a completion arrives.
   */
  readonly nextRunAt?: number | undefined;
}

/** What a new top-level execution starts with. */
export interface ExecutionStart {
  /** Initial front-end state, JSON text. */
  readonly state: string;
  /** First history events (e.g. `ExecutionStarted`). */
  readonly events: readonly NewHistoryEvent[];
  /** Epoch ms the execution times out (its TimeoutSeconds / executionTimeout). */
  readonly deadlineAt?: number | undefined;
}

/**
 * A workflow language. Implementations are stateless and deterministic over their arguments
 * (the clock comes in as `now`, ids through `newToken`), so any node can take any step.
 */
export interface FrontEnd {
  /** Stored as the workflow's and its executions' `frontEnd` (`asl`, `durable`, ...). */
  readonly name: string;
  /** Check a definition before it is stored; throws `InvalidDefinition` naming the fix. */
  validate(definition: string): void;
  /** The state and first events of a new top-level execution. */
  begin(args: {
    readonly workflow: WorkflowRecord;
    readonly executionId: string;
    readonly name: string;
    readonly input: string;
    readonly now: number;
  }): ExecutionStart;
  /** Decide the next step. Throwing fails the execution with `States.Runtime`. */
  decide(ctx: DecideContext): Decision | Promise<Decision>;
}
