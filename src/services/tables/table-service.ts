// Document tables: put/get/update/delete, conditional writes, query and scan, and a change feed
// that stream consumers (table triggers) subscribe to.

import type { AppDeployHook } from '../../deploy/app-deploy-hook.js';
import { NimbusError } from '../../errors.js';
import type { Lifecycle } from '../../lifecycle.js';
import type {
  Item,
  SortRange,
  StoredItem,
  TableDefinition,
  WriteDecision,
} from '../../store/ports/documents.js';
import type { TableQuota } from '../../store/ports/quotas.js';
import { ChangeFeed } from '../change-feed.js';
import { DEFAULT_STORAGE_QUOTAS } from '../storage-quotas.js';
import type { ServiceContext } from '../service-context.js';
import { evaluateCondition, parseCondition } from './condition-expression.js';
import type { Condition, ExpressionValues } from './condition-expression.js';
import { applyUpdate, compileUpdate } from './item-update.js';
import type { ItemUpdate } from './item-update.js';
import { decodeKey, encodeKey, prefixSuccessor } from './key-encoding.js';
import { checkTableName, parseTableSpec } from './table-config.js';
import type { TableSpecInput } from './table-config.js';
import { createTableDeployHook } from './table-deploy-hook.js';
import type {
  ItemPage,
  QueryInput,
  ScanInput,
  SortCondition,
  TableChange,
  TableDescription,
  WriteConditionOptions,
} from './table-types.js';
import { streamArn } from './table-types.js';

/** DynamoDB's item size limit. */
export const MAX_ITEM_BYTES = 400 * 1024;
/** Largest (and default) page of a query or scan. */
export const MAX_PAGE_ITEMS = 1000;

function tableNotFound(name: string): NimbusError {
  return new NimbusError(
    'ResourceNotFoundException',
    `Table '${name}' does not exist; create it with \`nimbus tables create ${name} --pk id\` or declare it under resources.tables in nimbus.yml.`,
  );
}

function conditionFailed(table: string): NimbusError {
  return new NimbusError(
    'ConditionalCheckFailedException',
    `The conditional request failed: the condition on table '${table}' is false for the current item; nothing was written.`,
  );
}

function compile(
  text: string | undefined,
  placeholders: ExpressionValues,
  where: string,
): Condition | undefined {
  if (text === undefined || text === '') return undefined;
  return parseCondition(text, placeholders, where);
}

/** Document tables: put/get/update/delete, conditional writes, query and scan, and a change feed. */
export class TableService implements Lifecycle {
  readonly #ctx: ServiceContext;

  /**
   * Writes that appended a stream record, and deleted tables. The stream triggers subscribe in
   * src/server; this service knows no consumer.
   */
  readonly changes: ChangeFeed<TableChange>;
  readonly #quota: TableQuota;

  constructor(ctx: ServiceContext) {
    this.#ctx = ctx;
    this.changes = new ChangeFeed(ctx.onError);
    const quotas = ctx.quotas ?? DEFAULT_STORAGE_QUOTAS;
    this.#quota = Object.freeze({ maxItems: quotas.tableItems, maxBytes: quotas.tableBytes });
    this.deployHook = createTableDeployHook(ctx.store.documents);
  }

  /** Validates and applies the app's declared tables on deploy (table triggers have their own hook). */
  readonly deployHook: AppDeployHook;

  start(): void {
    // Nothing runs in the background: the stream's consumers and its trimming live with the triggers.
  }

  async stop(): Promise<void> {
    // Nothing to stop (see start).
  }

  // ---- tables -------------------------------------------------------------------------------

  /** Create a table; `ResourceConflictException` if the name is taken. */
  async createTable(name: string, spec: TableSpecInput): Promise<TableDescription> {
    checkTableName(name);
    const parsed = parseTableSpec(name, spec, `Table '${name}'`);
    if (!(await this.#ctx.store.documents.createTable(parsed))) {
      throw new NimbusError(
        'ResourceConflictException',
        `Table '${name}' already exists; pick another name or delete it first with \`nimbus tables rm ${name}\`.`,
      );
    }
    return this.describeTable(name);
  }

  /** Items of a table and the characters of their JSON (what its quotas count). */
  async usage(name: string): Promise<{ items: number; bytes: number }> {
    const usage = await this.#ctx.store.documents.getTableUsage(name);
    if (usage === undefined) throw tableNotFound(name);
    return usage;
  }

  async describeTable(name: string): Promise<TableDescription> {
    return this.#describe(await this.#table(name));
  }

  async listTables(): Promise<TableDescription[]> {
    return (await this.#ctx.store.documents.listTables()).map((t) => this.#describe(t));
  }

  /** Delete a table with its items, stream and triggers. */
  async deleteTable(name: string): Promise<void> {
    if (!(await this.#ctx.store.documents.deleteTable(name))) throw tableNotFound(name);
    await this.changes.publish({ type: 'deleted', table: name });
  }

  // ---- items --------------------------------------------------------------------------------

  /** Store `item` (replacing any item with its key). Returns the item it replaced. */
  async putItem(
    table: string,
    item: Item,
    options: WriteConditionOptions = {},
  ): Promise<{ old?: Item | undefined }> {
    const def = await this.#table(table);
    const { pk, sk } = this.#itemKey(def, item);
    const condition = compile(options.condition, options, 'condition');
    const copy = structuredClone(item);
    const outcome = await this.#write(def, pk, sk, (current) => {
      if (condition !== undefined && !evaluateCondition(condition, current)) throw conditionFailed(table);
      return { put: copy };
    });
    return { old: outcome.old };
  }

  /** The item with `key`, or undefined. */
  async getItem(table: string, key: Item): Promise<Item | undefined> {
    const def = await this.#table(table);
    const { pk, sk } = this.#key(def, key);
    return (await this.#ctx.store.documents.getItem(table, pk, sk))?.item;
  }

  /** Update (or create) the item with `key`; returns the new item. */
  async updateItem(
    table: string,
    key: Item,
    update: ItemUpdate,
    options: WriteConditionOptions = {},
  ): Promise<Item> {
    const def = await this.#table(table);
    const { pk, sk } = this.#key(def, key);
    const keyNames = [def.partitionKey.name, ...(def.sortKey ? [def.sortKey.name] : [])];
    const compiled = compileUpdate(update, keyNames, table);
    const condition = compile(options.condition, options, 'condition');
    const outcome = await this.#write(def, pk, sk, (current) => {
      if (condition !== undefined && !evaluateCondition(condition, current)) throw conditionFailed(table);
      const next = applyUpdate(current ?? { ...key }, compiled);
      this.#checkSize(def, next);
      return { put: next };
    });
    return outcome.current!;
  }

  /** Delete the item with `key`; returns it (undefined if there was none). */
  async deleteItem(
    table: string,
    key: Item,
    options: WriteConditionOptions = {},
  ): Promise<{ old?: Item | undefined }> {
    const def = await this.#table(table);
    const { pk, sk } = this.#key(def, key);
    const condition = compile(options.condition, options, 'condition');
    const outcome = await this.#write(def, pk, sk, (current) => {
      if (condition !== undefined && !evaluateCondition(condition, current)) throw conditionFailed(table);
      return current === undefined ? { none: true } : { remove: true };
    });
    return { old: outcome.old };
  }

  /** Items of one partition in sort key order, one page at a time. */
  async query(table: string, input: QueryInput): Promise<ItemPage> {
    const def = await this.#table(table);
    const pk = encodeKey(
      def.partitionKey.type,
      input.partition,
      `partition (key ${def.partitionKey.name} of table '${table}')`,
    );
    const range = this.#sortRange(def, input.sort);
    const limit = pageLimit(input.limit);
    const filter = compile(input.filter, input, 'filter');
    const start = startKey(input);
    let afterSk: string | undefined;
    if (start !== undefined) {
      const k = this.#key(def, start);
      if (k.pk !== pk) {
        throw new NimbusError(
          'ValidationException',
          'exclusiveStartKey is not in the queried partition; pass the lastEvaluatedKey of the previous page.',
        );
      }
      afterSk = k.sk;
    }
    const rows = await this.#ctx.store.documents.query(table, {
      pk,
      range,
      forward: input.scanForward ?? true,
      limit: limit + 1,
      afterSk,
    });
    return this.#page(def, rows, limit, filter);
  }

  /** Every item of a table in key order, one page at a time. */
  async scan(table: string, input: ScanInput = {}): Promise<ItemPage> {
    const def = await this.#table(table);
    const limit = pageLimit(input.limit);
    const filter = compile(input.filter, input, 'filter');
    const start = startKey(input);
    const rows = await this.#ctx.store.documents.scan(table, {
      limit: limit + 1,
      after: start === undefined ? undefined : this.#key(def, start),
    });
    return this.#page(def, rows, limit, filter);
  }

  // ---- helpers ------------------------------------------------------------------------------

  async #table(name: string): Promise<TableDefinition> {
    const def = await this.#ctx.store.documents.getTable(name);
    if (def === undefined) throw tableNotFound(name);
    return def;
  }

  async #write(
    def: TableDefinition,
    pk: string,
    sk: string,
    decide: (current: Item | undefined) => WriteDecision,
  ) {
    const outcome = await this.#ctx.store.documents.write(def.name, pk, sk, decide, this.#quota);
    if (outcome.seq !== undefined) void this.changes.publish({ type: 'written', table: def.name });
    return outcome;
  }

  #describe(def: TableDefinition): TableDescription {
    const key = (k: { name: string; type: 'S' | 'N' }) => ({
      name: k.name,
      type: k.type === 'N' ? ('number' as const) : ('string' as const),
    });
    return {
      name: def.name,
      partitionKey: key(def.partitionKey),
      ...(def.sortKey ? { sortKey: key(def.sortKey) } : {}),
      stream: {
        enabled: def.streamEnabled,
        viewType: def.streamViewType,
        arn: streamArn(def, this.#ctx.region, this.#ctx.accountId),
      },
      ...(def.app === undefined ? {} : { app: def.app }),
      createdAt: new Date(def.createdAt).toISOString(),
    };
  }

  #checkSize(def: TableDefinition, item: Item): void {
    const size = Buffer.byteLength(JSON.stringify(item));
    if (size > MAX_ITEM_BYTES) {
      throw new NimbusError(
        'ValidationException',
        `Item size of ${size} bytes exceeds the maximum of ${MAX_ITEM_BYTES} bytes (400 KB) for table '${def.name}'; store large data in a bucket and keep its key in the item.`,
      );
    }
  }

  /** Encoded keys of a whole item (validates it is an object of allowed size). */
  #itemKey(def: TableDefinition, item: Item): { pk: string; sk: string } {
    if (typeof item !== 'object' || item === null || Array.isArray(item)) {
      throw new NimbusError('ValidationException', `The item for table '${def.name}' must be a JSON object.`);
    }
    this.#checkSize(def, item);
    return this.#keyAttributes(def, item, 'item');
  }

  /** Encoded keys of a key object, which must hold exactly the key attributes. */
  #key(def: TableDefinition, key: Item): { pk: string; sk: string } {
    if (typeof key !== 'object' || key === null || Array.isArray(key)) {
      throw new NimbusError(
        'ValidationException',
        `The key for table '${def.name}' must be a JSON object of its key attributes.`,
      );
    }
    for (const name of Object.keys(key)) {
      if (name !== def.partitionKey.name && name !== def.sortKey?.name) {
        throw new NimbusError(
          'ValidationException',
          `The key has attribute '${name}', which is not a key of table '${def.name}' (keys: ${[def.partitionKey.name, def.sortKey?.name].filter(Boolean).join(', ')}).`,
        );
      }
    }
    return this.#keyAttributes(def, key, 'key');
  }

  #keyAttributes(def: TableDefinition, source: Item, what: string): { pk: string; sk: string } {
    const pkName = def.partitionKey.name;
    const pk = encodeKey(
      def.partitionKey.type,
      source[pkName],
      `The ${what}'s partition key '${pkName}' of table '${def.name}'`,
    );
    if (def.sortKey === undefined) return { pk, sk: '' };
    const skName = def.sortKey.name;
    return {
      pk,
      sk: encodeKey(
        def.sortKey.type,
        source[skName],
        `The ${what}'s sort key '${skName}' of table '${def.name}'`,
      ),
    };
  }

  #sortRange(def: TableDefinition, sort: SortCondition | undefined): SortRange | undefined {
    if (sort === undefined) return undefined;
    const entries = Object.entries(sort).filter(([, v]) => v !== undefined);
    if (def.sortKey === undefined) {
      if (entries.length === 0) return undefined;
      throw new NimbusError(
        'ValidationException',
        `Table '${def.name}' has no sort key; drop sort from the query.`,
      );
    }
    if (entries.length !== 1) {
      throw new NimbusError(
        'ValidationException',
        'sort takes exactly one of eq, lt, le, gt, ge, between, beginsWith.',
      );
    }
    const { type, name } = def.sortKey;
    const [op, value] = entries[0]!;
    const enc = (v: unknown) => encodeKey(type, v, `sort.${op} (sort key ${name} of table '${def.name}')`);
    switch (op) {
      case 'eq':
      case 'lt':
      case 'le':
      case 'gt':
      case 'ge':
        return { [op]: enc(value) };
      case 'between': {
        if (!Array.isArray(value) || value.length !== 2) {
          throw new NimbusError('ValidationException', 'sort.between takes [low, high].');
        }
        return { ge: enc(value[0]), le: enc(value[1]) };
      }
      case 'beginsWith': {
        if (type !== 'S') {
          throw new NimbusError(
            'ValidationException',
            `sort.beginsWith needs a string sort key; '${name}' of table '${def.name}' is a number.`,
          );
        }
        const prefix = enc(value);
        const upper = prefixSuccessor(prefix);
        return upper === undefined ? { ge: prefix } : { ge: prefix, lt: upper };
      }
      default:
        throw new NimbusError(
          'ValidationException',
          `sort.${op} is not a sort condition; use eq, lt, le, gt, ge, between or beginsWith.`,
        );
    }
  }

  #page(def: TableDefinition, rows: StoredItem[], limit: number, filter: Condition | undefined): ItemPage {
    const more = rows.length > limit;
    const evaluated = more ? rows.slice(0, limit) : rows;
    const items = evaluated
      .map((r) => r.item)
      .filter((item) => filter === undefined || evaluateCondition(filter, item));
    if (!more) return { items, count: items.length, scannedCount: evaluated.length };
    const last = evaluated[evaluated.length - 1]!;
    const lastEvaluatedKey: Item = { [def.partitionKey.name]: decodeKey(def.partitionKey.type, last.pk) };
    if (def.sortKey !== undefined) lastEvaluatedKey[def.sortKey.name] = decodeKey(def.sortKey.type, last.sk);
    const cursor = Buffer.from(JSON.stringify(lastEvaluatedKey)).toString('base64url');
    return { items, count: items.length, scannedCount: evaluated.length, lastEvaluatedKey, cursor };
  }
}

function pageLimit(limit: number | undefined): number {
  if (limit === undefined) return MAX_PAGE_ITEMS;
  if (!Number.isInteger(limit) || limit < 1 || limit > MAX_PAGE_ITEMS) {
    throw new NimbusError('ValidationException', `limit must be an integer from 1 to ${MAX_PAGE_ITEMS}.`);
  }
  return limit;
}

function startKey(input: {
  exclusiveStartKey?: Item | undefined;
  cursor?: string | undefined;
}): Item | undefined {
  if (input.exclusiveStartKey !== undefined) return input.exclusiveStartKey;
  if (input.cursor === undefined || input.cursor === '') return undefined;
  try {
    const key = JSON.parse(Buffer.from(input.cursor, 'base64url').toString('utf8')) as unknown;
    if (typeof key === 'object' && key !== null && !Array.isArray(key)) return key as Item;
  } catch {
    // fall through
  }
  throw new NimbusError(
    'ValidationException',
    "cursor is not a cursor this API returned; pass the previous page's cursor unchanged.",
  );
}
