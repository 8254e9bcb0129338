// SQLite migration 007: buckets, object metadata, multipart uploads, bucket triggers and the
// bucket event outbox.

import { sql } from 'kysely';
import type { Kysely, Migration } from 'kysely';

// Keys are TEXT with SQLite's default BINARY collation: memcmp over UTF-8, which is the bytewise
// order S3 lists keys in, so `ORDER BY key` and `key > ?` need nothing more.
const STATEMENTS = [
  sql`CREATE TABLE buckets (
    name TEXT PRIMARY KEY,
    created_at INTEGER NOT NULL
  )`,
  // The primary key (bucket, key) is the listing index: prefix scans and continuation seek on it.
  sql`CREATE TABLE objects (
    bucket TEXT NOT NULL,
    key TEXT NOT NULL,
    file_id TEXT NOT NULL,
    size INTEGER NOT NULL,
    etag TEXT NOT NULL,
    content_type TEXT NOT NULL,
    content_encoding TEXT,
    content_disposition TEXT,
    cache_control TEXT,
    metadata TEXT NOT NULL,
    last_modified INTEGER NOT NULL,
    PRIMARY KEY (bucket, key)
  )`,
  sql`CREATE INDEX objects_file ON objects (file_id)`,
  sql`CREATE TABLE multipart_uploads (
    upload_id TEXT PRIMARY KEY,
    bucket TEXT NOT NULL,
    key TEXT NOT NULL,
    options TEXT NOT NULL,
    initiated_at INTEGER NOT NULL
  )`,
  sql`CREATE INDEX multipart_uploads_bucket ON multipart_uploads (bucket, key)`,
  sql`CREATE TABLE multipart_parts (
    upload_id TEXT NOT NULL,
    part_number INTEGER NOT NULL,
    file_id TEXT NOT NULL,
    size INTEGER NOT NULL,
    etag TEXT NOT NULL,
    last_modified INTEGER NOT NULL,
    PRIMARY KEY (upload_id, part_number)
  )`,
  sql`CREATE INDEX multipart_parts_file ON multipart_parts (file_id)`,
  sql`CREATE TABLE bucket_triggers (
    app TEXT NOT NULL,
    function_name TEXT NOT NULL,
    position INTEGER NOT NULL,
    bucket TEXT NOT NULL,
    events TEXT NOT NULL,
    prefix TEXT NOT NULL,
    suffix TEXT NOT NULL,
    PRIMARY KEY (function_name, position)
  )`,
  sql`CREATE INDEX bucket_triggers_bucket ON bucket_triggers (bucket)`,
  sql`CREATE INDEX bucket_triggers_app ON bucket_triggers (app)`,
  // Notifications written in the same transaction as the object change they describe, drained
  // by src/events/buckets/ into async invocations (at least once).
  sql`CREATE TABLE bucket_event_outbox (
    id TEXT PRIMARY KEY,
    function_name TEXT NOT NULL,
    payload BLOB NOT NULL,
    created_at INTEGER NOT NULL,
    available_at INTEGER NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0
  )`,
  sql`CREATE INDEX bucket_event_outbox_available ON bucket_event_outbox (available_at)`,
];

/** Creates the tables for buckets, object metadata, multipart uploads and bucket events. */
export const migration007Buckets: Migration = {
  async up(db: Kysely<unknown>): Promise<void> {
    for (const statement of STATEMENTS) await statement.execute(db);
  },
};
