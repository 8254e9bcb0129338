// Choice rules in JSONPath states: comparison operators (and their *Path forms), type tests,
// StringMatches wildcards, and the And/Or/Not combinators.

import { isJsonObject, type Json, type JsonObject } from './asl-types.js';
import { readPath, type PathRoots } from './json-path.js';
import { STATES_ERRORS, StatesError } from './states-errors.js';
import { compareInstants, isTimestamp, parseTimestamp } from './timestamps.js';

type Kind = 'String' | 'Numeric' | 'Boolean' | 'Timestamp';
type Relation = 'Equals' | 'LessThan' | 'GreaterThan' | 'LessThanEquals' | 'GreaterThanEquals';

/** Every comparison operator, mapped to the type it compares and how. */
export const COMPARISON_OPERATORS: ReadonlyMap<
  string,
  { kind: Kind | 'Matches'; relation: Relation; path: boolean }
> = (() => {
  const m = new Map<string, { kind: Kind | 'Matches'; relation: Relation; path: boolean }>();
  const relations: Relation[] = ['Equals', 'LessThan', 'GreaterThan', 'LessThanEquals', 'GreaterThanEquals'];
  for (const kind of ['String', 'Numeric', 'Timestamp'] as const) {
    for (const relation of relations) {
      m.set(`${kind}${relation}`, { kind, relation, path: false });
      m.set(`${kind}${relation}Path`, { kind, relation, path: true });
    }
  }
  m.set('BooleanEquals', { kind: 'Boolean', relation: 'Equals', path: false });
  m.set('BooleanEqualsPath', { kind: 'Boolean', relation: 'Equals', path: true });
  m.set('StringMatches', { kind: 'Matches', relation: 'Equals', path: false });
  return m;
})();

/** The type-test operators; each takes a boolean. */
export const TYPE_TEST_OPERATORS: ReadonlySet<string> = new Set([
  'IsNull',
  'IsPresent',
  'IsNumeric',
  'IsString',
  'IsBoolean',
  'IsTimestamp',
]);

/** Whether a JSONPath choice rule matches. A missing Variable is States.Runtime, except for IsPresent. */
export function evaluateChoiceRule(rule: JsonObject, roots: PathRoots): boolean {
  if (Array.isArray(rule.And)) return rule.And.every((r) => evaluateChoiceRule(r as JsonObject, roots));
  if (Array.isArray(rule.Or)) return rule.Or.some((r) => evaluateChoiceRule(r as JsonObject, roots));
  if (isJsonObject(rule.Not)) return !evaluateChoiceRule(rule.Not, roots);
  const variable = rule.Variable as string;
  const read = readPath(variable, roots);
  if ('IsPresent' in rule) return read.found === rule.IsPresent;
  if (!read.found) {
    throw new StatesError(
      STATES_ERRORS.Runtime,
      `Invalid path '${variable}': The choice state's condition path references an invalid value.`,
    );
  }
  const value = read.value;
  for (const [op, expected] of Object.entries(rule)) {
    if (TYPE_TEST_OPERATORS.has(op)) return typeTest(op, value) === expected;
    const spec = COMPARISON_OPERATORS.get(op);
    if (!spec) continue;
    let operand: Json = expected;
    if (spec.path) {
      const other = readPath(expected as string, roots);
      if (!other.found) {
        throw new StatesError(
          STATES_ERRORS.Runtime,
          `Invalid path '${String(expected)}': The choice state's condition path references an invalid value.`,
        );
      }
      operand = other.value;
    }
    if (spec.kind === 'Matches') return typeof value === 'string' && stringMatches(value, operand as string);
    return compare(spec.kind, spec.relation, value, operand);
  }
  return false;
}

function typeTest(op: string, value: Json): boolean {
  switch (op) {
    case 'IsNull':
      return value === null;
    case 'IsNumeric':
      return typeof value === 'number';
    case 'IsString':
      return typeof value === 'string';
    case 'IsBoolean':
      return typeof value === 'boolean';
    case 'IsTimestamp':
      return isTimestamp(value);
    default:
      return false;
  }
}

function compare(kind: Kind, relation: Relation, a: Json, b: Json): boolean {
  let order: number;
  if (kind === 'String') {
    if (typeof a !== 'string' || typeof b !== 'string') return false;
    order = a < b ? -1 : a > b ? 1 : 0;
  } else if (kind === 'Numeric') {
    if (typeof a !== 'number' || typeof b !== 'number') return false;
    order = a - b;
  } else if (kind === 'Boolean') {
    return typeof a === 'boolean' && a === b;
  } else {
    const x = parseTimestamp(a);
    const y = parseTimestamp(b);
    if (!x || !y) return false;
    order = compareInstants(x, y);
  }
  switch (relation) {
    case 'Equals':
      return order === 0;
    case 'LessThan':
      return order < 0;
    case 'GreaterThan':
      return order > 0;
    case 'LessThanEquals':
      return order <= 0;
    case 'GreaterThanEquals':
      return order >= 0;
  }
}

/** StringMatches: `*` matches any run of characters; `\*` is a literal star, `\\` a backslash. */
export function stringMatches(value: string, pattern: string): boolean {
  let re = '^';
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i]!;
    if (c === '\\' && (pattern[i + 1] === '*' || pattern[i + 1] === '\\')) {
      re += `\\${pattern[++i]}`;
    } else if (c === '*') re += '[\\s\\S]*';
    else re += c.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
  }
  return new RegExp(`${re}$`).test(value);
}
