// JSONPath as Step Functions reads it (Jayway semantics): parsing, reading paths against the
// input, the context object `$$` and variables `$name`, and writing reference paths (ResultPath).

import { isJsonObject, type Json, type JsonObject } from './asl-types.js';
import { parseFilter, type FilterExpr } from './json-path-filter.js';

/** One step of a path. */
export type PathSegment =
  | { readonly kind: 'name'; readonly name: string }
  | { readonly kind: 'index'; readonly index: number }
  | { readonly kind: 'names'; readonly names: readonly string[] }
  | { readonly kind: 'indexes'; readonly indexes: readonly number[] }
  | { readonly kind: 'wildcard' }
  | { readonly kind: 'slice'; readonly start?: number; readonly end?: number; readonly step?: number }
  | { readonly kind: 'descendant'; readonly next: PathSegment }
  | { readonly kind: 'filter'; readonly expr: FilterExpr }
  | { readonly kind: 'function'; readonly name: 'length' | 'min' | 'max' | 'avg' | 'sum' };

/** A parsed path: what it starts from, and its segments. */
export interface ParsedPath {
  /** `$` the input, `$$` the context object, or a variable (`$name`). */
  readonly root:
    | { readonly kind: 'input' }
    | { readonly kind: 'context' }
    | { readonly kind: 'variable'; readonly name: string };
  readonly segments: readonly PathSegment[];
  /** True when the path names at most one node (no wildcard, slice, filter, union or `..`). */
  readonly definite: boolean;
  readonly source: string;
}

/** The data a path is read against. */
export interface PathRoots {
  readonly input: Json;
  readonly context?: Json;
  /** Variables in scope (outer scopes merged under inner ones). */
  readonly variables?: Readonly<Record<string, Json>>;
}

/** A path that does not parse. */
export class JsonPathSyntaxError extends Error {}

const FUNCTIONS = new Set(['length', 'min', 'max', 'avg', 'sum']);
const cache = new Map<string, ParsedPath>();

/** Parses `source` (cached); throws JsonPathSyntaxError when it is not a valid path. */
export function parsePath(source: string): ParsedPath {
  const hit = cache.get(source);
  if (hit) return hit;
  const parsed = new PathParser(source).parse();
  if (cache.size > 5000) cache.clear();
  cache.set(source, parsed);
  return parsed;
}

/** Whether `source` is a valid path (optionally: one that starts at `$` or `$$` only). */
export function isValidPath(source: string, opts: { variables?: boolean } = {}): boolean {
  try {
    const p = parsePath(source);
    return opts.variables !== false || p.root.kind !== 'variable';
  } catch {
    return false;
  }
}

/**
 * Whether `source` is a reference path (ResultPath): `$` followed only by names and single
 * indexes, which names exactly one node that can be written.
 */
export function isReferencePath(source: string): boolean {
  try {
    const p = parsePath(source);
    return (
      p.root.kind === 'input' &&
      p.segments.every((s) => s.kind === 'name' || (s.kind === 'index' && s.index >= 0))
    );
  } catch {
    return false;
  }
}

/** Reads a path: `{ found: false }` when a definite path names nothing. */
export function readPath(
  path: string | ParsedPath,
  roots: PathRoots,
): { found: true; value: Json } | { found: false } {
  const p = typeof path === 'string' ? parsePath(path) : path;
  let start: Json | undefined;
  if (p.root.kind === 'input') start = roots.input;
  else if (p.root.kind === 'context') start = roots.context;
  else start = roots.variables?.[p.root.name];
  if (start === undefined) return { found: false };
  let nodes: Json[] = [start];
  for (const seg of p.segments) {
    if (seg.kind === 'function') {
      const fn = applyFunction(seg.name, p.definite ? nodes[0] : nodes);
      if (fn === undefined) return { found: false };
      nodes = [fn];
      continue;
    }
    const next: Json[] = [];
    for (const node of nodes) step(node, seg, next, roots);
    nodes = next;
  }
  if (p.segments.at(-1)?.kind === 'function') return { found: true, value: nodes[0]! };
  if (p.definite) return nodes.length === 1 ? { found: true, value: nodes[0]! } : { found: false };
  return { found: true, value: nodes };
}

function step(node: Json, seg: PathSegment, out: Json[], roots: PathRoots): void {
  switch (seg.kind) {
    case 'name':
      if (isJsonObject(node) && Object.hasOwn(node, seg.name)) out.push(node[seg.name]!);
      return;
    case 'names':
      if (isJsonObject(node)) for (const n of seg.names) if (Object.hasOwn(node, n)) out.push(node[n]!);
      return;
    case 'index':
      if (Array.isArray(node)) {
        const i = seg.index < 0 ? node.length + seg.index : seg.index;
        if (i >= 0 && i < node.length) out.push(node[i]!);
      }
      return;
    case 'indexes':
      if (Array.isArray(node)) {
        for (const raw of seg.indexes) {
          const i = raw < 0 ? node.length + raw : raw;
          if (i >= 0 && i < node.length) out.push(node[i]!);
        }
      }
      return;
    case 'wildcard':
      if (Array.isArray(node)) out.push(...node);
      else if (isJsonObject(node)) out.push(...Object.values(node));
      return;
    case 'slice': {
      if (!Array.isArray(node)) return;
      const len = node.length;
      const stepBy = seg.step ?? 1;
      const norm = (v: number) => (v < 0 ? Math.max(0, len + v) : Math.min(v, len));
      const from = seg.start === undefined ? 0 : norm(seg.start);
      const to = seg.end === undefined ? len : norm(seg.end);
      if (stepBy > 0) for (let i = from; i < to; i += stepBy) out.push(node[i]!);
      return;
    }
    case 'descendant': {
      const visit = (n: Json): void => {
        step(n, seg.next, out, roots);
        if (Array.isArray(n)) n.forEach(visit);
        else if (isJsonObject(n)) Object.values(n).forEach(visit);
      };
      visit(node);
      return;
    }
    case 'filter': {
      const items = Array.isArray(node) ? node : isJsonObject(node) ? Object.values(node) : [];
      for (const item of items)
        if (seg.expr.test(item, (path, at) => readPath(path, { ...roots, input: at }))) out.push(item);
      return;
    }
    case 'function':
      return;
  }
}

function applyFunction(name: string, target: Json | Json[] | undefined): Json | undefined {
  if (name === 'length') {
    if (Array.isArray(target)) return target.length;
    if (typeof target === 'string') return target.length;
    if (isJsonObject(target)) return Object.keys(target).length;
    return undefined;
  }
  if (!Array.isArray(target)) return undefined;
  const nums = target.filter((v): v is number => typeof v === 'number');
  if (nums.length === 0) return undefined;
  if (name === 'min') return Math.min(...nums);
  if (name === 'max') return Math.max(...nums);
  const sum = nums.reduce((a, b) => a + b, 0);
  return name === 'sum' ? sum : sum / nums.length;
}

/**
 * Writes `value` at reference path `path` inside a copy of `target` (ResultPath). Missing
 * objects on the way are created; returns undefined when the path crosses a value that is
 * not an object (AWS's States.ResultPathMatchFailure).
 */
export function writeReferencePath(target: Json, path: string, value: Json): Json | undefined {
  const p = parsePath(path);
  if (p.segments.length === 0) return value;
  const root: Json = structuredClone(target);
  let node: Json = root;
  for (let i = 0; i < p.segments.length; i++) {
    const seg = p.segments[i]!;
    const last = i === p.segments.length - 1;
    if (seg.kind === 'name') {
      if (!isJsonObject(node)) return undefined;
      if (last) node[seg.name] = value;
      else {
        if (!Object.hasOwn(node, seg.name) || node[seg.name] === null) node[seg.name] = {};
        node = node[seg.name]!;
      }
    } else if (seg.kind === 'index') {
      if (!Array.isArray(node) || seg.index > node.length) return undefined;
      if (last) node[seg.index] = value;
      else {
        if (node[seg.index] === undefined) node[seg.index] = {};
        node = node[seg.index]!;
      }
    } else return undefined;
  }
  return root;
}

class PathParser {
  #pos = 0;
  #definite = true;
  readonly #src: string;

  constructor(src: string) {
    this.#src = src;
  }

  parse(): ParsedPath {
    const s = this.#src;
    if (typeof s !== 'string' || !s.startsWith('$')) this.#fail('a path starts with $');
    let root: ParsedPath['root'];
    if (s.startsWith('$$')) {
      root = { kind: 'context' };
      this.#pos = 2;
    } else {
      const m = /^\$([A-Za-z_][A-Za-z0-9_]*)/.exec(s);
      if (m) {
        root = { kind: 'variable', name: m[1]! };
        this.#pos = m[0].length;
      } else {
        root = { kind: 'input' };
        this.#pos = 1;
      }
    }
    const segments: PathSegment[] = [];
    while (this.#pos < s.length) {
      const seg = this.segment();
      segments.push(seg);
      if (seg.kind === 'function' && this.#pos < s.length) this.#fail('a function must end the path');
    }
    return { root, segments, definite: this.#definite, source: s };
  }

  segment(): PathSegment {
    const s = this.#src;
    if (s.startsWith('..', this.#pos)) {
      this.#pos += 2;
      this.#definite = false;
      const next = s[this.#pos] === '[' ? this.bracket() : this.dotName();
      return { kind: 'descendant', next };
    }
    if (s[this.#pos] === '.') {
      this.#pos++;
      return this.dotName();
    }
    if (s[this.#pos] === '[') return this.bracket();
    return this.#fail(`unexpected '${s[this.#pos]}'`);
  }

  dotName(): PathSegment {
    const s = this.#src;
    if (s[this.#pos] === '*') {
      this.#pos++;
      this.#definite = false;
      return { kind: 'wildcard' };
    }
    const start = this.#pos;
    while (this.#pos < s.length && !'.[]'.includes(s[this.#pos]!)) this.#pos++;
    const name = s.slice(start, this.#pos);
    if (name === '' || /\s/.test(name)) this.#fail('a name after . must be non-empty and have no spaces');
    const fn = /^([a-z]+)\(\)$/.exec(name);
    if (fn && FUNCTIONS.has(fn[1]!)) return { kind: 'function', name: fn[1] as 'length' };
    if (name.includes('(') || name.includes(')')) this.#fail(`'${name}' is not a supported path function`);
    return { kind: 'name', name };
  }

  bracket(): PathSegment {
    const s = this.#src;
    this.#pos++; // [
    if (s.startsWith('?(', this.#pos)) {
      const end = findFilterEnd(s, this.#pos + 2);
      if (end < 0) this.#fail('unterminated filter');
      const body = s.slice(this.#pos + 2, end);
      this.#pos = end + 2; // ')]'
      this.#definite = false;
      try {
        return { kind: 'filter', expr: parseFilter(body) };
      } catch (err) {
        return this.#fail(`bad filter: ${(err as Error).message}`);
      }
    }
    const close = findBracketEnd(s, this.#pos);
    if (close < 0) this.#fail('unterminated [');
    const body = s.slice(this.#pos, close).trim();
    this.#pos = close + 1;
    if (body === '*') {
      this.#definite = false;
      return { kind: 'wildcard' };
    }
    if (body.startsWith("'") || body.startsWith('"')) {
      const names = splitQuoted(body);
      if (!names) this.#fail(`bad quoted name in [${body}]`);
      if (names!.length === 1) return { kind: 'name', name: names![0]! };
      this.#definite = false;
      return { kind: 'names', names: names! };
    }
    if (/^-?\d+$/.test(body)) return { kind: 'index', index: Number(body) };
    if (/^-?\d+(\s*,\s*-?\d+)+$/.test(body)) {
      this.#definite = false;
      return { kind: 'indexes', indexes: body.split(',').map((x) => Number(x.trim())) };
    }
    const slice = /^(-?\d+)?\s*:\s*(-?\d+)?(?:\s*:\s*(\d+))?$/.exec(body);
    if (slice) {
      this.#definite = false;
      const num = (v: string | undefined) => (v === undefined ? undefined : Number(v));
      return { kind: 'slice', start: num(slice[1]), end: num(slice[2]), step: num(slice[3]) };
    }
    return this.#fail(`unsupported bracket expression [${body}]`);
  }

  #fail(why: string): never {
    throw new JsonPathSyntaxError(`invalid JSONPath '${this.#src}': ${why}`);
  }
}

function findBracketEnd(s: string, from: number): number {
  let quote = '';
  for (let i = from; i < s.length; i++) {
    const c = s[i]!;
    if (quote) {
      if (c === '\\') i++;
      else if (c === quote) quote = '';
    } else if (c === "'" || c === '"') quote = c;
    else if (c === ']') return i;
  }
  return -1;
}

function findFilterEnd(s: string, from: number): number {
  let depth = 1;
  let quote = '';
  for (let i = from; i < s.length; i++) {
    const c = s[i]!;
    if (quote) {
      if (c === '\\') i++;
      else if (c === quote) quote = '';
    } else if (c === "'" || c === '"') quote = c;
    else if (c === '(') depth++;
    else if (c === ')' && --depth === 0) return s[i + 1] === ']' ? i : -1;
  }
  return -1;
}

/** `'a','b'` → ['a','b']; undefined when malformed. */
function splitQuoted(body: string): string[] | undefined {
  const out: string[] = [];
  let i = 0;
  while (i < body.length) {
    const q = body[i];
    if (q !== "'" && q !== '"') return undefined;
    let name = '';
    i++;
    while (i < body.length && body[i] !== q) {
      if (body[i] === '\\' && i + 1 < body.length) i++;
      name += body[i];
      i++;
    }
    if (i >= body.length) return undefined;
    out.push(name);
    i++;
    while (body[i] === ' ') i++;
    if (i < body.length) {
      if (body[i] !== ',') return undefined;
      i++;
      while (body[i] === ' ') i++;
    }
  }
  return out;
}

/** Merges variable scopes, outermost first, into one lookup object. */
export function mergeScopes(scopes: readonly JsonObject[]): Record<string, Json> {
  return Object.assign({}, ...scopes) as Record<string, Json>;
}
