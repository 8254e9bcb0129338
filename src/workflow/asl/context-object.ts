// The context object (`$$` in JSONPath, `$states.context` in JSONata): facts about the
// execution, the current state, the task token and the current Map item.

import type { Json, JsonObject } from './asl-types.js';

/** Facts about the running execution, fixed for its lifetime. */
export interface ExecutionFacts {
  /** Execution ARN. */
  readonly id: string;
  /** The execution's input. */
  readonly input: Json;
  readonly name: string;
  readonly roleArn: string;
  /** ISO 8601 start time, e.g. `2024-01-01T00:00:00.000Z`. */
  readonly startTime: string;
  /** How many times the execution was redriven. @default 0 */
  readonly redriveCount?: number;
  /** State machine ARN and name. */
  readonly stateMachineId: string;
  readonly stateMachineName: string;
}

/** Facts about the state being run (the executor persists them between steps). */
export interface StateFacts {
  readonly name: string;
  /** ISO 8601 time the state was entered. */
  readonly enteredTime: string;
  /** Retries of this state so far (0 on the first attempt). */
  readonly retryCount: number;
}

/** The item a Map iteration processes (`$$.Map.Item`). */
export interface MapItemFacts {
  readonly index: number;
  readonly value: Json;
  /** Key of the item when the Map iterates over an object (JSONata `Items` object). */
  readonly key?: string;
  /** Where a distributed Map's item came from (e.g. `s3://bucket/key`). */
  readonly source?: string;
}

/** Builds the context object a state sees. */
export function buildContextObject(
  execution: ExecutionFacts,
  state: StateFacts,
  extra: { readonly taskToken?: string; readonly mapItem?: MapItemFacts } = {},
): JsonObject {
  const ctx: JsonObject = {
    Execution: {
      Id: execution.id,
      Input: execution.input,
      Name: execution.name,
      RoleArn: execution.roleArn,
      StartTime: execution.startTime,
      RedriveCount: execution.redriveCount ?? 0,
    },
    State: { EnteredTime: state.enteredTime, Name: state.name, RetryCount: state.retryCount },
    StateMachine: { Id: execution.stateMachineId, Name: execution.stateMachineName },
  };
  if (extra.taskToken !== undefined) ctx.Task = { Token: extra.taskToken };
  if (extra.mapItem) {
    const item: JsonObject = { Index: extra.mapItem.index, Value: extra.mapItem.value };
    if (extra.mapItem.key !== undefined) item.Key = extra.mapItem.key;
    if (extra.mapItem.source !== undefined) item.Source = extra.mapItem.source;
    ctx.Map = { Item: item };
  }
  return ctx;
}
