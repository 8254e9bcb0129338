// A DynamoDB-flavoured condition expression: tokenizer, parser and evaluator over plain JSON items.
// Grammar (keywords case-insensitive):
//   cond    := and ('OR' and)*            and := not ('AND' not)*
//   not     := 'NOT' not | '(' cond ')' | func | operand cmp operand
//            | operand 'BETWEEN' operand 'AND' operand | operand 'IN' '(' operand (',' operand)* ')'
//   func    := attribute_exists(path) | attribute_not_exists(path) | begins_with(path, operand)
//            | contains(path, operand) | attribute_type(path, :type)
//   operand := path | :value | size(path)     path := name ('.' name | '[' n ']')*  (name or #name)
//   cmp     := = | <> | < | <= | > | >=

import { isDeepStrictEqual } from 'node:util';
import { NimbusError } from '../../errors.js';
import type { Item } from '../../store/ports/documents.js';
import { getPath } from './item-paths.js';
import type { PathStep } from './item-paths.js';

/** `#name` and `:value` placeholders of an expression. */
export interface ExpressionValues {
  /** `#n` → attribute name. */
  readonly names?: Readonly<Record<string, string>> | undefined;
  /** `:v` → plain JSON value. */
  readonly values?: Readonly<Record<string, unknown>> | undefined;
}

type Operand =
  | { readonly kind: 'path'; readonly path: PathStep[] }
  | { readonly kind: 'value'; readonly value: unknown }
  | { readonly kind: 'size'; readonly path: PathStep[] };

/** A parsed condition. */
export type Condition =
  | { readonly kind: 'and' | 'or'; readonly left: Condition; readonly right: Condition }
  | { readonly kind: 'not'; readonly inner: Condition }
  | { readonly kind: 'cmp'; readonly op: string; readonly left: Operand; readonly right: Operand }
  | { readonly kind: 'between'; readonly subject: Operand; readonly low: Operand; readonly high: Operand }
  | { readonly kind: 'in'; readonly subject: Operand; readonly list: Operand[] }
  | {
      readonly kind: 'fn';
      readonly name: string;
      readonly path: PathStep[];
      readonly arg?: Operand | undefined;
    };

const FUNCTIONS = new Set([
  'attribute_exists',
  'attribute_not_exists',
  'begins_with',
  'contains',
  'attribute_type',
]);
const COMPARATORS = new Set(['=', '<>', '<', '<=', '>', '>=']);
const TYPE_NAMES = new Set(['S', 'N', 'BOOL', 'NULL', 'M', 'L']);

interface Token {
  readonly text: string;
  readonly pos: number;
}

function tokenize(text: string, where: string): Token[] {
  const tokens: Token[] = [];
  const re = /\s*(<>|<=|>=|[=<>(),.[\]]|[#:]?[A-Za-z0-9_-]+)/gy;
  let m: RegExpExecArray | null;
  while (re.lastIndex < text.length) {
    const start = re.lastIndex;
    m = re.exec(text);
    if (m === null) {
      if (text.slice(start).trim() === '') break;
      throw syntax(where, text, `unexpected '${text.slice(start).trim()[0]}'`);
    }
    tokens.push({ text: m[1]!, pos: start });
  }
  return tokens;
}

function syntax(where: string, text: string, what: string): NimbusError {
  return new NimbusError(
    'ValidationException',
    `${where} '${text}' does not parse: ${what}. See docs/resources.md#tables for the syntax.`,
  );
}

/** Parses an expression, resolving `#names` and `:values`; throws ValidationException naming the problem. */
export function parseCondition(
  text: string,
  placeholders: ExpressionValues = {},
  where = 'Condition',
): Condition {
  const tokens = tokenize(text, where);
  let i = 0;
  const used = { names: new Set<string>(), values: new Set<string>() };
  const peek = (): string | undefined => tokens[i]?.text;
  const upper = (): string | undefined => peek()?.toUpperCase();
  const fail = (what: string): never => {
    throw syntax(where, text, what);
  };
  const expect = (t: string): void => {
    if (peek() !== t) fail(`expected '${t}' ${peek() === undefined ? 'at the end' : `before '${peek()}'`}`);
    i++;
  };

  const name = (token: string): string => {
    if (!token.startsWith('#')) return token;
    const resolved = placeholders.names?.[token];
    if (resolved === undefined) fail(`the name placeholder ${token} is not in names`);
    used.names.add(token);
    return resolved!;
  };

  const path = (): PathStep[] => {
    const first = peek();
    if (first === undefined || !/^#?[A-Za-z_][A-Za-z0-9_-]*$/.test(first))
      fail(`expected an attribute path, got '${first ?? 'the end'}'`);
    i++;
    const steps: PathStep[] = [name(first!)];
    for (;;) {
      if (peek() === '.') {
        i++;
        const next = peek();
        if (next === undefined || !/^#?[A-Za-z_][A-Za-z0-9_-]*$/.test(next)) fail('expected a name after .');
        i++;
        steps.push(name(next!));
      } else if (peek() === '[') {
        i++;
        const n = peek();
        if (n === undefined || !/^\d+$/.test(n)) fail('expected a list index in [ ]');
        i++;
        steps.push(Number(n));
        expect(']');
      } else return steps;
    }
  };

  const operand = (): Operand => {
    const t = peek();
    if (t === undefined) return fail('expected an operand at the end');
    if (t.startsWith(':')) {
      i++;
      if (
        placeholders.values === undefined ||
        !Object.prototype.hasOwnProperty.call(placeholders.values, t)
      ) {
        fail(`the value placeholder ${t} is not in values`);
      }
      used.values.add(t);
      return { kind: 'value', value: placeholders.values![t] };
    }
    if (t.toLowerCase() === 'size' && tokens[i + 1]?.text === '(') {
      i += 2;
      const p = path();
      expect(')');
      return { kind: 'size', path: p };
    }
    return { kind: 'path', path: path() };
  };

  const primary = (): Condition => {
    const t = peek();
    if (t === undefined) return fail('expected a condition at the end');
    if (t.toUpperCase() === 'NOT') {
      i++;
      return { kind: 'not', inner: primary() };
    }
    if (t === '(') {
      i++;
      const inner = or();
      expect(')');
      return inner;
    }
    if (FUNCTIONS.has(t.toLowerCase()) && tokens[i + 1]?.text === '(') {
      const fn = t.toLowerCase();
      i += 2;
      const p = path();
      let arg: Operand | undefined;
      if (fn !== 'attribute_exists' && fn !== 'attribute_not_exists') {
        expect(',');
        arg = operand();
      }
      expect(')');
      if (fn === 'attribute_type' && (arg?.kind !== 'value' || !TYPE_NAMES.has(String(arg.value)))) {
        fail('attribute_type takes a :value that is one of S, N, BOOL, NULL, M, L');
      }
      return { kind: 'fn', name: fn, path: p, arg };
    }
    const left = operand();
    const op = upper();
    if (op === 'BETWEEN') {
      i++;
      const low = operand();
      if (upper() !== 'AND') fail('BETWEEN needs AND between its bounds');
      i++;
      return { kind: 'between', subject: left, low, high: operand() };
    }
    if (op === 'IN') {
      i++;
      expect('(');
      const list = [operand()];
      while (peek() === ',') {
        i++;
        list.push(operand());
      }
      expect(')');
      return { kind: 'in', subject: left, list };
    }
    if (op === undefined || !COMPARATORS.has(op))
      return fail(
        `expected a comparator (= <> < <= > >=), BETWEEN or IN after the operand, got '${op ?? 'the end'}'`,
      );
    i++;
    return { kind: 'cmp', op, left, right: operand() };
  };

  const and = (): Condition => {
    let left = primary();
    while (upper() === 'AND') {
      i++;
      left = { kind: 'and', left, right: primary() };
    }
    return left;
  };

  function or(): Condition {
    let left = and();
    while (upper() === 'OR') {
      i++;
      left = { kind: 'or', left, right: and() };
    }
    return left;
  }

  const result = or();
  if (i < tokens.length) fail(`unexpected '${peek()}'`);
  // DynamoDB refuses unused placeholders; so do we, since they usually mean a typo.
  for (const n of Object.keys(placeholders.names ?? {}))
    if (!used.names.has(n)) fail(`the name placeholder ${n} is not used`);
  for (const v of Object.keys(placeholders.values ?? {}))
    if (!used.values.has(v)) fail(`the value placeholder ${v} is not used`);
  return result;
}

function resolve(operand: Operand, item: Item | undefined): unknown {
  if (operand.kind === 'value') return operand.value;
  const value = item === undefined ? undefined : getPath(item, operand.path);
  if (operand.kind === 'path') return value;
  if (typeof value === 'string') return Buffer.byteLength(value);
  if (Array.isArray(value)) return value.length;
  if (typeof value === 'object' && value !== null) return Object.keys(value).length;
  return undefined;
}

/** Ordered comparison: only number with number or string with string (bytewise, as DynamoDB). */
function order(a: unknown, b: unknown): number | undefined {
  if (typeof a === 'number' && typeof b === 'number') return a - b;
  if (typeof a === 'string' && typeof b === 'string') return Buffer.compare(Buffer.from(a), Buffer.from(b));
  return undefined;
}

function typeName(value: unknown): string | undefined {
  if (value === undefined) return undefined;
  if (value === null) return 'NULL';
  if (typeof value === 'string') return 'S';
  if (typeof value === 'number') return 'N';
  if (typeof value === 'boolean') return 'BOOL';
  return Array.isArray(value) ? 'L' : 'M';
}

/** Evaluates `condition` against `item` (undefined: no item). Missing attributes compare false, except `<>`. */
export function evaluateCondition(condition: Condition, item: Item | undefined): boolean {
  switch (condition.kind) {
    case 'and':
      return evaluateCondition(condition.left, item) && evaluateCondition(condition.right, item);
    case 'or':
      return evaluateCondition(condition.left, item) || evaluateCondition(condition.right, item);
    case 'not':
      return !evaluateCondition(condition.inner, item);
    case 'cmp': {
      const a = resolve(condition.left, item);
      const b = resolve(condition.right, item);
      if (condition.op === '=') return a !== undefined && isDeepStrictEqual(a, b);
      if (condition.op === '<>') return !(a !== undefined && isDeepStrictEqual(a, b));
      const c = order(a, b);
      if (c === undefined) return false;
      return condition.op === '<'
        ? c < 0
        : condition.op === '<='
          ? c <= 0
          : condition.op === '>'
            ? c > 0
            : c >= 0;
    }
    case 'between': {
      const v = resolve(condition.subject, item);
      const lo = order(v, resolve(condition.low, item));
      const hi = order(v, resolve(condition.high, item));
      return lo !== undefined && hi !== undefined && lo >= 0 && hi <= 0;
    }
    case 'in': {
      const v = resolve(condition.subject, item);
      return v !== undefined && condition.list.some((o) => isDeepStrictEqual(v, resolve(o, item)));
    }
    case 'fn': {
      const v = item === undefined ? undefined : getPath(item, condition.path);
      const arg = condition.arg === undefined ? undefined : resolve(condition.arg, item);
      switch (condition.name) {
        case 'attribute_exists':
          return v !== undefined;
        case 'attribute_not_exists':
          return v === undefined;
        case 'begins_with':
          return typeof v === 'string' && typeof arg === 'string' && v.startsWith(arg);
        case 'contains':
          if (typeof v === 'string') return typeof arg === 'string' && v.includes(arg);
          return Array.isArray(v) && v.some((e) => isDeepStrictEqual(e, arg));
        default:
          return typeName(v) === arg;
      }
    }
  }
}

/** Parse and evaluate in one step (for one-off checks). */
export function conditionHolds(
  text: string,
  placeholders: ExpressionValues,
  item: Item | undefined,
  where?: string,
): boolean {
  return evaluateCondition(parseCondition(text, placeholders, where), item);
}
