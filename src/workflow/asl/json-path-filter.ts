// JSONPath filter expressions (`[?(@.price < 10 && @.tags)]`), Jayway's operators.

import { jsonEquals, type Json } from './asl-types.js';

/** Reads a path (`@...` against the current item, `$...` against the input). */
export type FilterReader = (path: string, at: Json) => { found: true; value: Json } | { found: false };

/** A compiled filter. */
export interface FilterExpr {
  test(item: Json, read: FilterReader): boolean;
}

type Operand =
  | { kind: 'path'; path: string; current: boolean }
  | { kind: 'literal'; value: Json }
  | { kind: 'regex'; regex: RegExp };
type Node =
  | { kind: 'or' | 'and'; left: Node; right: Node }
  | { kind: 'not'; inner: Node }
  | { kind: 'exists'; operand: Operand }
  | { kind: 'compare'; op: string; left: Operand; right: Operand };

const OPS = ['==', '!=', '<=', '>=', '<', '>', '=~'];

/** Compiles a filter body (the text between `?(` and `)`); throws on bad syntax. */
export function parseFilter(body: string): FilterExpr {
  const p = new FilterParser(body);
  const node = p.or();
  p.skipSpace();
  if (!p.done()) throw new Error(`unexpected '${body.slice(p.pos)}'`);
  return { test: (item, read) => evalNode(node, item, read) };
}

class FilterParser {
  pos = 0;
  readonly src: string;
  constructor(src: string) {
    this.src = src;
  }
  done(): boolean {
    return this.pos >= this.src.length;
  }
  skipSpace(): void {
    while (this.src[this.pos] === ' ') this.pos++;
  }
  or(): Node {
    let left = this.and();
    for (;;) {
      this.skipSpace();
      if (!this.src.startsWith('||', this.pos)) return left;
      this.pos += 2;
      left = { kind: 'or', left, right: this.and() };
    }
  }
  and(): Node {
    let left = this.unary();
    for (;;) {
      this.skipSpace();
      if (!this.src.startsWith('&&', this.pos)) return left;
      this.pos += 2;
      left = { kind: 'and', left, right: this.unary() };
    }
  }
  unary(): Node {
    this.skipSpace();
    if (this.src[this.pos] === '!' && this.src[this.pos + 1] !== '=') {
      this.pos++;
      return { kind: 'not', inner: this.unary() };
    }
    if (this.src[this.pos] === '(') {
      this.pos++;
      const inner = this.or();
      this.skipSpace();
      if (this.src[this.pos] !== ')') throw new Error('missing )');
      this.pos++;
      return inner;
    }
    const left = this.operand();
    this.skipSpace();
    const op = OPS.find((o) => this.src.startsWith(o, this.pos));
    if (!op) {
      if (left.kind !== 'path') throw new Error('a literal alone is not a condition');
      return { kind: 'exists', operand: left };
    }
    this.pos += op.length;
    this.skipSpace();
    return { kind: 'compare', op, left, right: this.operand() };
  }
  operand(): Operand {
    this.skipSpace();
    const s = this.src;
    const c = s[this.pos];
    if (c === '@' || c === '$') {
      const start = this.pos;
      let depth = 0;
      let quote = '';
      while (this.pos < s.length) {
        const ch = s[this.pos]!;
        if (quote) {
          if (ch === quote) quote = '';
        } else if (ch === "'" || ch === '"') quote = ch;
        else if (ch === '[') depth++;
        else if (ch === ']') depth--;
        else if (depth === 0 && (' =!<>&|)'.includes(ch) || (ch === '(' && s[this.pos + 1] !== ')'))) break;
        this.pos++;
      }
      const text = s.slice(start, this.pos);
      return { kind: 'path', path: c === '@' ? `$${text.slice(1)}` : text, current: c === '@' };
    }
    if (c === "'" || c === '"') {
      let out = '';
      this.pos++;
      while (this.pos < s.length && s[this.pos] !== c) {
        if (s[this.pos] === '\\') this.pos++;
        out += s[this.pos++];
      }
      if (this.pos >= s.length) throw new Error('unterminated string');
      this.pos++;
      return { kind: 'literal', value: out };
    }
    if (c === '/') {
      const end = s.indexOf('/', this.pos + 1);
      if (end < 0) throw new Error('unterminated regex');
      const flags = /^[a-z]*/.exec(s.slice(end + 1))![0];
      const regex = new RegExp(s.slice(this.pos + 1, end), flags);
      this.pos = end + 1 + flags.length;
      return { kind: 'regex', regex };
    }
    const m = /^(-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?|true|false|null)/.exec(s.slice(this.pos));
    if (!m) throw new Error(`unexpected '${s.slice(this.pos)}'`);
    this.pos += m[0].length;
    return { kind: 'literal', value: JSON.parse(m[0]) as Json };
  }
}

function resolve(op: Operand, item: Json, read: FilterReader): { found: boolean; value?: Json } {
  if (op.kind === 'literal') return { found: true, value: op.value };
  if (op.kind === 'regex') return { found: false };
  if (op.current && op.path === '$') return { found: true, value: item };
  const r = read(op.path, item);
  return r.found ? r : { found: false };
}

function evalNode(node: Node, item: Json, read: FilterReader): boolean {
  switch (node.kind) {
    case 'or':
      return evalNode(node.left, item, read) || evalNode(node.right, item, read);
    case 'and':
      return evalNode(node.left, item, read) && evalNode(node.right, item, read);
    case 'not':
      return !evalNode(node.inner, item, read);
    case 'exists': {
      const r = resolve(node.operand, item, read);
      return (
        r.found &&
        !(
          Array.isArray(r.value) &&
          r.value.length === 0 &&
          node.operand.kind === 'path' &&
          /\[\?|\*|\.\./.test(node.operand.path)
        )
      );
    }
    case 'compare': {
      const l = resolve(node.left, item, read);
      if (node.right.kind === 'regex')
        return l.found && typeof l.value === 'string' && node.right.regex.test(l.value);
      const r = resolve(node.right, item, read);
      if (!l.found || !r.found) return node.op === '!=' && l.found !== r.found;
      return compare(node.op, l.value!, r.value!);
    }
  }
}

function compare(op: string, a: Json, b: Json): boolean {
  if (op === '==') return jsonEquals(a, b);
  if (op === '!=') return !jsonEquals(a, b);
  if (typeof a === 'number' && typeof b === 'number') {
    return op === '<' ? a < b : op === '<=' ? a <= b : op === '>' ? a > b : a >= b;
  }
  if (typeof a === 'string' && typeof b === 'string') {
    return op === '<' ? a < b : op === '<=' ? a <= b : op === '>' ? a > b : a >= b;
  }
  return false;
}
