// SQLite migration 005: queues, their messages, FIFO deduplication ids and queue triggers.

import { sql } from 'kysely';
import type { Kysely, Migration } from 'kysely';

const STATEMENTS = [
  sql`CREATE TABLE queues (
    name TEXT PRIMARY KEY,
    settings TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
  )`,
  sql`CREATE TABLE queue_messages (
    seq INTEGER PRIMARY KEY,
    queue_name TEXT NOT NULL,
    message_id TEXT NOT NULL,
    body TEXT NOT NULL,
    attributes TEXT,
    group_id TEXT,
    dedup_id TEXT,
    sent_at INTEGER NOT NULL,
    visible_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    receive_count INTEGER NOT NULL DEFAULT 0,
    first_received_at INTEGER,
    receipt TEXT,
    source_queue TEXT
  )`,
  // The claim scans one queue's visible messages oldest first: (queue, visible_at, seq) serves
  // both the range on visible_at and the counts.
  sql`CREATE INDEX queue_messages_claim ON queue_messages (queue_name, visible_at, seq)`,
  // FIFO: "is any message of this group in flight / earlier and not yet visible" per candidate.
  sql`CREATE INDEX queue_messages_group ON queue_messages (queue_name, group_id, seq)`,
  // Retention sweep.
  sql`CREATE INDEX queue_messages_expiry ON queue_messages (expires_at)`,
  sql`CREATE TABLE queue_dedup (
    queue_name TEXT NOT NULL,
    dedup_id TEXT NOT NULL,
    message_id TEXT NOT NULL,
    seq INTEGER,
    expires_at INTEGER NOT NULL,
    PRIMARY KEY (queue_name, dedup_id)
  )`,
  sql`CREATE INDEX queue_dedup_expiry ON queue_dedup (expires_at)`,
  sql`CREATE TABLE queue_triggers (
    id TEXT PRIMARY KEY,
    app TEXT NOT NULL,
    function_name TEXT NOT NULL,
    queue_name TEXT NOT NULL,
    settings TEXT NOT NULL,
    created_at INTEGER NOT NULL
  )`,
  sql`CREATE INDEX queue_triggers_app ON queue_triggers (app, function_name)`,
];

/** Creates the tables for queues and their messages. */
export const migration005Queues: Migration = {
  async up(db: Kysely<unknown>): Promise<void> {
    for (const statement of STATEMENTS) await statement.execute(db);
  },
};
