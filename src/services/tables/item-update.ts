// The update syntax of updateItem: `{ set: {path: value}, remove: [paths], add: {path: number} }`.

import { NimbusError } from '../../errors.js';
import type { Item } from '../../store/ports/documents.js';
import { formatPath, getPath, parsePath, removePath, setPath } from './item-paths.js';
import type { PathStep } from './item-paths.js';

/**
 * An update of one item. Paths are `a.b[0].c`. Applied in the order set, remove, add;
 * a path may appear in only one of them, and key attributes cannot be changed.
 */
export interface ItemUpdate {
  /** Set each path to its value (intermediate maps must exist). */
  readonly set?: Readonly<Record<string, unknown>> | undefined;
  /** Remove each path (a missing one is a no-op). */
  readonly remove?: readonly string[] | undefined;
  /** Add a number to each path (a missing attribute counts as 0). */
  readonly add?: Readonly<Record<string, number>> | undefined;
}

interface CompiledUpdate {
  readonly set: Array<[PathStep[], unknown]>;
  readonly remove: PathStep[][];
  readonly add: Array<[PathStep[], number]>;
}

/** Validates an update against the table's key names; throws ValidationException naming the path. */
export function compileUpdate(
  update: ItemUpdate,
  keyNames: readonly string[],
  table: string,
): CompiledUpdate {
  const seen = new Set<string>();
  const check = (text: string, clause: string): PathStep[] => {
    const path = parsePath(text, `update.${clause}`);
    if (keyNames.includes(String(path[0]))) {
      throw new NimbusError(
        'ValidationException',
        `update.${clause}: '${text}' is a key attribute of table '${table}'; keys cannot be updated (put a new item instead).`,
      );
    }
    if (seen.has(text)) {
      throw new NimbusError(
        'ValidationException',
        `update: the path '${text}' appears twice; use it in one clause only.`,
      );
    }
    seen.add(text);
    return path;
  };
  const set = Object.entries(update.set ?? {}).map(([p, v]): [PathStep[], unknown] => [check(p, 'set'), v]);
  const remove = (update.remove ?? []).map((p) => check(p, 'remove'));
  const add = Object.entries(update.add ?? {}).map(([p, v]): [PathStep[], number] => {
    if (typeof v !== 'number' || !Number.isFinite(v)) {
      throw new NimbusError('ValidationException', `update.add: the value for '${p}' must be a number.`);
    }
    return [check(p, 'add'), v];
  });
  if (set.length + remove.length + add.length === 0) {
    throw new NimbusError('ValidationException', 'update needs at least one of set, remove or add.');
  }
  return { set, remove, add };
}

/** Applies a compiled update to a copy of `item`. */
export function applyUpdate(item: Item, update: CompiledUpdate): Item {
  const next = structuredClone(item);
  for (const [path, value] of update.set) setPath(next, path, structuredClone(value), 'update.set');
  for (const path of update.remove) removePath(next, path);
  for (const [path, delta] of update.add) {
    const current = getPath(next, path);
    if (current !== undefined && typeof current !== 'number') {
      throw new NimbusError(
        'ValidationException',
        `update.add: '${formatPath(path)}' holds a ${Array.isArray(current) ? 'list' : typeof current}, not a number.`,
      );
    }
    setPath(next, path, (current ?? 0) + delta, 'update.add');
  }
  return next;
}
