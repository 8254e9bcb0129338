// Validation of one state: its type, query language, allowed fields, transition fields and
// the type-specific rules (Task resources and timeouts, Wait, Fail, Choice, Parallel, Map).

import {
  isJsonObject,
  type Json,
  type JsonObject,
  type QueryLanguage,
  type StateDefinition,
  type StateMachine,
  type StateType,
} from './asl-types.js';
import { allowedStateFields, fieldOfOtherLanguage, MAX_SECONDS, STATE_TYPES } from './definition-schema.js';
import { pointer, type DiagnosticSink } from './diagnostics.js';
import { isJsonataTemplate } from './jsonata-eval.js';
import { isTimestamp } from './timestamps.js';
import { checkChoices } from './validate-choice.js';
import { checkCatch, checkRetry } from './validate-error-handling.js';
import { checkMapFields } from './validate-map.js';
import {
  checkAssign,
  checkIntegerOrJsonata,
  checkJsonataTemplate,
  checkJsonataValue,
  checkPath,
  checkPayloadTemplate,
  exclusive,
} from './validate-values.js';

/** Validates a nested machine (Parallel branch, Map processor) in its own variable scope. */
export type SubMachineValidator = (
  raw: Json,
  at: string,
  kind: 'branch' | 'processor',
  language: QueryLanguage,
  outerVariables: ReadonlySet<string>,
) => StateMachine | undefined;

/** What validating one state needs to know about where it sits. */
export interface StateCheckContext {
  readonly sink: DiagnosticSink;
  /** JSON pointer of the state. */
  readonly at: string;
  readonly name: string;
  readonly machineLanguage: QueryLanguage;
  /** Variables assigned by enclosing scopes (an inner state must not assign them). */
  readonly outerVariables: ReadonlySet<string>;
  /** Variables visible in this state's scope (outer ones plus those assigned at this level). */
  readonly scopeVariables: ReadonlySet<string>;
  readonly subMachine: SubMachineValidator;
}

/** A checked state: its definition (when valid enough to run), its outgoing transitions and assigned variables. */
export interface CheckedState {
  readonly definition?: StateDefinition;
  readonly transitions: Array<{ next: string; at: string; field: string }>;
  readonly assigned: string[];
  readonly terminal: boolean;
}

const ARN = /^arn:[a-z0-9-]+:[a-z0-9-]+:[a-z0-9-]*:[0-9]*:\S+$/;
const FLOW_TYPES: ReadonlySet<StateType> = new Set(['Pass', 'Task', 'Wait', 'Parallel', 'Map']);

/** Validates one state. */
export function checkState(ctx: StateCheckContext, raw: Json): CheckedState {
  const { sink, at } = ctx;
  const none: CheckedState = { transitions: [], assigned: [], terminal: false };
  if (!isJsonObject(raw)) {
    sink.error('SCHEMA_VALIDATION_FAILED', at, `State '${ctx.name}' must be an OBJECT with a 'Type'`);
    return none;
  }
  const type = raw.Type;
  if (typeof type !== 'string' || !(STATE_TYPES as readonly string[]).includes(type)) {
    sink.error(
      'SCHEMA_VALIDATION_FAILED',
      type === undefined ? at : pointer(at, 'Type'),
      `The field 'Type' must be one of ${STATE_TYPES.join(', ')}${type === undefined ? '' : ` (got ${JSON.stringify(type)})`}`,
    );
    return none;
  }
  const stateType = type as StateType;
  const language = stateLanguage(ctx, raw);
  const allowed = allowedStateFields(stateType, language);
  for (const key of Object.keys(raw)) {
    if (allowed.has(key)) continue;
    const hint = fieldOfOtherLanguage(stateType, language, key)
      ? language === 'JSONata'
        ? `; it is JSONPath syntax: in JSONata states use Arguments/Output/Items and '{% %}' expressions, or set "QueryLanguage": "JSONPath" on the state`
        : `; it is JSONata syntax: set "QueryLanguage": "JSONata" on the state or the state machine`
      : `; ${stateType} states accept ${[...allowed].join(', ')}`;
    sink.error(
      'SCHEMA_VALIDATION_FAILED',
      pointer(at, key),
      `Field '${key}' is not supported by ${stateType} states${hint}`,
    );
  }

  const transitions: CheckedState['transitions'] = [];
  let end = stateType === 'Succeed' || stateType === 'Fail';
  if (FLOW_TYPES.has(stateType)) {
    if (raw.End !== undefined && raw.End !== true)
      sink.error(
        'SCHEMA_VALIDATION_FAILED',
        pointer(at, 'End'),
        "The value for the field 'End' must be true; to continue, use 'Next' instead",
      );
    if (raw.Next !== undefined && typeof raw.Next !== 'string')
      sink.error(
        'SCHEMA_VALIDATION_FAILED',
        pointer(at, 'Next'),
        "The value for the field 'Next' must be a STRING naming a state",
      );
    if (raw.Next !== undefined && raw.End !== undefined)
      sink.error('SCHEMA_VALIDATION_FAILED', at, `State '${ctx.name}' has both 'Next' and 'End'; keep one`);
    if (raw.Next === undefined && raw.End === undefined)
      sink.error(
        'SCHEMA_VALIDATION_FAILED',
        at,
        `State '${ctx.name}' needs 'Next' (the state to go to) or "End": true`,
      );
    if (typeof raw.Next === 'string')
      transitions.push({ next: raw.Next, at: pointer(at, 'Next'), field: 'Next' });
    end = raw.End === true;
  }

  const inputSide = { noResult: true };
  const outputRules = { noResult: !['Task', 'Parallel', 'Map'].includes(stateType) };
  if (language === 'JSONPath') {
    checkPath(sink, pointer(at, 'InputPath'), 'InputPath', raw.InputPath, { nullable: true });
    checkPath(sink, pointer(at, 'OutputPath'), 'OutputPath', raw.OutputPath, { nullable: true });
    checkPath(sink, pointer(at, 'ResultPath'), 'ResultPath', raw.ResultPath, {
      nullable: true,
      reference: true,
    });
    for (const f of ['Parameters', 'ResultSelector'] as const) {
      if (raw[f] === undefined) continue;
      if (f === 'ResultSelector' && !isJsonObject(raw[f]))
        sink.error(
          'SCHEMA_VALIDATION_FAILED',
          pointer(at, f),
          `The value for the field '${f}' must be an OBJECT`,
        );
      else checkPayloadTemplate(sink, pointer(at, f), f, raw[f]!);
    }
    if (stateType === 'Pass' && raw.Result !== undefined)
      checkStaticResult(sink, pointer(at, 'Result'), raw.Result);
  } else {
    if (raw.Output !== undefined)
      checkJsonataValue(sink, pointer(at, 'Output'), 'Output', raw.Output, outputRules);
    if (raw.Arguments !== undefined) {
      if (!isJsonObject(raw.Arguments) && !isJsonataTemplate(raw.Arguments)) {
        sink.error(
          'SCHEMA_VALIDATION_FAILED',
          pointer(at, 'Arguments'),
          "The value for the field 'Arguments' must be an OBJECT or a JSONata template '{% ... %}'",
        );
      } else checkJsonataValue(sink, pointer(at, 'Arguments'), 'Arguments', raw.Arguments, inputSide);
    }
  }
  const assigned = checkAssign(sink, pointer(at, 'Assign'), raw.Assign, language, outputRules);

  let branches: StateMachine[] | undefined;
  let map: Pick<StateDefinition, 'processor' | 'mapMode' | 'mapExecutionType'> = {};
  switch (stateType) {
    case 'Task':
      checkTask(sink, at, raw, language);
      break;
    case 'Wait':
      checkWait(sink, at, raw, language);
      break;
    case 'Fail':
      checkFail(sink, at, raw, language);
      break;
    case 'Choice':
      for (const c of checkChoices(sink, at, raw.Choices, language))
        transitions.push({ ...c, field: 'Next' });
      if (raw.Default !== undefined) {
        if (typeof raw.Default !== 'string')
          sink.error(
            'SCHEMA_VALIDATION_FAILED',
            pointer(at, 'Default'),
            "The value for the field 'Default' must be a STRING naming a state",
          );
        else transitions.push({ next: raw.Default, at: pointer(at, 'Default'), field: 'Default' });
      }
      if (Array.isArray(raw.Choices))
        for (const r of raw.Choices)
          if (isJsonObject(r) && isJsonObject(r.Assign))
            assigned.push(...Object.keys(r.Assign).map((k) => k.replace(/\.\$$/, '')));
      break;
    case 'Parallel': {
      const inner = new Set([...ctx.scopeVariables, ...assigned]);
      if (!Array.isArray(raw.Branches) || raw.Branches.length === 0) {
        sink.error(
          'SCHEMA_VALIDATION_FAILED',
          raw.Branches === undefined ? at : pointer(at, 'Branches'),
          "A Parallel state needs 'Branches': a non-empty ARRAY of { StartAt, States }",
        );
      } else {
        branches = [];
        raw.Branches.forEach((b, i) => {
          const m = ctx.subMachine(b, pointer(at, 'Branches', i), 'branch', language, inner);
          if (m) branches!.push(m);
        });
      }
      break;
    }
    case 'Map':
      map = checkMapFields(sink, at, raw, language, ctx, assigned);
      break;
  }
  if (stateType === 'Task' || stateType === 'Parallel' || stateType === 'Map') {
    checkRetry(sink, pointer(at, 'Retry'), raw.Retry);
    const caught = checkCatch(sink, pointer(at, 'Catch'), raw.Catch, language);
    for (const c of caught.nexts) transitions.push({ ...c, field: 'Next' });
    assigned.push(...caught.assigned);
  }
  for (const name of new Set(assigned)) {
    if (ctx.outerVariables.has(name)) {
      sink.error(
        'SCHEMA_VALIDATION_FAILED',
        pointer(at, 'Assign'),
        `Variable '${name}' belongs to an outer scope: states inside a Parallel branch or Map can read it but not assign it; use another name, or pass the value out through the state's output`,
      );
    }
  }

  const definition: StateDefinition = {
    name: ctx.name,
    type: stateType,
    queryLanguage: language,
    raw,
    end,
    ...(typeof raw.Next === 'string' ? { next: raw.Next } : {}),
    ...(branches ? { branches } : {}),
    ...map,
  };
  return { definition, transitions, assigned, terminal: end };
}

function stateLanguage(ctx: StateCheckContext, raw: JsonObject): QueryLanguage {
  const q = raw.QueryLanguage;
  if (q === undefined) return ctx.machineLanguage;
  if (q !== 'JSONPath' && q !== 'JSONata') {
    ctx.sink.error(
      'SCHEMA_VALIDATION_FAILED',
      pointer(ctx.at, 'QueryLanguage'),
      'The value for the field \'QueryLanguage\' must be "JSONPath" or "JSONata"',
    );
    return ctx.machineLanguage;
  }
  if (q === 'JSONPath' && ctx.machineLanguage === 'JSONata') {
    ctx.sink.error(
      'SCHEMA_VALIDATION_FAILED',
      pointer(ctx.at, 'QueryLanguage'),
      "A state cannot use JSONPath when the state machine uses JSONata; remove the state's QueryLanguage or set the top-level QueryLanguage to JSONPath",
    );
  }
  return q;
}

function checkStaticResult(sink: DiagnosticSink, at: string, result: Json): void {
  if (typeof result === 'string' && /^\$/.test(result)) {
    sink.warn(
      'PASS_RESULT_IS_STATIC',
      at,
      "'Result' is static: a path in it is not evaluated; use Parameters with a '.$' field to read from the input",
    );
  }
}

function checkTask(sink: DiagnosticSink, at: string, raw: JsonObject, language: QueryLanguage): void {
  if (raw.Resource === undefined)
    sink.error(
      'SCHEMA_VALIDATION_FAILED',
      at,
      "A Task state needs 'Resource': the ARN of a function, activity or service integration",
    );
  else if (typeof raw.Resource !== 'string' || !ARN.test(raw.Resource)) {
    sink.error(
      'INVALID_RESOURCE',
      pointer(at, 'Resource'),
      `The resource ${JSON.stringify(raw.Resource)} is not a valid ARN; use a function ARN (arn:aws:lambda:<region>:<account>:function:<name>) or a service integration such as arn:aws:states:::lambda:invoke`,
    );
  }
  for (const base of ['TimeoutSeconds', 'HeartbeatSeconds'] as const) {
    checkIntegerOrJsonata(sink, pointer(at, base), base, raw[base], 1, MAX_SECONDS, language);
    if (language === 'JSONPath') {
      exclusive(sink, at, raw, [base, `${base}Path`]);
      checkPath(sink, pointer(at, `${base}Path`), `${base}Path`, raw[`${base}Path`]);
    }
  }
  if (
    typeof raw.TimeoutSeconds === 'number' &&
    typeof raw.HeartbeatSeconds === 'number' &&
    raw.HeartbeatSeconds >= raw.TimeoutSeconds
  ) {
    sink.error(
      'SCHEMA_VALIDATION_FAILED',
      pointer(at, 'HeartbeatSeconds'),
      "'HeartbeatSeconds' must be smaller than 'TimeoutSeconds'",
    );
  }
  if (raw.Credentials !== undefined) {
    if (!isJsonObject(raw.Credentials))
      sink.error(
        'SCHEMA_VALIDATION_FAILED',
        pointer(at, 'Credentials'),
        "The value for the field 'Credentials' must be an OBJECT with 'RoleArn'",
      );
    else if (language === 'JSONPath')
      checkPayloadTemplate(sink, pointer(at, 'Credentials'), 'Credentials', raw.Credentials);
    else
      checkJsonataValue(sink, pointer(at, 'Credentials'), 'Credentials', raw.Credentials, { noResult: true });
  }
}

function checkWait(sink: DiagnosticSink, at: string, raw: JsonObject, language: QueryLanguage): void {
  const fields =
    language === 'JSONPath'
      ? ['Seconds', 'Timestamp', 'SecondsPath', 'TimestampPath']
      : ['Seconds', 'Timestamp'];
  exclusive(sink, at, raw, fields, true);
  checkIntegerOrJsonata(sink, pointer(at, 'Seconds'), 'Seconds', raw.Seconds, 0, MAX_SECONDS, language);
  if (raw.Timestamp !== undefined) {
    if (language === 'JSONata' && isJsonataTemplate(raw.Timestamp))
      checkJsonataTemplate(sink, pointer(at, 'Timestamp'), 'Timestamp', raw.Timestamp, { noResult: true });
    else if (!isTimestamp(raw.Timestamp))
      sink.error(
        'SCHEMA_VALIDATION_FAILED',
        pointer(at, 'Timestamp'),
        "The value for the field 'Timestamp' must be an RFC 3339 timestamp such as '2016-03-14T01:59:00Z' (uppercase T and Z)",
      );
  }
  if (language === 'JSONPath') {
    checkPath(sink, pointer(at, 'SecondsPath'), 'SecondsPath', raw.SecondsPath);
    checkPath(sink, pointer(at, 'TimestampPath'), 'TimestampPath', raw.TimestampPath);
  }
}

function checkFail(sink: DiagnosticSink, at: string, raw: JsonObject, language: QueryLanguage): void {
  for (const f of ['Error', 'Cause'] as const) {
    const v = raw[f];
    if (v !== undefined && typeof v !== 'string')
      sink.error(
        'SCHEMA_VALIDATION_FAILED',
        pointer(at, f),
        `The value for the field '${f}' must be a STRING`,
      );
    if (language === 'JSONata' && isJsonataTemplate(v))
      checkJsonataTemplate(sink, pointer(at, f), f, v, { noResult: true });
    if (language === 'JSONPath') {
      exclusive(sink, at, raw, [f, `${f}Path`]);
      checkPath(sink, pointer(at, `${f}Path`), `${f}Path`, raw[`${f}Path`], { intrinsic: true });
    }
  }
}
