// Maps a path inside a parsed YAML document (['functions', 'hello', 'timeout']) to line:col.

import { isAlias, isMap, isScalar, isSeq, type Document, type LineCounter, type Node } from 'yaml';

/** A path into the config value, as zod reports it. */
export type ConfigPath = readonly PropertyKey[];

/** A 1-based position in the file. */
export interface Position {
  readonly line: number;
  readonly column: number;
}

/**
 * Where a path points in the document. `target: 'key'` points at the map key itself (for
 * "unknown key" issues); `'value'` at the value, falling back to its key when the value is
 * empty, and to the deepest existing ancestor when the path does not exist (a missing key is
 * reported on the map that should hold it).
 */
export function locate(
  doc: Document,
  lineCounter: LineCounter,
  path: ConfigPath,
  target: 'key' | 'value' = 'value',
): Position {
  let node: unknown = doc.contents;
  // The best position so far: the key of the deepest pair walked, else the document start.
  let best: number = doc.contents?.range?.[0] ?? 0;
  for (const [index, segment] of path.entries()) {
    if (isMap(node)) {
      const pair = node.items.find((p) => keyText(p.key) === String(segment));
      if (!pair) break;
      const keyStart = rangeStart(pair.key);
      if (keyStart !== undefined) best = keyStart;
      if (target === 'key' && index === path.length - 1) return toPosition(lineCounter, best);
      node = pair.value;
      // An empty value (`hello:` with nothing after it) has no useful range; stay on the key.
      const valueStart = rangeStart(node);
      if (valueStart !== undefined && !(isScalar(node) && node.value === null)) best = valueStart;
    } else if (isSeq(node) && typeof segment === 'number') {
      const item = node.items[segment];
      const start = rangeStart(item);
      if (start === undefined) break;
      best = start;
      node = item;
    } else {
      // Scalars, aliases (`*defaults`) and merged keys end the walk: report the nearest node.
      break;
    }
  }
  return toPosition(lineCounter, best);
}

/** Converts a character offset to a 1-based line and column. */
export function toPosition(lineCounter: LineCounter, offset: number): Position {
  const { line, col } = lineCounter.linePos(offset);
  return { line, column: col };
}

/** `functions.hello.events[0].http`: how paths appear in messages. */
export function formatPath(path: ConfigPath): string {
  let out = '';
  for (const segment of path) {
    if (typeof segment === 'number') out += `[${segment}]`;
    else {
      const text = String(segment);
      // Keys that would read ambiguously in dotted form are quoted.
      const plain = /^[A-Za-z0-9_$-]+$/.test(text);
      out += plain ? (out ? `.${text}` : text) : `[${JSON.stringify(text)}]`;
    }
  }
  return out;
}

/** The raw value at a path of a plain JS value, or undefined. */
export function valueAt(root: unknown, path: ConfigPath): unknown {
  let value = root;
  for (const segment of path) {
    if (value === null || typeof value !== 'object') return undefined;
    value = (value as Record<PropertyKey, unknown>)[segment];
  }
  return value;
}

/** A short description of a value for "got ..." in messages: `"ten"`, `12`, `a list`, `an empty value`. */
export function describeValue(value: unknown): string {
  if (value === undefined) return 'nothing';
  if (value === null) return 'an empty value';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'a mapping';
  if (typeof value === 'string') {
    const shown = value.length > 60 ? `${value.slice(0, 57)}...` : value;
    return JSON.stringify(shown);
  }
  return String(value);
}

function keyText(key: unknown): string | undefined {
  if (isScalar(key)) return String(key.value);
  if (isAlias(key)) return key.source;
  return undefined;
}

function rangeStart(node: unknown): number | undefined {
  const range = (node as Node | null | undefined)?.range;
  return range ? range[0] : undefined;
}
