// SNS subscription filter policies: validation (with the path and the fix) and matching against
// message attributes or a JSON message body. Pure: no I/O, no clock.

import { NimbusError } from '../../errors.js';

/** Which part of a message a filter policy looks at (SNS `FilterPolicyScope`). */
export type FilterPolicyScope = 'MessageAttributes' | 'MessageBody';

/** A message attribute as published (SNS's shape; `DataType` String, Number, Binary, String.Array). */
export interface FilterAttribute {
  readonly DataType: string;
  readonly StringValue?: string | undefined;
  readonly BinaryValue?: string | undefined;
}

/** What a filter policy is matched against. */
export interface FilterInput {
  readonly attributes: Readonly<Record<string, FilterAttribute>>;
  /** The message as published (parsed as JSON for the MessageBody scope). */
  readonly message: string;
}

/** A validated, compiled filter policy. */
export interface FilterPolicy {
  readonly scope: FilterPolicyScope;
  /** The policy as given (for listings). */
  readonly source: Readonly<Record<string, unknown>>;
  /** True when the message passes the policy. */
  matches(input: FilterInput): boolean;
}

type Scalar = string | number | boolean | null;

type Condition =
  | { readonly kind: 'exact'; readonly value: Scalar }
  | { readonly kind: 'prefix' | 'suffix' | 'equals-ignore-case'; readonly value: string }
  | { readonly kind: 'anything-but'; readonly values: readonly Scalar[] }
  | { readonly kind: 'anything-but-prefix' | 'anything-but-suffix'; readonly value: string }
  | { readonly kind: 'numeric'; readonly test: (n: number) => boolean }
  | { readonly kind: 'exists'; readonly value: boolean };

interface Level {
  /** Leaf keys: every one must match (AND); within a key, any condition (OR). */
  readonly leaves: ReadonlyArray<{ readonly key: string; readonly conditions: readonly Condition[] }>;
  /** Nested keys (MessageBody scope only). */
  readonly nested: ReadonlyArray<{ readonly key: string; readonly level: Level }>;
  /** `$or` groups: at least one alternative of each group must match. */
  readonly ors: ReadonlyArray<readonly Level[]>;
}

const OPERATORS = new Set(['prefix', 'suffix', 'equals-ignore-case', 'anything-but', 'numeric', 'exists']);
const NUMERIC_OPS = new Set(['=', '<', '<=', '>', '>=']);
/** SNS's limits: at most 150 value combinations, at most 5 levels of nesting. */
const MAX_COMBINATIONS = 150;
const MAX_DEPTH = 5;

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

function invalid(path: string, problem: string): never {
  throw new NimbusError('InvalidParameterValueException', `${path}: ${problem}`);
}

const show = (v: unknown): string => JSON.stringify(v) ?? String(v);

function compileNumeric(path: string, spec: unknown): (n: number) => boolean {
  const fix = 'write it as ["=", 5], [">", 0] or a range [">", 0, "<=", 100]';
  if (!Array.isArray(spec) || (spec.length !== 2 && spec.length !== 4)) {
    invalid(path, `numeric must be an operator and a number, or two of them; ${fix}`);
  }
  const pairs: Array<[string, number]> = [];
  for (let i = 0; i < spec.length; i += 2) {
    const op: unknown = spec[i];
    const value: unknown = spec[i + 1];
    if (typeof op !== 'string' || !NUMERIC_OPS.has(op)) {
      invalid(`${path}[${i}]`, `unknown numeric operator ${show(op)}; use =, <, <=, > or >=`);
    }
    if (typeof value !== 'number' || !Number.isFinite(value)) {
      invalid(`${path}[${i + 1}]`, `numeric needs a number after ${show(op)} (unquoted); got ${show(value)}`);
    }
    pairs.push([op, value]);
  }
  if (pairs.length === 1) {
    const [op, v] = pairs[0]!;
    return op === '='
      ? (n) => n === v
      : op === '<'
        ? (n) => n < v
        : op === '<='
          ? (n) => n <= v
          : op === '>'
            ? (n) => n > v
            : (n) => n >= v;
  }
  const [[lowOp, low], [highOp, high]] = pairs as [[string, number], [string, number]];
  if ((lowOp !== '>' && lowOp !== '>=') || (highOp !== '<' && highOp !== '<=')) {
    invalid(path, `a numeric range is a lower bound (> or >=) then an upper bound (< or <=); ${fix}`);
  }
  if (!(low < high)) invalid(path, `the lower bound ${low} must be below the upper bound ${high}`);
  return (n) => (lowOp === '>' ? n > low : n >= low) && (highOp === '<' ? n < high : n <= high);
}

function compileAnythingBut(path: string, spec: unknown): Condition {
  if (isObject(spec)) {
    const keys = Object.keys(spec);
    const key = keys[0];
    if (
      keys.length !== 1 ||
      (key !== 'prefix' && key !== 'suffix') ||
      typeof spec[key] !== 'string' ||
      spec[key] === ''
    ) {
      invalid(
        path,
        `anything-but takes a value, a list of values, or { "prefix": "..." } / { "suffix": "..." }; got ${show(spec)}`,
      );
    }
    return {
      kind: key === 'prefix' ? 'anything-but-prefix' : 'anything-but-suffix',
      value: spec[key] as string,
    };
  }
  const values = Array.isArray(spec) ? spec : [spec];
  if (values.length === 0) invalid(path, 'anything-but needs at least one value');
  values.forEach((v, i) => {
    if (typeof v !== 'string' && !(typeof v === 'number' && Number.isFinite(v))) {
      invalid(
        Array.isArray(spec) ? `${path}[${i}]` : path,
        `anything-but values are strings or numbers; got ${show(v)}`,
      );
    }
  });
  return { kind: 'anything-but', values: values as Scalar[] };
}

function compileOperator(path: string, spec: Record<string, unknown>, scope: FilterPolicyScope): Condition {
  const keys = Object.keys(spec);
  if (keys.length !== 1) {
    invalid(
      path,
      `an operator object has exactly one key (prefix, suffix, equals-ignore-case, anything-but, numeric, exists); got ${show(spec)}`,
    );
  }
  const op = keys[0]!;
  const value = spec[op];
  const at = `${path}.${op}`;
  switch (op) {
    case 'prefix':
    case 'suffix':
    case 'equals-ignore-case':
      if (typeof value !== 'string' || value === '')
        invalid(at, `${op} takes a non-empty string; got ${show(value)}`);
      return { kind: op, value };
    case 'anything-but':
      return compileAnythingBut(at, value);
    case 'numeric':
      return { kind: 'numeric', test: compileNumeric(at, value) };
    case 'exists':
      if (typeof value !== 'boolean') invalid(at, `exists takes true or false; got ${show(value)}`);
      return { kind: 'exists', value };
    default:
      return invalid(
        path,
        `unknown operator ${show(op)}; use prefix, suffix, equals-ignore-case, anything-but, numeric or exists` +
          (scope === 'MessageBody' ? '' : ' (nested keys need filterPolicyScope: MessageBody)'),
      );
  }
}

function compileConditions(path: string, values: readonly unknown[], scope: FilterPolicyScope): Condition[] {
  if (values.length === 0)
    invalid(path, 'an empty list matches nothing; give at least one value or operator');
  return values.map((v, i) => {
    const at = `${path}[${i}]`;
    if (typeof v === 'string') return { kind: 'exact', value: v };
    if (typeof v === 'number') {
      if (!Number.isFinite(v)) invalid(at, `numbers must be finite; got ${show(v)}`);
      return { kind: 'exact', value: v };
    }
    if (typeof v === 'boolean' || v === null) {
      if (scope !== 'MessageBody')
        invalid(at, `${show(v)} only matches JSON bodies; use filterPolicyScope: MessageBody or a string`);
      return { kind: 'exact', value: v };
    }
    if (isObject(v)) return compileOperator(at, v, scope);
    return invalid(
      at,
      `expected a string, a number or an operator object such as { "prefix": "a" }; got ${show(v)}`,
    );
  });
}

function compileLevel(
  path: string,
  policy: Record<string, unknown>,
  scope: FilterPolicyScope,
  depth: number,
  counter: { combos: number },
): Level {
  if (depth > MAX_DEPTH) invalid(path, `nesting is limited to ${MAX_DEPTH} levels`);
  const keys = Object.keys(policy);
  if (keys.length === 0)
    invalid(path, 'an empty policy object; give at least one key, or omit the filter policy');
  const leaves: Array<{ key: string; conditions: Condition[] }> = [];
  const nested: Array<{ key: string; level: Level }> = [];
  const ors: Level[][] = [];
  for (const key of keys) {
    const value = policy[key];
    const at = `${path}.${key}`;
    if (key === '$or') {
      if (!Array.isArray(value) || value.length < 2 || !value.every(isObject)) {
        invalid(at, '$or takes a list of at least two policy objects, e.g. [{ "a": ["x"] }, { "b": ["y"] }]');
      }
      ors.push(
        (value as Array<Record<string, unknown>>).map((alt, i) =>
          compileLevel(`${at}[${i}]`, alt, scope, depth, counter),
        ),
      );
      continue;
    }
    if (Array.isArray(value)) {
      leaves.push({ key, conditions: compileConditions(at, value, scope) });
      counter.combos *= value.length;
    } else if (isObject(value)) {
      const opKeys = Object.keys(value);
      // A bare operator object (`color: { prefix: bl }`) is read as a one-element list; in the
      // MessageBody scope objects are nested keys, as SNS reads them, unless wrapped in a list.
      if (scope === 'MessageAttributes') {
        if (opKeys.length === 1 && OPERATORS.has(opKeys[0]!)) {
          leaves.push({ key, conditions: [compileOperator(at, value, scope)] });
        } else {
          invalid(
            at,
            `nested keys need filterPolicyScope: MessageBody; for an attribute write a list of values or an operator, e.g. ["a", { "prefix": "b" }]`,
          );
        }
      } else {
        nested.push({ key, level: compileLevel(at, value, scope, depth + 1, counter) });
      }
    } else {
      // A single value is read as a one-element list (SNS requires the list; this is lenient).
      leaves.push({ key, conditions: compileConditions(at, [value], scope) });
    }
    if (counter.combos > MAX_COMBINATIONS) {
      invalid(
        path,
        `too many value combinations (over ${MAX_COMBINATIONS}, as SNS limits); split the subscription`,
      );
    }
  }
  return { leaves, nested, ors };
}

// --- matching -------------------------------------------------------------------------------

/** The values found at a key: undefined when absent; [] when present but not matchable (Binary). */
type Found = readonly Scalar[] | undefined;

function attributeValues(attr: FilterAttribute | undefined): Found {
  if (attr === undefined) return undefined;
  const type = attr.DataType.split('.')[0];
  const raw = attr.StringValue;
  if (attr.DataType.endsWith('.Array') && raw !== undefined) {
    try {
      const parsed: unknown = JSON.parse(raw);
      if (Array.isArray(parsed))
        return parsed.filter((v): v is Scalar => v === null || typeof v !== 'object');
    } catch {
      return [];
    }
    return [];
  }
  if (raw === undefined) return [];
  if (type === 'Number') {
    const n = Number(raw);
    return Number.isFinite(n) ? [n] : [];
  }
  if (type === 'String') return [raw];
  return [];
}

function bodyValues(node: unknown): Found {
  if (node === undefined) return undefined;
  const flat = Array.isArray(node) ? node : [node];
  return flat.filter((v): v is Scalar => v === null || typeof v !== 'object');
}

function testCondition(c: Condition, found: Found): boolean {
  if (c.kind === 'exists') return c.value === (found !== undefined);
  if (found === undefined) return false;
  return found.some((v) => {
    switch (c.kind) {
      case 'exact':
        return v === c.value;
      case 'prefix':
        return typeof v === 'string' && v.startsWith(c.value);
      case 'suffix':
        return typeof v === 'string' && v.endsWith(c.value);
      case 'equals-ignore-case':
        return typeof v === 'string' && v.toLowerCase() === c.value.toLowerCase();
      case 'anything-but':
        return !c.values.includes(v);
      case 'anything-but-prefix':
        return typeof v === 'string' && !v.startsWith(c.value);
      case 'anything-but-suffix':
        return typeof v === 'string' && !v.endsWith(c.value);
      case 'numeric':
        return typeof v === 'number' && c.test(v);
    }
  });
}

function matchLevel(level: Level, lookup: (key: string) => Found, child: (key: string) => unknown): boolean {
  for (const leaf of level.leaves) {
    const found = lookup(leaf.key);
    if (!leaf.conditions.some((c) => testCondition(c, found))) return false;
  }
  for (const n of level.nested) {
    const sub = child(n.key);
    // An array of objects matches when any of its objects does.
    const objects = (Array.isArray(sub) ? sub : [sub]).filter(isObject);
    const absent = () => undefined;
    const ok =
      objects.some((o) =>
        matchLevel(
          n.level,
          (k) => bodyValues(o[k]),
          (k) => o[k],
        ),
      ) ||
      // A nested level made only of `exists: false` also matches when the parent is absent.
      (objects.length === 0 && matchLevel(n.level, absent, absent));
    if (!ok) return false;
  }
  return level.ors.every((alternatives) => alternatives.some((alt) => matchLevel(alt, lookup, child)));
}

/**
 * Validate and compile a filter policy. Throws `InvalidParameterValueException` naming the path
 * under `where` (e.g. `functions.work.events[0].topic.filterPolicy`) and how to fix it.
 */
export function compileFilterPolicy(
  policy: unknown,
  scope: FilterPolicyScope = 'MessageAttributes',
  where = 'filterPolicy',
): FilterPolicy {
  if (!isObject(policy)) {
    invalid(
      where,
      `a filter policy is a JSON object such as { "color": ["red", { "prefix": "bl" }] }; got ${show(policy)}`,
    );
  }
  const root = compileLevel(where, policy, scope, 1, { combos: 1 });
  const source = Object.freeze(structuredClone(policy));
  return Object.freeze({
    scope,
    source,
    matches(input: FilterInput): boolean {
      if (scope === 'MessageAttributes') {
        return matchLevel(
          root,
          (k) => attributeValues(input.attributes[k]),
          () => undefined,
        );
      }
      let body: unknown;
      try {
        body = JSON.parse(input.message);
      } catch {
        return false; // SNS: a body policy never matches a message that is not a JSON object
      }
      if (!isObject(body)) return false;
      const obj = body;
      return matchLevel(
        root,
        (k) => bodyValues(obj[k]),
        (k) => obj[k],
      );
    },
  });
}

/** Parse a filter policy scope as written; throws naming `where` when it is neither value. */
export function parseFilterPolicyScope(value: unknown, where = 'filterPolicyScope'): FilterPolicyScope {
  if (value === undefined || value === null) return 'MessageAttributes';
  if (value === 'MessageAttributes' || value === 'MessageBody') return value;
  return invalid(where, `must be MessageAttributes (the default) or MessageBody; got ${show(value)}`);
}
