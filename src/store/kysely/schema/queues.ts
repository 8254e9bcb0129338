// Kysely table types of queues, their messages, FIFO deduplication ids and queue triggers (migration 005).

import type { ColumnType } from 'kysely';
import type { EpochMs } from '../database.js';

/** One queue: its settings as JSON (QueueSettings, fully defaulted). */
export interface QueuesTable {
  name: string;
  settings: string;
  created_at: EpochMs;
  updated_at: EpochMs;
}

/**
 * One message. A message is delayed (`receive_count` 0, `visible_at` in the future), in flight
 * (`receive_count` > 0, `visible_at` in the future) or visible (`visible_at` passed).
 * `seq` orders messages and is a FIFO queue's sequence number.
 */
export interface QueueMessagesTable {
  /** INTEGER PRIMARY KEY (SQLite rowid) / BIGSERIAL. */
  seq: ColumnTypeSeq;
  queue_name: string;
  message_id: string;
  body: string;
  /** User message attributes as JSON, or null. */
  attributes: string | null;
  group_id: string | null;
  dedup_id: string | null;
  sent_at: EpochMs;
  visible_at: EpochMs;
  expires_at: EpochMs;
  receive_count: number;
  first_received_at: EpochMs | null;
  /** Token of the latest receive (part of the receipt handle), null before the first. */
  receipt: string | null;
  /** The queue a dead-lettered message came from (for redrive back), else null. */
  source_queue: string | null;
}

/** FIFO deduplication ids seen in the last 5 minutes, per queue. */
export interface QueueDedupTable {
  queue_name: string;
  dedup_id: string;
  message_id: string;
  seq: number | string | null;
  expires_at: EpochMs;
}

/** Queue triggers (event source mappings): a function polled with batches of a queue. */
export interface QueueTriggersTable {
  id: string;
  app: string;
  function_name: string;
  queue_name: string;
  /** QueueTriggerSettings as JSON. */
  settings: string;
  created_at: EpochMs;
}

/** A generated bigint key: a number on SQLite, a string from `pg`. */
export type ColumnTypeSeq = ColumnType<number | string, never, never>;

/** The tables of queues and their messages, merged into {@link Database}. */
export interface QueueTables {
  queues: QueuesTable;
  queue_messages: QueueMessagesTable;
  queue_dedup: QueueDedupTable;
  queue_triggers: QueueTriggersTable;
}
