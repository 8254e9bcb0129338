// The document tables and their change stream port: what the tables service needs from storage. One implementation per backend family
// (kysely/document-store.ts), one contract suite (test/store/documents-store.contract.test.ts).

import type { TableQuota } from './quotas.js';

/** A key attribute's type: string or number (DynamoDB's `S` and `N`). */
export type KeyType = 'S' | 'N';

/** What a stream record carries (DynamoDB's StreamViewType). */
export type StreamViewType = 'NEW_AND_OLD_IMAGES' | 'NEW_IMAGE' | 'OLD_IMAGE' | 'KEYS_ONLY';

/** A plain JSON item. */
export type Item = Record<string, unknown>;

/** A table's definition as stored. */
export interface TableDefinition {
  readonly name: string;
  readonly partitionKey: { readonly name: string; readonly type: KeyType };
  readonly sortKey?: { readonly name: string; readonly type: KeyType } | undefined;
  readonly streamEnabled: boolean;
  readonly streamViewType: StreamViewType;
  /** The app that declared it in nimbus.yml; undefined when created through the API or CLI. */
  readonly app?: string | undefined;
  /** Epoch ms. */
  readonly createdAt: number;
}

/** An item as stored, with its encoded keys (see key-encoding.ts) and version counter. */
export interface StoredItem {
  readonly pk: string;
  /** '' when the table has no sort key. */
  readonly sk: string;
  readonly item: Item;
  readonly version: number;
}

/**
 * What a write does, decided from the current item inside the write's transaction (with the
 * table's write lock held): store `put`, delete the item, or leave everything as it is.
 * Throwing rolls the transaction back (a failed condition).
 */
export type WriteDecision = { readonly put: Item } | { readonly remove: true } | { readonly none: true };

/** The outcome of {@link DocumentStore.write}. */
export interface WriteOutcome {
  /** The item before the write. */
  readonly old?: Item | undefined;
  /** The item after the write (undefined if it was removed or never existed). */
  readonly current?: Item | undefined;
  /** The stream sequence number recorded, when the table's stream is on and something changed. */
  readonly seq?: number | undefined;
}

/** A sort key range on encoded sort keys; all bounds optional. */
export interface SortRange {
  readonly eq?: string | undefined;
  readonly gt?: string | undefined;
  readonly ge?: string | undefined;
  readonly lt?: string | undefined;
  readonly le?: string | undefined;
}

/** One change stream record. */
export interface StreamRecord {
  readonly table: string;
  /** Increasing per table, gap-free in commit order. */
  readonly seq: number;
  readonly eventName: 'INSERT' | 'MODIFY' | 'REMOVE';
  readonly keys: Item;
  readonly oldImage?: Item | undefined;
  readonly newImage?: Item | undefined;
  /** Epoch ms. */
  readonly createdAt: number;
}

/** A change stream trigger: a function fed a table's stream records in order. */
export interface TableTrigger {
  /** `<functionName>/<table>` (one trigger per function and table). */
  readonly id: string;
  readonly app: string;
  readonly functionName: string;
  readonly table: string;
  readonly batchSize: number;
  readonly startingPosition: 'LATEST' | 'TRIM_HORIZON';
  /** -1: retry until the records expire (Lambda's default for streams). */
  readonly maximumRetryAttempts: number;
  readonly bisectBatchOnFunctionError: boolean;
  /** The last sequence number handled (delivered or skipped). */
  readonly checkpoint: number;
  readonly createdAt: number;
}

/** A trigger as a deploy declares it (the checkpoint is the store's to keep). */
export type TableTriggerInput = Omit<TableTrigger, 'id' | 'checkpoint' | 'createdAt'>;

/** Storage of document tables and their change stream. */
export interface DocumentStore {
  /** Create a table; false (nothing changes) if one with that name exists. */
  createTable(def: Omit<TableDefinition, 'createdAt'>): Promise<boolean>;
  getTable(name: string): Promise<TableDefinition | undefined>;
  /** Every table, ordered by name. */
  listTables(): Promise<TableDefinition[]>;
  /** Turn a table's stream on (never off: a trigger may rely on it) and set its view type. */
  enableStream(name: string, viewType: StreamViewType): Promise<void>;
  /** Delete a table with its items, stream records and triggers. False if it did not exist. */
  deleteTable(name: string): Promise<boolean>;

  getItem(table: string, pk: string, sk: string): Promise<StoredItem | undefined>;
  /**
   * One write, race-free: in one transaction, lock the table's writes, read the current item, ask
   * `decide`, store the result and (stream on, something changed) its stream record. Throws
   * `ResourceNotFoundException` if the table does not exist, `StorageQuotaExceeded` (nothing
   * written) if the table would pass `quota`; whatever `decide` throws.
   */
  write(
    table: string,
    pk: string,
    sk: string,
    decide: (current: Item | undefined) => WriteDecision,
    quota?: TableQuota,
  ): Promise<WriteOutcome>;
  /** Items of a table and the characters of their JSON (counters kept by every write). */
  getTableUsage(name: string): Promise<{ items: number; bytes: number } | undefined>;
  /** Items of one partition in sort key order (reversed unless `forward`), after `afterSk`. */
  query(
    table: string,
    q: { pk: string; range?: SortRange; forward: boolean; limit: number; afterSk?: string | undefined },
  ): Promise<StoredItem[]>;
  /** Items of the whole table in (pk, sk) order, after `after`. */
  scan(
    table: string,
    q: { limit: number; after?: { pk: string; sk: string } | undefined },
  ): Promise<StoredItem[]>;

  /** Stream records of `table` with seq > `afterSeq`, oldest first. */
  readStream(table: string, afterSeq: number, limit: number): Promise<StreamRecord[]>;
  /** The last sequence number written for `table` (0 if none). */
  lastSeq(table: string): Promise<number>;
  /** Delete stream records created before `beforeMs`; returns how many. */
  trimStream(beforeMs: number): Promise<number>;

  /**
   * Replace the triggers of `app` (or, with `onlyFunctions`, of those functions) with `triggers`.
   * A trigger that stays (same function and table) keeps its checkpoint; a new one starts at
   * the table's last sequence number (LATEST) or 0 (TRIM_HORIZON).
   */
  replaceTriggers(
    app: string,
    triggers: readonly TableTriggerInput[],
    onlyFunctions?: readonly string[],
  ): Promise<void>;
  /** Delete the triggers of an app, or of one of its functions. */
  deleteTriggers(app: string, functionName?: string): Promise<void>;
  listTriggers(): Promise<TableTrigger[]>;
  getTrigger(id: string): Promise<TableTrigger | undefined>;
  /** Move a trigger's checkpoint forward (never back). */
  setCheckpoint(id: string, seq: number): Promise<void>;
}
