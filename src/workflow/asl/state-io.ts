// Input and output processing shared by every state: InputPath/OutputPath/ResultPath,
// ResultSelector and Assign (JSONPath), Output and Assign (JSONata), and error handling
// through Retry and Catch.

import { defaultEnvironment, type AslEnvironment } from './asl-environment.js';
import type { Json, JsonObject, StateDefinition } from './asl-types.js';
import { buildContextObject } from './context-object.js';
import { evaluateJsonataValue, type JsonataScope, type StatesBinding } from './jsonata-eval.js';
import { mergeScopes, readPath, writeReferencePath, type PathRoots } from './json-path.js';
import { applyPayloadTemplate } from './payload-template.js';
import { decideRetry, findCatcher } from './retry-catch.js';
import { MAX_PAYLOAD_BYTES, STATES_ERRORS, StatesError } from './states-errors.js';
import type { StateOutcome, StepInput, TransitionOutcome } from './step-types.js';

/** What a step reads from: the context object, variables and environment, computed once. */
export interface StepScope {
  readonly context: JsonObject;
  readonly variables: Record<string, Json>;
  readonly env: AslEnvironment;
  /** JSONPath roots with `input` as `$`. */
  roots(input: Json): PathRoots;
  /** JSONata scope with `$states` holding the given parts. */
  jsonata(states: Omit<StatesBinding, 'context'>): JsonataScope;
}

/** Builds the scope of one step. */
export function stepScope(step: StepInput): StepScope {
  const f = step.frame;
  const context = buildContextObject(
    step.execution,
    { name: f.stateName, enteredTime: f.enteredTime, retryCount: f.retryCount },
    {
      ...(step.taskToken !== undefined ? { taskToken: step.taskToken } : {}),
      ...(step.mapItem ? { mapItem: step.mapItem } : {}),
    },
  );
  const variables = mergeScopes(step.variables);
  return {
    context,
    variables,
    env: step.env ?? defaultEnvironment,
    roots: (input) => ({ input, context, variables }),
    jsonata: (states) => ({ states: { ...states, context }, variables }),
  };
}

/** InputPath / OutputPath: `null` gives `{}`; a path that names nothing is States.Runtime. */
export function applyPath(value: Json, path: Json | undefined, field: string, scope: StepScope): Json {
  if (path === undefined) return value;
  if (path === null) return {};
  const r = readPath(path as string, scope.roots(value));
  if (!r.found)
    throw new StatesError(
      STATES_ERRORS.Runtime,
      `Invalid path '${String(path)}' for the field '${field}': No results for path in ${JSON.stringify(value)}`,
    );
  return r.value;
}

/** ResultPath: where the result goes in the raw input (`$` default: replace; null: discard). */
export function applyResultPath(rawInput: Json, path: Json | undefined, result: Json): Json {
  if (path === undefined || path === '$') return result;
  if (path === null) return rawInput;
  const out = writeReferencePath(rawInput, path as string, result);
  if (out === undefined) {
    throw new StatesError(
      STATES_ERRORS.ResultPathMatchFailure,
      `Unable to apply ResultPath '${String(path)}' to input ${JSON.stringify(rawInput)}: the path crosses a value that is not an object`,
    );
  }
  return out;
}

/** Builds a next/end outcome, failing with States.DataLimitExceeded when the output is too big. */
export function transition(
  def: StateDefinition,
  output: Json,
  assign: JsonObject | undefined,
  next = def.next,
): StateOutcome {
  const size = Buffer.byteLength(JSON.stringify(output) ?? 'null', 'utf8');
  if (size > MAX_PAYLOAD_BYTES) {
    return {
      kind: 'fail',
      error: STATES_ERRORS.DataLimitExceeded,
      cause: `The state/task '${def.name}' returned a result with a size exceeding the maximum number of bytes service limit (${size} > ${MAX_PAYLOAD_BYTES}).`,
    };
  }
  const out: TransitionOutcome =
    next === undefined ? { kind: 'end', output } : { kind: 'next', next, output };
  return assign === undefined ? out : { ...out, assign };
}

/** Evaluates an Assign block: JSONPath with `$` = `jsonPathRoot`, JSONata with `$states` = `states`. */
export async function evaluateAssign(
  def: StateDefinition,
  assign: Json | undefined,
  scope: StepScope,
  jsonPathRoot: Json,
  states: Omit<StatesBinding, 'context'>,
): Promise<JsonObject | undefined> {
  if (assign === undefined) return undefined;
  if (def.queryLanguage === 'JSONPath')
    return applyPayloadTemplate(assign, scope.roots(jsonPathRoot), scope.env) as JsonObject;
  return (await evaluateJsonataValue(assign, 'Assign', scope.jsonata(states), scope.env)) as JsonObject;
}

/**
 * Finishes a Task, Parallel or Map with its result: ResultSelector, Assign, ResultPath and
 * OutputPath (JSONPath), or Assign and Output (JSONata).
 */
export async function finishWithResult(
  step: StepInput,
  def: StateDefinition,
  result: Json,
): Promise<StateOutcome> {
  const scope = stepScope(step);
  const raw = def.raw;
  const input = step.frame.input;
  try {
    if (def.queryLanguage === 'JSONata') {
      const states = { input, result };
      const assign = await evaluateAssign(def, raw.Assign, scope, result, states);
      const output =
        raw.Output === undefined
          ? result
          : await evaluateJsonataValue(raw.Output, 'Output', scope.jsonata(states), scope.env);
      return transition(def, output, assign);
    }
    const selected =
      raw.ResultSelector === undefined
        ? result
        : applyPayloadTemplate(raw.ResultSelector, scope.roots(result), scope.env);
    const assign = await evaluateAssign(def, raw.Assign, scope, selected, { input, result });
    const combined = applyResultPath(input, raw.ResultPath, selected);
    return transition(def, applyPath(combined, raw.OutputPath, 'OutputPath', scope), assign);
  } catch (err) {
    return handleStateError(step, def, err);
  }
}

/** Turns a thrown error into a failure: retried, caught, or failing the execution. */
export async function handleStateError(
  step: StepInput,
  def: StateDefinition,
  err: unknown,
): Promise<StateOutcome> {
  if (!(err instanceof StatesError)) throw err;
  return handleError(step, def, err.error, err.causeText);
}

/** Applies the state's Retry, then Catch, to an error. */
export async function handleError(
  step: StepInput,
  def: StateDefinition,
  error: string,
  cause: string,
): Promise<StateOutcome> {
  const raw = def.raw;
  const env = step.env ?? defaultEnvironment;
  const f = step.frame;
  const decision = decideRetry(raw.Retry, error, f.retryAttempts, env.random);
  if (decision.retry) {
    return {
      kind: 'retry',
      delaySeconds: decision.delaySeconds,
      frame: { ...f, retryCount: f.retryCount + 1, retryAttempts: decision.attempts },
      error,
      cause,
      retrierIndex: decision.retrierIndex,
    };
  }
  const found = findCatcher(raw.Catch, error);
  if (!found) return { kind: 'fail', error, cause };
  const { catcher, index } = found;
  const scope = stepScope(step);
  const errorOutput: JsonObject = { Error: error, Cause: cause };
  const states = { input: f.input, errorOutput };
  try {
    const assign = await evaluateAssign(def, catcher.Assign, scope, errorOutput, states);
    const output =
      def.queryLanguage === 'JSONata'
        ? catcher.Output === undefined
          ? errorOutput
          : await evaluateJsonataValue(catcher.Output, 'Output', scope.jsonata(states), scope.env)
        : applyResultPath(f.input, catcher.ResultPath, errorOutput);
    const out = transition(def, output, assign, catcher.Next as string);
    return out.kind === 'next' ? { ...out, caught: { error, cause, catcherIndex: index } } : out;
  } catch (e) {
    if (!(e instanceof StatesError)) throw e;
    return { kind: 'fail', error: e.error, cause: e.causeText };
  }
}
