// Document paths (`a.b[2].c`) into plain JSON items: parse, read, set and remove.

import { NimbusError } from '../../errors.js';
import type { Item } from '../../store/ports/documents.js';

/** One step of a path: an attribute name or a list index. */
export type PathStep = string | number;

/** Parse `a.b[2].c` (the update syntax: plain names, no `#name` placeholders). */
export function parsePath(text: string, where: string): PathStep[] {
  const steps: PathStep[] = [];
  const re = /([^.[\]]+)|\[(\d+)\]|(\.)/gy;
  let expectName = true;
  let m: RegExpExecArray | null;
  let pos = 0;
  while (pos < text.length && (m = re.exec(text)) !== null) {
    pos = re.lastIndex;
    if (m[1] !== undefined) {
      if (!expectName) throw badPath(text, where);
      steps.push(m[1]);
      expectName = false;
    } else if (m[2] !== undefined) {
      if (expectName) throw badPath(text, where);
      steps.push(Number(m[2]));
    } else {
      if (expectName) throw badPath(text, where);
      expectName = true;
    }
  }
  if (pos !== text.length || expectName || steps.length === 0) throw badPath(text, where);
  return steps;
}

function badPath(text: string, where: string): NimbusError {
  return new NimbusError(
    'ValidationException',
    `${where}: '${text}' is not a document path; write names separated by dots, list indexes in brackets (a.b[0].c).`,
  );
}

/** The value at `path`, or undefined. */
export function getPath(item: unknown, path: readonly PathStep[]): unknown {
  let value: unknown = item;
  for (const step of path) {
    if (typeof step === 'number') {
      if (!Array.isArray(value)) return undefined;
      value = value[step];
    } else {
      if (typeof value !== 'object' || value === null || Array.isArray(value)) return undefined;
      if (!Object.prototype.hasOwnProperty.call(value, step)) return undefined;
      value = (value as Item)[step];
    }
  }
  return value;
}

/**
 * Set `path` to `value` in `item` (mutated). Intermediate maps must exist, as in DynamoDB;
 * a list index past the end appends.
 */
export function setPath(item: Item, path: readonly PathStep[], value: unknown, where: string): void {
  const parent = getPath(item, path.slice(0, -1));
  const last = path[path.length - 1]!;
  if (typeof last === 'number') {
    if (!Array.isArray(parent)) throw notThere(path, where);
    if (last >= parent.length) parent.push(value);
    else parent[last] = value;
    return;
  }
  if (typeof parent !== 'object' || parent === null || Array.isArray(parent)) throw notThere(path, where);
  (parent as Item)[last] = value;
}

/** Remove `path` from `item` (mutated); a missing path is a no-op. */
export function removePath(item: Item, path: readonly PathStep[]): void {
  const parent = getPath(item, path.slice(0, -1));
  const last = path[path.length - 1]!;
  if (typeof last === 'number') {
    if (Array.isArray(parent) && last < parent.length) parent.splice(last, 1);
  } else if (typeof parent === 'object' && parent !== null && !Array.isArray(parent)) {
    delete (parent as Item)[last];
  }
}

/** `a.b[0]` for messages. */
export function formatPath(path: readonly PathStep[]): string {
  return path.map((s, i) => (typeof s === 'number' ? `[${s}]` : i === 0 ? s : `.${s}`)).join('');
}

function notThere(path: readonly PathStep[], where: string): NimbusError {
  return new NimbusError(
    'ValidationException',
    `${where}: the document path ${formatPath(path)} leads through a missing map or list; set the parent first.`,
  );
}
