// Parses intrinsic function calls (`States.Format('{} items', $.count)`) into a small tree.

/** One argument of an intrinsic call. */
export type IntrinsicArg =
  | { readonly kind: 'string'; readonly value: string; readonly raw: string }
  | { readonly kind: 'number'; readonly value: number }
  | { readonly kind: 'boolean'; readonly value: boolean }
  | { readonly kind: 'null' }
  | { readonly kind: 'path'; readonly path: string }
  | IntrinsicCall;

/** A call: `States.<name>(args)`. */
export interface IntrinsicCall {
  readonly kind: 'call';
  readonly name: string;
  readonly args: readonly IntrinsicArg[];
}

/** Argument count each function accepts: [min, max]. */
export const INTRINSIC_ARITY: Readonly<Record<string, readonly [number, number]>> = {
  'States.Format': [1, Infinity],
  'States.StringToJson': [1, 1],
  'States.JsonToString': [1, 1],
  'States.Array': [0, Infinity],
  'States.ArrayPartition': [2, 2],
  'States.ArrayContains': [2, 2],
  'States.ArrayRange': [3, 3],
  'States.ArrayGetItem': [2, 2],
  'States.ArrayLength': [1, 1],
  'States.ArrayUnique': [1, 1],
  'States.Base64Encode': [1, 1],
  'States.Base64Decode': [1, 1],
  'States.Hash': [2, 2],
  'States.JsonMerge': [3, 3],
  'States.MathRandom': [2, 3],
  'States.MathAdd': [2, 2],
  'States.StringSplit': [2, 2],
  'States.UUID': [0, 0],
};

/** A malformed intrinsic call. */
export class IntrinsicSyntaxError extends Error {}

/** Whether a `.$` value is an intrinsic call rather than a path. */
export function looksLikeIntrinsic(value: string): boolean {
  return /^\s*States\./.test(value);
}

const cache = new Map<string, IntrinsicCall>();

/** Parses `source` (cached); throws IntrinsicSyntaxError with a message that names the fix. */
export function parseIntrinsic(source: string): IntrinsicCall {
  const hit = cache.get(source);
  if (hit) return hit;
  const p = new Parser(source);
  p.space();
  const call = p.call();
  p.space();
  if (p.pos < source.length) p.fail(`unexpected '${source.slice(p.pos)}' after the call`);
  if (cache.size > 2000) cache.clear();
  cache.set(source, call);
  return call;
}

class Parser {
  pos = 0;
  readonly src: string;
  constructor(src: string) {
    this.src = src;
  }
  space(): void {
    while (this.src[this.pos] === ' ') this.pos++;
  }
  fail(why: string): never {
    throw new IntrinsicSyntaxError(`invalid intrinsic function '${this.src}': ${why}`);
  }
  call(): IntrinsicCall {
    const m = /^States\.[A-Za-z0-9]+/.exec(this.src.slice(this.pos));
    if (!m) this.fail('expected States.<Function>(...)');
    const name = m[0];
    const arity = INTRINSIC_ARITY[name];
    if (!arity)
      this.fail(`'${name}' is not an intrinsic function (see the States.* list in docs/workflows.md)`);
    this.pos += name.length;
    if (this.src[this.pos] !== '(') this.fail(`'${name}' must be followed by (`);
    this.pos++;
    const args: IntrinsicArg[] = [];
    this.space();
    if (this.src[this.pos] === ')') this.pos++;
    else {
      for (;;) {
        args.push(this.arg());
        this.space();
        const c = this.src[this.pos];
        this.pos++;
        if (c === ')') break;
        if (c !== ',') this.fail("expected ',' or ')' between arguments");
        this.space();
      }
    }
    if (args.length < arity[0] || args.length > arity[1]) {
      const want =
        arity[0] === arity[1]
          ? `${arity[0]}`
          : arity[1] === Infinity
            ? `at least ${arity[0]}`
            : `${arity[0]} or ${arity[1]}`;
      this.fail(`${name} takes ${want} argument(s), got ${args.length}`);
    }
    return { kind: 'call', name, args };
  }
  arg(): IntrinsicArg {
    const rest = this.src.slice(this.pos);
    if (rest.startsWith('States.')) return this.call();
    if (rest.startsWith("'")) return this.string();
    if (rest.startsWith('$')) return this.path();
    const m = /^(-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?|true|false|null)(?=\s*[,)])/.exec(rest);
    if (!m)
      this.fail(
        `bad argument at '${rest}': use a 'string', a number, true/false/null, a $path or a States.* call`,
      );
    this.pos += m[0].length;
    if (m[1] === 'null') return { kind: 'null' };
    if (m[1] === 'true' || m[1] === 'false') return { kind: 'boolean', value: m[1] === 'true' };
    return { kind: 'number', value: Number(m[1]) };
  }
  string(): IntrinsicArg {
    const start = ++this.pos;
    let value = '';
    while (this.pos < this.src.length && this.src[this.pos] !== "'") {
      if (this.src[this.pos] === '\\') {
        const next = this.src[this.pos + 1];
        if (next === undefined || !"'{}\\".includes(next))
          this.fail(`'\\${next ?? ''}' is not an escape: escape only ' { } and \\ with a backslash`);
        value += next;
        this.pos += 2;
      } else value += this.src[this.pos++];
    }
    if (this.pos >= this.src.length) this.fail('unterminated string literal');
    const raw = this.src.slice(start, this.pos);
    this.pos++;
    return { kind: 'string', value, raw };
  }
  path(): IntrinsicArg {
    const start = this.pos;
    let depth = 0;
    let quote = '';
    while (this.pos < this.src.length) {
      const c = this.src[this.pos]!;
      if (quote) {
        if (c === '\\') this.pos++;
        else if (c === quote) quote = '';
      } else if (c === "'" || c === '"') quote = c;
      else if (c === '[' || c === '(') depth++;
      else if (c === ']' || (c === ')' && depth > 0)) depth--;
      else if (depth === 0 && (c === ',' || c === ')')) break;
      this.pos++;
    }
    return { kind: 'path', path: this.src.slice(start, this.pos).trim() };
  }
}

/** Every path an intrinsic call reads (for validation). */
export function intrinsicPaths(call: IntrinsicCall): string[] {
  return call.args.flatMap((a) =>
    a.kind === 'path' ? [a.path] : a.kind === 'call' ? intrinsicPaths(a) : [],
  );
}
