// SQLite migration 008: document tables and their change stream.

import { sql } from 'kysely';
import type { Kysely, Migration } from 'kysely';

const STATEMENTS = [
  // One row per table: its key schema, stream settings, and the last stream sequence number
  // (bumped by every write, which also serializes a table's writes: see document-store.ts).
  sql`CREATE TABLE doc_tables (
    name TEXT PRIMARY KEY,
    pk_name TEXT NOT NULL,
    pk_type TEXT NOT NULL,
    sk_name TEXT,
    sk_type TEXT,
    stream_enabled INTEGER NOT NULL,
    stream_view_type TEXT NOT NULL,
    last_seq INTEGER NOT NULL,
    app TEXT,
    created_at INTEGER NOT NULL
  )`,
  // pk/sk are order-preserving encodings (see key-encoding.ts); SQLite's default BINARY
  // collation compares UTF-8 bytes, which is the order DynamoDB gives strings.
  sql`CREATE TABLE doc_items (
    table_name TEXT NOT NULL,
    pk TEXT NOT NULL,
    sk TEXT NOT NULL,
    item TEXT NOT NULL,
    version INTEGER NOT NULL,
    PRIMARY KEY (table_name, pk, sk)
  )`,
  sql`CREATE TABLE doc_stream (
    table_name TEXT NOT NULL,
    seq INTEGER NOT NULL,
    event_name TEXT NOT NULL,
    keys TEXT NOT NULL,
    old_image TEXT,
    new_image TEXT,
    created_at INTEGER NOT NULL,
    PRIMARY KEY (table_name, seq)
  )`,
  sql`CREATE INDEX doc_stream_created ON doc_stream (created_at)`,
  // One row per (function, table) trigger; checkpoint = last sequence number delivered.
  sql`CREATE TABLE doc_triggers (
    id TEXT PRIMARY KEY,
    app TEXT NOT NULL,
    function_name TEXT NOT NULL,
    table_name TEXT NOT NULL,
    batch_size INTEGER NOT NULL,
    starting_position TEXT NOT NULL,
    maximum_retry_attempts INTEGER NOT NULL,
    bisect_on_error INTEGER NOT NULL,
    checkpoint INTEGER NOT NULL,
    created_at INTEGER NOT NULL
  )`,
  sql`CREATE INDEX doc_triggers_app ON doc_triggers (app)`,
];

/** Creates the tables for document tables and their change stream. */
export const migration008Tables: Migration = {
  async up(db: Kysely<unknown>): Promise<void> {
    for (const statement of STATEMENTS) await statement.execute(db);
  },
};
