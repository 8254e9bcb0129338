// SDK: documents in tables (put, get, update, delete, query, scan).

import { seg, type Transport } from './transport.js';

/** A document: plain JSON. */
export type SdkItem = Record<string, unknown>;

/** A condition (DynamoDB-style expression) with its `#name` and `:value` placeholders. */
export interface Condition {
  /** e.g. `attribute_not_exists(id)` or `#s = :old`. */
  readonly condition?: string;
  readonly names?: Readonly<Record<string, string>>;
  readonly values?: Readonly<Record<string, unknown>>;
}

/** A query: one partition, optionally a sort key condition. */
export interface SdkQuery {
  readonly partition: string | number;
  readonly sort?: {
    eq?: string | number;
    lt?: string | number;
    le?: string | number;
    gt?: string | number;
    ge?: string | number;
    between?: [string | number, string | number];
    beginsWith?: string;
  };
  readonly limit?: number;
  /** Descending sort key order when false. @default true */
  readonly scanForward?: boolean;
  /** The previous page's `cursor`. */
  readonly cursor?: string;
}

/** One page of items. */
export interface SdkPage {
  readonly items: SdkItem[];
  /** Present when there may be more: pass it back as `cursor`. */
  readonly cursor?: string;
}

/** `tables.*` of the SDK. */
export class TablesClient {
  readonly #t: Transport;

  constructor(transport: Transport) {
    this.#t = transport;
  }

  /** Create or replace the item with the same key. With a condition, fails unless it holds. */
  async put(table: string, item: SdkItem, condition: Condition = {}): Promise<void> {
    await this.#t.json('PUT', `/v1/tables/${seg(table)}/items`, { item, ...condition });
  }

  /** The item with `key`, or undefined. */
  async get(table: string, key: SdkItem): Promise<SdkItem | undefined> {
    const res = await this.#t.json<{ item: SdkItem | null }>('POST', `/v1/tables/${seg(table)}/items/get`, {
      key,
    });
    return res.item ?? undefined;
  }

  /** Change some attributes; returns the new item. */
  async update(
    table: string,
    key: SdkItem,
    update: { set?: SdkItem; remove?: string[]; add?: Record<string, number> },
    condition: Condition = {},
  ): Promise<SdkItem> {
    const res = await this.#t.json<{ item: SdkItem }>('POST', `/v1/tables/${seg(table)}/items/update`, {
      key,
      update,
      ...condition,
    });
    return res.item;
  }

  /** Delete the item with `key` (succeeds when it is already gone). */
  async delete(table: string, key: SdkItem, condition: Condition = {}): Promise<void> {
    await this.#t.json('POST', `/v1/tables/${seg(table)}/items/delete`, { key, ...condition });
  }

  /** Items of one partition in sort key order. */
  query(table: string, query: SdkQuery): Promise<SdkPage> {
    return this.#t.json('POST', `/v1/tables/${seg(table)}/query`, query);
  }

  /** Every item, a page at a time. */
  scan(table: string, options: { limit?: number; cursor?: string } = {}): Promise<SdkPage> {
    return this.#t.json('POST', `/v1/tables/${seg(table)}/scan`, options);
  }
}
