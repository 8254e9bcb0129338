// Types shared by the Amazon States Language module: JSON values, the validated state machine
// and its states, as the executor reads them.

/** Any JSON value. */
export type Json = null | boolean | number | string | Json[] | JsonObject;
/** A JSON object. */
export interface JsonObject {
  [key: string]: Json;
}

/** The two query languages a state machine or a state may use. */
export type QueryLanguage = 'JSONPath' | 'JSONata';

/** The eight ASL state types. */
export type StateType = 'Pass' | 'Task' | 'Choice' | 'Wait' | 'Succeed' | 'Fail' | 'Parallel' | 'Map';

/** One validated state: its raw JSON plus the facts every step needs, resolved once. */
export interface StateDefinition {
  /** The state's name (its key in `States`). */
  readonly name: string;
  readonly type: StateType;
  /** The query language in force for this state (its own, else the machine's). */
  readonly queryLanguage: QueryLanguage;
  /** The state's JSON exactly as written. */
  readonly raw: JsonObject;
  /** `Next`, when the state has one. */
  readonly next?: string;
  /** Whether the state ends its machine or branch (`End: true`, Succeed or Fail). */
  readonly end: boolean;
  /** Parallel: one sub-machine per entry of `Branches`. */
  readonly branches?: readonly StateMachine[];
  /** Map: the machine each item runs (`ItemProcessor`, or the legacy `Iterator`). */
  readonly processor?: StateMachine;
  /** Map: `INLINE` unless `ItemProcessor.ProcessorConfig.Mode` is `DISTRIBUTED`. */
  readonly mapMode?: 'INLINE' | 'DISTRIBUTED';
  /** Map, distributed: `STANDARD` or `EXPRESS` child executions. */
  readonly mapExecutionType?: 'STANDARD' | 'EXPRESS';
}

/** A validated state machine, or a Parallel branch / Map item processor within one. */
export interface StateMachine {
  readonly startAt: string;
  readonly states: ReadonlyMap<string, StateDefinition>;
  /** The query language states default to. @default 'JSONPath' */
  readonly queryLanguage: QueryLanguage;
  /** Top-level `TimeoutSeconds` (only on the outermost machine). */
  readonly timeoutSeconds?: number;
  readonly comment?: string;
  /** JSON pointer of this machine within the definition ('' for the top level). */
  readonly pointer: string;
  /** The machine's JSON exactly as written. */
  readonly raw: JsonObject;
}

/** Whether `value` is a JSON object (not an array, not null). */
export function isJsonObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Deep equality of two JSON values (object key order ignored). */
export function jsonEquals(a: Json, b: Json): boolean {
  if (a === b) return true;
  if (Array.isArray(a)) {
    return Array.isArray(b) && a.length === b.length && a.every((v, i) => jsonEquals(v, b[i]!));
  }
  if (isJsonObject(a) && isJsonObject(b)) {
    const ka = Object.keys(a);
    if (ka.length !== Object.keys(b).length) return false;
    return ka.every((k) => Object.hasOwn(b, k) && jsonEquals(a[k]!, b[k]!));
  }
  return false;
}

/** A deep copy of a JSON value. */
export function cloneJson<T extends Json>(value: T): T {
  return structuredClone(value);
}
