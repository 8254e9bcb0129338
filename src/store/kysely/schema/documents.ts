// Kysely table types of document tables and their change stream (see migrations 008 of both backends).

import type { ColumnType } from 'kysely';
import type { EpochMs } from '../database.js';

/** A stream sequence number or checkpoint: `bigint` on PostgreSQL (a string from pg), read through `Number()`. */
type SeqColumn = number | string;

/** One document table: key schema, stream settings and its last stream sequence number. */
export interface DocTablesTable {
  name: string;
  pk_name: string;
  /** `S` or `N`. */
  pk_type: string;
  sk_name: string | null;
  sk_type: string | null;
  /** 0 or 1. */
  stream_enabled: number;
  stream_view_type: string;
  last_seq: SeqColumn;
  /** The app that declared it in nimbus.yml, if any. */
  app: string | null;
  created_at: EpochMs;
  /** Items in the table (migration 011), kept by each write. */
  item_count: ColumnType<number | string, number | undefined, number>;
  /** Characters of the items' JSON (migration 011), kept by each write. */
  item_bytes: ColumnType<number | string, number | undefined, number>;
}

/** One item; `pk`/`sk` are order-preserving encodings (sk is '' without a sort key). */
export interface DocItemsTable {
  table_name: string;
  pk: string;
  sk: string;
  /** The item as JSON. */
  item: string;
  version: number;
}

/** One change stream record. */
export interface DocStreamTable {
  table_name: string;
  seq: SeqColumn;
  /** INSERT, MODIFY or REMOVE. */
  event_name: string;
  /** The key attributes as JSON. */
  keys: string;
  old_image: string | null;
  new_image: string | null;
  created_at: EpochMs;
}

/** One change stream trigger (function ← table) and its checkpoint. */
export interface DocTriggersTable {
  id: string;
  app: string;
  function_name: string;
  table_name: string;
  batch_size: number;
  starting_position: string;
  maximum_retry_attempts: number;
  /** 0 or 1. */
  bisect_on_error: number;
  checkpoint: SeqColumn;
  created_at: EpochMs;
}

/** The tables of document tables and their change stream, merged into {@link Database}. */
export interface DocumentTables {
  doc_tables: DocTablesTable;
  doc_items: DocItemsTable;
  doc_stream: DocStreamTable;
  doc_triggers: DocTriggersTable;
}
