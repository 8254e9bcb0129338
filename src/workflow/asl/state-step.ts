// The pure step API the durable executor drives: evaluateState (enter a state and say what
// happens next) and completeState (a task, branch set or Map finished; apply its result).

import { defaultEnvironment } from './asl-environment.js';
import type { Json, JsonObject, StateDefinition } from './asl-types.js';
import { evaluateChoiceRule } from './choice-rules.js';
import { evaluateJsonata, evaluateJsonataValue, isJsonataTemplate, templateBody } from './jsonata-eval.js';
import { readPath } from './json-path.js';
import { mapFailureExceeded, prepareMap } from './map-items.js';
import { applyPayloadTemplate, resolveDynamicValue } from './payload-template.js';
import {
  applyPath,
  applyResultPath,
  evaluateAssign,
  finishWithResult,
  handleError,
  handleStateError,
  stepScope,
  transition,
  type StepScope,
} from './state-io.js';
import { STATES_ERRORS, StatesError } from './states-errors.js';
import type {
  MapOutcome,
  StateFrame,
  StateOutcome,
  StepInput,
  TaskResult,
  TransitionOutcome,
  VariableScopes,
} from './step-types.js';
import { parseTimestamp } from './timestamps.js';

export { mapFailureExceeded };

/** A fresh frame for entering `stateName` with `input` at `now`. */
export function enterState(stateName: string, input: Json, now: Date = defaultEnvironment.now()): StateFrame {
  return { stateName, input, enteredTime: now.toISOString(), retryCount: 0, retryAttempts: [] };
}

/** Variable scopes after a state's Assign took effect (a new array; the innermost scope is updated). */
export function applyAssign(scopes: VariableScopes, assign: JsonObject | undefined): JsonObject[] {
  const out = scopes.length === 0 ? [{}] : scopes.map((s) => s);
  if (assign) out[out.length - 1] = { ...out[out.length - 1], ...assign };
  return out;
}

/** Scopes for a Parallel branch or Map iteration: outer ones read-only, plus a fresh inner one; a distributed Map starts empty. */
export function innerScopes(scopes: VariableScopes, outcome?: Pick<MapOutcome, 'mode'>): JsonObject[] {
  return outcome?.mode === 'DISTRIBUTED' ? [{}] : [...scopes, {}];
}

function stateOf(step: StepInput): StateDefinition {
  const def = step.machine.states.get(step.frame.stateName);
  if (!def) throw new Error(`state '${step.frame.stateName}' is not in this state machine`);
  return def;
}

/** Enters the state in `step.frame` and says what happens next. */
export async function evaluateState(step: StepInput): Promise<StateOutcome> {
  const def = stateOf(step);
  try {
    switch (def.type) {
      case 'Pass':
        return await evaluatePass(step, def);
      case 'Task':
        return await evaluateTask(step, def);
      case 'Choice':
        return await evaluateChoice(step, def);
      case 'Wait':
        return await evaluateWait(step, def);
      case 'Succeed':
        return await evaluateSucceed(step, def);
      case 'Fail':
        return await evaluateFail(step, def);
      case 'Parallel':
        return await evaluateParallel(step, def);
      case 'Map':
        return await prepareMap(step, def);
    }
  } catch (err) {
    // Task, Parallel and Map errors go through Retry/Catch; the others have neither.
    return handleStateError(step, def, err);
  }
}

/**
 * Completes a Task, Parallel or Map with its result (a task's output, the array of branch
 * outputs, the array of item results) or its error (e.g. `States.Timeout`, a function's
 * `errorType`), applying Retry, Catch or the output fields.
 */
export async function completeState(step: StepInput, result: TaskResult): Promise<StateOutcome> {
  const def = stateOf(step);
  if (!result.ok) return handleError(step, def, result.error, result.cause);
  return finishWithResult(step, def, result.value);
}

/** Input after InputPath (JSONPath) or the raw input (JSONata). */
function effectiveInput(step: StepInput, def: StateDefinition, scope: StepScope): Json {
  return def.queryLanguage === 'JSONPath'
    ? applyPath(step.frame.input, def.raw.InputPath, 'InputPath', scope)
    : step.frame.input;
}

/** Parameters (JSONPath) or Arguments (JSONata); the effective input when absent. */
async function parametersOf(def: StateDefinition, input: Json, scope: StepScope): Promise<Json> {
  if (def.queryLanguage === 'JSONPath')
    return def.raw.Parameters === undefined
      ? input
      : applyPayloadTemplate(def.raw.Parameters, scope.roots(input), scope.env);
  return def.raw.Arguments === undefined
    ? input
    : evaluateJsonataValue(def.raw.Arguments, 'Arguments', scope.jsonata({ input }), scope.env);
}

/** Pass-through states (Wait, Choice, Succeed): OutputPath of the effective input, or Output. */
async function passThrough(
  step: StepInput,
  def: StateDefinition,
  scope: StepScope,
  input: Json,
  output: Json | undefined = def.raw.Output,
): Promise<Json> {
  if (def.queryLanguage === 'JSONPath') return applyPath(input, def.raw.OutputPath, 'OutputPath', scope);
  return output === undefined
    ? step.frame.input
    : evaluateJsonataValue(output, 'Output', scope.jsonata({ input: step.frame.input }), scope.env);
}

async function evaluatePass(step: StepInput, def: StateDefinition): Promise<StateOutcome> {
  const scope = stepScope(step);
  const raw = def.raw;
  if (def.queryLanguage === 'JSONata') {
    const states = { input: step.frame.input };
    const assign = await evaluateAssign(def, raw.Assign, scope, step.frame.input, states);
    return transition(def, await passThrough(step, def, scope, step.frame.input), assign);
  }
  const input = effectiveInput(step, def, scope);
  const result = raw.Result !== undefined ? raw.Result : await parametersOf(def, input, scope);
  const assign = await evaluateAssign(def, raw.Assign, scope, result, { input: step.frame.input });
  const combined = applyResultPath(step.frame.input, raw.ResultPath, result);
  return transition(def, applyPath(combined, raw.OutputPath, 'OutputPath', scope), assign);
}

async function evaluateTask(step: StepInput, def: StateDefinition): Promise<StateOutcome> {
  const scope = stepScope(step);
  const input = effectiveInput(step, def, scope);
  const parameters = await parametersOf(def, input, scope);
  const seconds = async (field: 'TimeoutSeconds' | 'HeartbeatSeconds'): Promise<number | undefined> => {
    const v = def.raw[field];
    if (typeof v === 'number') return v;
    if (isJsonataTemplate(v)) {
      const r = await evaluateJsonata(templateBody(v), field, scope.jsonata({ input }), scope.env);
      if (typeof r !== 'number' || !Number.isInteger(r) || r <= 0)
        throw new StatesError(
          STATES_ERRORS.QueryEvaluationError,
          `The field '${field}' must evaluate to a positive integer (got ${JSON.stringify(r)})`,
        );
      return r;
    }
    const path = def.raw[`${field}Path`];
    if (typeof path !== 'string') return undefined;
    const r = readPath(path, scope.roots(input));
    if (!r.found || typeof r.value !== 'number' || !Number.isInteger(r.value) || r.value <= 0) {
      throw new StatesError(
        STATES_ERRORS.Runtime,
        `The value at '${path}' for the field '${field}Path' must be a positive integer`,
      );
    }
    return r.value;
  };
  const timeoutSeconds = await seconds('TimeoutSeconds');
  const heartbeatSeconds = await seconds('HeartbeatSeconds');
  let credentials: Json | undefined;
  const cred = def.raw.Credentials;
  if (cred !== undefined) {
    credentials =
      def.queryLanguage === 'JSONPath'
        ? applyPayloadTemplate(cred, scope.roots(input), scope.env)
        : await evaluateJsonataValue(cred, 'Credentials', scope.jsonata({ input }), scope.env);
  }
  return {
    kind: 'task',
    resource: def.raw.Resource as string,
    parameters,
    ...(timeoutSeconds !== undefined ? { timeoutSeconds } : {}),
    ...(heartbeatSeconds !== undefined ? { heartbeatSeconds } : {}),
    ...(credentials !== undefined ? { credentials } : {}),
  };
}

async function evaluateChoice(step: StepInput, def: StateDefinition): Promise<StateOutcome> {
  const scope = stepScope(step);
  const input = effectiveInput(step, def, scope);
  const rules = (def.raw.Choices ?? []) as JsonObject[];
  let matched: JsonObject | undefined;
  for (const rule of rules) {
    if (def.queryLanguage === 'JSONPath') {
      if (evaluateChoiceRule(rule, scope.roots(input))) matched = rule;
    } else {
      const cond = rule.Condition;
      const value = isJsonataTemplate(cond)
        ? await evaluateJsonata(templateBody(cond), 'Condition', scope.jsonata({ input }), scope.env)
        : cond;
      if (typeof value !== 'boolean') {
        throw new StatesError(
          STATES_ERRORS.QueryEvaluationError,
          `The Condition of a choice rule in state '${def.name}' must evaluate to a boolean (got ${JSON.stringify(value)})`,
        );
      }
      if (value) matched = rule;
    }
    if (matched) break;
  }
  const next = matched ? (matched.Next as string) : (def.raw.Default as string | undefined);
  if (next === undefined) {
    return {
      kind: 'fail',
      error: STATES_ERRORS.NoChoiceMatched,
      cause: `No Matches! State '${def.name}' matched none of its choice rules and has no Default`,
    };
  }
  // A matched rule's own Assign/Output take the place of the state's.
  const assignField = matched && matched.Assign !== undefined ? matched.Assign : def.raw.Assign;
  const outputField = matched && matched.Output !== undefined ? matched.Output : def.raw.Output;
  const assign = await evaluateAssign(def, assignField, scope, input, { input: step.frame.input });
  return transition(def, await passThrough(step, def, scope, input, outputField), assign, next);
}

async function evaluateWait(step: StepInput, def: StateDefinition): Promise<StateOutcome> {
  const scope = stepScope(step);
  const raw = def.raw;
  const input = effectiveInput(step, def, scope);
  const jsonataValue = async (field: string): Promise<Json | undefined> => {
    const v = raw[field];
    return isJsonataTemplate(v)
      ? evaluateJsonata(templateBody(v), field, scope.jsonata({ input }), scope.env)
      : v;
  };
  const error = def.queryLanguage === 'JSONata' ? STATES_ERRORS.QueryEvaluationError : STATES_ERRORS.Runtime;
  let seconds: Json | undefined =
    def.queryLanguage === 'JSONata' ? await jsonataValue('Seconds') : raw.Seconds;
  let timestamp: Json | undefined =
    def.queryLanguage === 'JSONata' ? await jsonataValue('Timestamp') : raw.Timestamp;
  if (typeof raw.SecondsPath === 'string')
    seconds = resolveDynamicValue('SecondsPath', raw.SecondsPath, scope.roots(input), scope.env);
  if (typeof raw.TimestampPath === 'string')
    timestamp = resolveDynamicValue('TimestampPath', raw.TimestampPath, scope.roots(input), scope.env);
  let untilMs: number;
  if (seconds !== undefined) {
    if (typeof seconds !== 'number' || !Number.isInteger(seconds) || seconds < 0)
      throw new StatesError(
        error,
        `The Wait state '${def.name}' needs a non-negative integer number of seconds (got ${JSON.stringify(seconds)})`,
      );
    untilMs = Date.parse(step.frame.enteredTime) + seconds * 1000;
  } else {
    const t = parseTimestamp(timestamp);
    if (!t)
      throw new StatesError(
        error,
        `The Wait state '${def.name}' needs an RFC 3339 timestamp such as '2016-03-14T01:59:00Z' (got ${JSON.stringify(timestamp)})`,
      );
    untilMs = t.epochMs;
  }
  const assign = await evaluateAssign(def, raw.Assign, scope, input, { input: step.frame.input });
  const then = transition(def, await passThrough(step, def, scope, input), assign);
  if (then.kind === 'fail') return then;
  return { kind: 'wait', until: new Date(untilMs).toISOString(), then: then as TransitionOutcome };
}

async function evaluateSucceed(step: StepInput, def: StateDefinition): Promise<StateOutcome> {
  const scope = stepScope(step);
  const input = effectiveInput(step, def, scope);
  return transition(def, await passThrough(step, def, scope, input), undefined, undefined);
}

async function evaluateFail(step: StepInput, def: StateDefinition): Promise<StateOutcome> {
  const scope = stepScope(step);
  const raw = def.raw;
  const text = async (field: 'Error' | 'Cause'): Promise<string | undefined> => {
    let v: Json | undefined = raw[field];
    if (def.queryLanguage === 'JSONata' && isJsonataTemplate(v))
      v = await evaluateJsonata(
        templateBody(v),
        field,
        scope.jsonata({ input: step.frame.input }),
        scope.env,
      );
    const path = raw[`${field}Path`];
    if (typeof path === 'string')
      v = resolveDynamicValue(`${field}Path`, path, scope.roots(step.frame.input), scope.env);
    if (v !== undefined && typeof v !== 'string') {
      throw new StatesError(
        def.queryLanguage === 'JSONata' ? STATES_ERRORS.QueryEvaluationError : STATES_ERRORS.Runtime,
        `The ${field} of Fail state '${def.name}' must be a string (got ${JSON.stringify(v)})`,
      );
    }
    return v;
  };
  const error = await text('Error');
  const cause = await text('Cause');
  return { kind: 'fail', error: error ?? '', cause: cause ?? '' };
}

async function evaluateParallel(step: StepInput, def: StateDefinition): Promise<StateOutcome> {
  const scope = stepScope(step);
  const input = await parametersOf(def, effectiveInput(step, def, scope), scope);
  return { kind: 'parallel', branches: def.branches ?? [], input };
}
