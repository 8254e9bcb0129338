// JSONata in states: `{% %}` templates, the `$states` variable, workflow variables, and AWS's
// extension functions ($partition, $range, $hash, $random, $uuid, $parse).

import { createHash } from 'node:crypto';
import jsonata from 'jsonata';
import { defaultEnvironment, seededRandom, type AslEnvironment } from './asl-environment.js';
import { isJsonObject, type Json, type JsonObject } from './asl-types.js';
import { STATES_ERRORS, StatesError } from './states-errors.js';

/** What `$states` holds while a field is evaluated. */
export interface StatesBinding {
  readonly input: Json;
  readonly context: Json;
  readonly result?: Json;
  readonly errorOutput?: Json;
}

/** Everything a JSONata expression can see. */
export interface JsonataScope {
  readonly states: StatesBinding;
  /** Workflow variables in scope (outer merged under inner). */
  readonly variables: Readonly<Record<string, Json>>;
}

/** Whether a string is a whole JSONata template: `{% expression %}`. */
export function isJsonataTemplate(value: unknown): value is string {
  return typeof value === 'string' && value.startsWith('{%') && value.endsWith('%}') && value.length >= 4;
}

/** The expression inside `{% %}`. */
export function templateBody(template: string): string {
  return template.slice(2, -2).trim();
}

type Expr = ReturnType<typeof jsonata>;
const cache = new Map<string, Expr>();

function compile(source: string): Expr {
  const hit = cache.get(source);
  if (hit) return hit;
  const expr = jsonata(source);
  if (cache.size > 2000) cache.clear();
  cache.set(source, expr);
  return expr;
}

/** The syntax error in `source` (an expression, without `{% %}`), or undefined when it parses. */
export function jsonataSyntaxError(source: string): string | undefined {
  if (source.trim() === '') return 'the expression is empty';
  try {
    compile(source);
    return undefined;
  } catch (err) {
    return (err as { message?: string }).message ?? String(err);
  }
}

/** Evaluates one JSONata expression (without `{% %}`); `undefined` when it yields nothing. */
export async function evaluateJsonata(
  source: string,
  field: string,
  scope: JsonataScope,
  env: AslEnvironment = defaultEnvironment,
): Promise<Json | undefined> {
  let expr: Expr;
  try {
    expr = compile(source);
  } catch (err) {
    throw queryError(source, field, err);
  }
  const bindings: Record<string, unknown> = {
    ...scope.variables,
    states: scope.states,
    ...awsFunctions(env),
  };
  let value: unknown;
  try {
    value = await expr.evaluate(scope.states.input, bindings);
  } catch (err) {
    throw queryError(source, field, err);
  }
  return toJson(value, source, field);
}

/**
 * Evaluates a field value that may hold `{% %}` templates anywhere inside (a string, or in
 * object values and array elements). A template that yields nothing at the top fails with
 * States.QueryEvaluationError; inside an object the field is left out, as AWS does.
 */
export async function evaluateJsonataValue(
  value: Json,
  field: string,
  scope: JsonataScope,
  env: AslEnvironment = defaultEnvironment,
): Promise<Json> {
  const out = await evalInner(value, field, scope, env);
  if (out === undefined) {
    throw new StatesError(
      STATES_ERRORS.QueryEvaluationError,
      `The JSONata expression in the field '${field}' returned nothing (undefined)`,
    );
  }
  return out;
}

async function evalInner(
  value: Json,
  field: string,
  scope: JsonataScope,
  env: AslEnvironment,
): Promise<Json | undefined> {
  if (isJsonataTemplate(value)) return evaluateJsonata(templateBody(value), field, scope, env);
  if (Array.isArray(value)) {
    const out: Json[] = [];
    for (const v of value) {
      const r = await evalInner(v, field, scope, env);
      if (r !== undefined) out.push(r);
    }
    return out;
  }
  if (isJsonObject(value)) {
    const out: JsonObject = {};
    for (const [k, v] of Object.entries(value)) {
      const r = await evalInner(v, `${field}.${k}`, scope, env);
      if (r !== undefined) out[k] = r;
    }
    return out;
  }
  return value;
}

function toJson(value: unknown, source: string, field: string): Json | undefined {
  if (value === undefined) return undefined;
  if (typeof value === 'function') {
    throw new StatesError(
      STATES_ERRORS.QueryEvaluationError,
      `The JSONata expression '${source}' in the field '${field}' returned a function, not a JSON value`,
    );
  }
  if (typeof value === 'number' && !Number.isFinite(value)) {
    throw new StatesError(
      STATES_ERRORS.QueryEvaluationError,
      `The JSONata expression '${source}' in the field '${field}' returned a non-finite number`,
    );
  }
  // Sequences and other JSONata wrappers become plain JSON; functions inside are dropped.
  return JSON.parse(JSON.stringify(value)) as Json;
}

function queryError(source: string, field: string, err: unknown): StatesError {
  const message = (err as { message?: string }).message ?? String(err);
  if (err instanceof StatesError) return err;
  return new StatesError(
    STATES_ERRORS.QueryEvaluationError,
    `An error occurred while evaluating the JSONata expression '${source}' in the field '${field}': ${message}`,
  );
}

const HASH_ALGORITHMS: Readonly<Record<string, string>> = {
  MD5: 'md5',
  'SHA-1': 'sha1',
  'SHA-256': 'sha256',
  'SHA-384': 'sha384',
  'SHA-512': 'sha512',
};

function fnError(name: string, why: string): never {
  throw new StatesError(STATES_ERRORS.QueryEvaluationError, `${name}: ${why}`);
}

/** AWS's JSONata extension functions, bound per evaluation so randomness stays injectable. */
function awsFunctions(env: AslEnvironment): Record<string, unknown> {
  return {
    partition: (array: unknown, size: unknown) => {
      if (!Array.isArray(array)) fnError('$partition', 'the first argument must be an array');
      if (typeof size !== 'number' || !Number.isInteger(size) || size <= 0)
        fnError('$partition', 'the chunk size must be a positive integer');
      const out: unknown[] = [];
      for (let i = 0; i < array.length; i += size) out.push(array.slice(i, i + size));
      return out;
    },
    range: (start: unknown, end: unknown, step: unknown = 1) => {
      if (![start, end, step].every((v) => typeof v === 'number' && Number.isInteger(v)))
        fnError('$range', 'start, end and step must be integers');
      const [s, e, st] = [start as number, end as number, step as number];
      if (st === 0) fnError('$range', 'the step must not be 0');
      const out: number[] = [];
      for (let v = s; st > 0 ? v <= e : v >= e; v += st) {
        out.push(v);
        if (out.length > 1000) fnError('$range', 'the range has more than 1000 items');
      }
      return out;
    },
    hash: (data: unknown, algorithm: unknown) => {
      const alg = typeof algorithm === 'string' ? HASH_ALGORITHMS[algorithm] : undefined;
      if (!alg) fnError('$hash', `the algorithm must be one of ${Object.keys(HASH_ALGORITHMS).join(', ')}`);
      if (data === undefined || data === null) fnError('$hash', 'the data must not be null');
      const text = typeof data === 'string' ? data : JSON.stringify(data);
      return createHash(alg!).update(text, 'utf8').digest('hex');
    },
    random: (seed?: unknown) => {
      if (seed === undefined) return env.random();
      if (typeof seed !== 'number' || !Number.isInteger(seed))
        fnError('$random', 'the seed must be an integer');
      return seededRandom(seed as number)();
    },
    uuid: () => env.uuid(),
    parse: (text: unknown) => {
      if (typeof text !== 'string') fnError('$parse', 'the argument must be a string');
      try {
        return JSON.parse(text as string) as unknown;
      } catch {
        return fnError('$parse', 'the argument is not valid JSON');
      }
    },
    eval: () => fnError('$eval', 'is not supported in Step Functions'),
  };
}
