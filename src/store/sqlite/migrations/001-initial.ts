// SQLite migration 001: the initial schema (functions, code, queue, logs, credentials, settings).

import { sql } from 'kysely';
import type { Kysely, Migration } from 'kysely';

const STATEMENTS = [
  sql`CREATE TABLE functions (
    full_name TEXT PRIMARY KEY,
    app TEXT NOT NULL,
    name TEXT NOT NULL,
    created_at TEXT NOT NULL
  )`,
  sql`CREATE INDEX functions_app ON functions (app, full_name)`,
  sql`CREATE TABLE function_versions (
    function_name TEXT NOT NULL,
    seq INTEGER NOT NULL,
    code_sha256 TEXT NOT NULL,
    code_size INTEGER NOT NULL,
    config TEXT NOT NULL,
    description TEXT,
    created_at TEXT NOT NULL,
    PRIMARY KEY (function_name, seq)
  )`,
  sql`CREATE TABLE aliases (
    function_name TEXT NOT NULL,
    name TEXT NOT NULL,
    version TEXT NOT NULL,
    additional_version TEXT,
    additional_weight REAL,
    description TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    PRIMARY KEY (function_name, name)
  )`,
  sql`CREATE TABLE code_blobs (
    sha256 TEXT PRIMARY KEY,
    bytes BLOB NOT NULL,
    size INTEGER NOT NULL,
    created_at TEXT NOT NULL
  )`,
  sql`CREATE TABLE invocations (
    id TEXT PRIMARY KEY,
    function_name TEXT NOT NULL,
    qualifier TEXT NOT NULL,
    payload BLOB NOT NULL,
    status TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    created_at INTEGER NOT NULL,
    available_at INTEGER NOT NULL,
    lease_until INTEGER,
    result BLOB,
    error TEXT,
    finished_at INTEGER
  )`,
  // Claims scan by status then time; finished rows never match either branch.
  sql`CREATE INDEX invocations_claim ON invocations (status, available_at)`,
  sql`CREATE INDEX invocations_lease ON invocations (status, lease_until)`,
  // AUTOINCREMENT so ids are never reused after deletes: they are cursors.
  sql`CREATE TABLE log_lines (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    function_name TEXT NOT NULL,
    version TEXT NOT NULL,
    request_id TEXT NOT NULL,
    timestamp INTEGER NOT NULL,
    stream TEXT NOT NULL,
    message TEXT NOT NULL
  )`,
  sql`CREATE INDEX log_lines_function ON log_lines (function_name, id)`,
  sql`CREATE INDEX log_lines_function_time ON log_lines (function_name, timestamp)`,
  sql`CREATE TABLE access_keys (
    access_key_id TEXT PRIMARY KEY,
    secret_hash TEXT NOT NULL,
    secret_encrypted TEXT NOT NULL,
    name TEXT NOT NULL,
    created_at TEXT NOT NULL
  )`,
  sql`CREATE TABLE tokens (
    token_hash TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    scopes TEXT NOT NULL,
    created_at TEXT NOT NULL
  )`,
  sql`CREATE TABLE settings (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL
  )`,
];

/** Creates every table of the first schema version. */
export const migration001Initial: Migration = {
  async up(db: Kysely<unknown>): Promise<void> {
    // better-sqlite3 prepares one statement at a time, so DDL runs statement by statement.
    for (const statement of STATEMENTS) await statement.execute(db);
  },
};
