// Table definitions from the edges (nimbus.yml resources.tables, the /v1 API, the CLI), validated once.

import { NimbusError } from '../../errors.js';
import type { KeyType, StreamViewType, TableDefinition } from '../../store/ports/documents.js';

/** A key attribute as written: `id` (a string key) or `{ name, type: string|number }` (also `S`/`N`). */
export type KeySpecInput = string | { readonly name?: unknown; readonly type?: unknown };

/** A table as written in nimbus.yml or sent to `POST /v1/tables`. */
export interface TableSpecInput {
  readonly partitionKey?: unknown;
  readonly sortKey?: unknown;
  /** true (NEW_AND_OLD_IMAGES), false, or a view type. @default false */
  readonly stream?: unknown;
}

/** A validated table definition, before it is stored. */
export type TableSpec = Omit<TableDefinition, 'createdAt'>;

const NAME_PATTERN = /^[A-Za-z0-9_.-]{3,255}$/;
const VIEW_TYPES: readonly StreamViewType[] = ['NEW_AND_OLD_IMAGES', 'NEW_IMAGE', 'OLD_IMAGE', 'KEYS_ONLY'];

/** Throws a ValidationException unless `name` is a valid table name (DynamoDB's rule). */
export function checkTableName(name: string, where?: string): void {
  if (!NAME_PATTERN.test(name)) {
    throw new NimbusError(
      'ValidationException',
      `${where === undefined ? '' : `${where}: `}table name '${name}' is invalid; use 3-255 characters: letters, digits, '_', '-' and '.'.`,
    );
  }
}

function keyType(value: unknown, where: string): KeyType {
  if (value === undefined || value === 'string' || value === 'S') return 'S';
  if (value === 'number' || value === 'N') return 'N';
  throw new NimbusError(
    'ValidationException',
    `${where}.type must be string or number, got ${JSON.stringify(value)}.`,
  );
}

/** Parses `id`, `id:number`, or `{ name, type }`. */
export function parseKeySpec(input: unknown, where: string): { name: string; type: KeyType } {
  if (typeof input === 'string') {
    const [name, type] = input.split(':', 2);
    if (name === undefined || name === '')
      throw new NimbusError('ValidationException', `${where} needs an attribute name.`);
    return { name, type: keyType(type, where) };
  }
  if (typeof input === 'object' && input !== null && !Array.isArray(input)) {
    const { name, type } = input as { name?: unknown; type?: unknown };
    if (typeof name !== 'string' || name === '') {
      throw new NimbusError('ValidationException', `${where}.name must be a non-empty attribute name.`);
    }
    return { name, type: keyType(type, where) };
  }
  throw new NimbusError(
    'ValidationException',
    `${where} must be an attribute name (string key) or { name, type: string|number }.`,
  );
}

/** Parses the `stream` option: true, false, or a view type. */
export function parseStream(input: unknown, where: string): { enabled: boolean; viewType: StreamViewType } {
  if (input === undefined || input === false) return { enabled: false, viewType: 'NEW_AND_OLD_IMAGES' };
  if (input === true) return { enabled: true, viewType: 'NEW_AND_OLD_IMAGES' };
  if (typeof input === 'string' && (VIEW_TYPES as readonly string[]).includes(input)) {
    return { enabled: true, viewType: input as StreamViewType };
  }
  throw new NimbusError(
    'ValidationException',
    `${where} must be true, false or one of ${VIEW_TYPES.join(', ')}.`,
  );
}

/** Validates a table as written; `where` prefixes messages (`resources.tables.results`). */
export function parseTableSpec(name: string, input: TableSpecInput, where: string, app?: string): TableSpec {
  checkTableName(name, where);
  if (typeof input !== 'object' || input === null || Array.isArray(input)) {
    throw new NimbusError(
      'ValidationException',
      `${where} must be a mapping with partitionKey (and optionally sortKey, stream).`,
    );
  }
  const known = new Set(['partitionKey', 'sortKey', 'stream']);
  for (const key of Object.keys(input)) {
    if (!known.has(key)) {
      throw new NimbusError(
        'ValidationException',
        `${where}.${key} is not a table option; use partitionKey, sortKey or stream.`,
      );
    }
  }
  if (input.partitionKey === undefined) {
    throw new NimbusError('ValidationException', `${where}.partitionKey is required, e.g. partitionKey: id.`);
  }
  const partitionKey = parseKeySpec(input.partitionKey, `${where}.partitionKey`);
  const sortKey = input.sortKey === undefined ? undefined : parseKeySpec(input.sortKey, `${where}.sortKey`);
  if (sortKey !== undefined && sortKey.name === partitionKey.name) {
    throw new NimbusError(
      'ValidationException',
      `${where}: sortKey and partitionKey must be different attributes.`,
    );
  }
  const stream = parseStream(input.stream, `${where}.stream`);
  return {
    name,
    partitionKey,
    sortKey,
    streamEnabled: stream.enabled,
    streamViewType: stream.viewType,
    app,
  };
}

/** `id (string)` / `ts (number)` for messages. */
export function describeKey(key: { name: string; type: KeyType } | undefined): string {
  return key === undefined ? 'none' : `${key.name} (${key.type === 'N' ? 'number' : 'string'})`;
}

/** True when both have the same key schema (names and types). */
export function sameKeySchema(
  a: Pick<TableSpec, 'partitionKey' | 'sortKey'>,
  b: Pick<TableSpec, 'partitionKey' | 'sortKey'>,
): boolean {
  return (
    a.partitionKey.name === b.partitionKey.name &&
    a.partitionKey.type === b.partitionKey.type &&
    a.sortKey?.name === b.sortKey?.name &&
    a.sortKey?.type === b.sortKey?.type
  );
}
