// The interface between the language and the durable executor: what a step is given (a
// serialisable frame plus facts) and what it answers (a serialisable outcome).

import type { AslEnvironment } from './asl-environment.js';
import type { Json, JsonObject, StateMachine } from './asl-types.js';
import type { ExecutionFacts, MapItemFacts } from './context-object.js';

/** Variables in scope, outermost first; a state's Assign lands in the last (innermost) one. */
export type VariableScopes = readonly JsonObject[];

/**
 * Where an execution stands inside one state. Plain JSON: the executor persists it between
 * steps (e.g. across a retry backoff) and passes it back.
 */
export interface StateFrame {
  readonly stateName: string;
  /** The state's raw input. */
  readonly input: Json;
  /** ISO 8601 time the state was entered (`$$.State.EnteredTime`; Wait `Seconds` counts from it). */
  readonly enteredTime: string;
  /** Retries so far (`$$.State.RetryCount`). */
  readonly retryCount: number;
  /** Retries made by each retrier of the state's Retry field, by index. */
  readonly retryAttempts: readonly number[];
}

/** Everything one step needs. */
export interface StepInput {
  /** The machine, Parallel branch or Map processor that holds the state. */
  readonly machine: StateMachine;
  readonly frame: StateFrame;
  readonly execution: ExecutionFacts;
  readonly variables: VariableScopes;
  /** The task token, when the state's resource ends in `.waitForTaskToken` (`$$.Task.Token`). */
  readonly taskToken?: string;
  /** The Map item this machine runs for (iterations of a Map). */
  readonly mapItem?: MapItemFacts;
  /** Clock and randomness. @default defaultEnvironment */
  readonly env?: AslEnvironment;
}

/** A task's or sub-workflow's outcome, handed to completeState. */
export type TaskResult =
  | { readonly ok: true; readonly value: Json }
  | { readonly ok: false; readonly error: string; readonly cause: string };

/** Go to `next` (or end the machine) with `output`; `assign` holds new variable values. */
export interface TransitionOutcome {
  readonly kind: 'next' | 'end';
  /** The next state (kind 'next'). */
  readonly next?: string;
  readonly output: Json;
  /** Variables the state assigned, to merge into the innermost scope (see applyAssign). */
  readonly assign?: JsonObject;
  /** Set when a catcher handled an error: which error, and the catcher's index. */
  readonly caught?: { readonly error: string; readonly cause: string; readonly catcherIndex: number };
}

/** The step's answer. Every variant is plain JSON except the sub-machines of parallel/map. */
export type StateOutcome =
  | TransitionOutcome
  /** The execution (or branch/iteration) fails: a Fail state, or an error nothing caught. */
  | { readonly kind: 'fail'; readonly error: string; readonly cause: string }
  /** Retry the state after `delaySeconds`: call evaluateState again with `frame`. */
  | {
      readonly kind: 'retry';
      readonly delaySeconds: number;
      readonly frame: StateFrame;
      readonly error: string;
      readonly cause: string;
      readonly retrierIndex: number;
    }
  /** Run a task, then call completeState with its result. */
  | {
      readonly kind: 'task';
      readonly resource: string;
      /** The effective parameters (JSONPath) or arguments (JSONata) sent to the resource. */
      readonly parameters: Json;
      readonly timeoutSeconds?: number;
      readonly heartbeatSeconds?: number;
      readonly credentials?: Json;
    }
  /** Wait until `until` (ISO 8601), then take `then`. */
  | { readonly kind: 'wait'; readonly until: string; readonly then: TransitionOutcome }
  /** Run every branch on `input`; completeState with the array of branch outputs. */
  | { readonly kind: 'parallel'; readonly branches: readonly StateMachine[]; readonly input: Json }
  /** Run the processor once per item input; completeState with the array of results. */
  | MapOutcome;

/** A Map state's work order. */
export interface MapOutcome {
  readonly kind: 'map';
  readonly mode: 'INLINE' | 'DISTRIBUTED';
  readonly executionType?: 'STANDARD' | 'EXPRESS';
  readonly processor: StateMachine;
  /**
   * The input of each iteration (after ItemSelector and ItemBatcher). Undefined when an
   * ItemReader supplies the items: read them, then call mapItemInputs.
   */
  readonly itemInputs?: readonly Json[];
  /** 0 means no limit. */
  readonly maxConcurrency: number;
  readonly toleratedFailureCount?: number;
  readonly toleratedFailurePercentage?: number;
  /** ItemReader with its parameters resolved. */
  readonly itemReader?: {
    readonly resource: string;
    readonly parameters: Json;
    readonly readerConfig: JsonObject;
  };
  /** ResultWriter with its parameters resolved. */
  readonly resultWriter?: {
    readonly resource: string;
    readonly parameters: Json;
    readonly writerConfig: JsonObject;
  };
  readonly label?: string;
}
