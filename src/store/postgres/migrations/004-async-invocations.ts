// PostgreSQL migration 004: async invocations: destinations, dead letters, idempotency keys.

import { sql } from 'kysely';
import type { Kysely, Migration } from 'kysely';

const STATEMENTS = [
  // Destination delivery of a finished invocation: NULL (none configured), 'pending' (the
  // outcome is committed, the record not yet delivered; lease_until says when another claim may
  // redeliver it), 'delivered' or 'failed' (gave up; delivery_error says why).
  sql`ALTER TABLE invocations ADD COLUMN delivery TEXT`,
  sql`ALTER TABLE invocations ADD COLUMN delivery_attempts INTEGER NOT NULL DEFAULT 0`,
  sql`ALTER TABLE invocations ADD COLUMN delivery_error TEXT`,
  // Lambda's record condition: Success, RetriesExhausted, EventAgeExceeded, FunctionNotFound.
  sql`ALTER TABLE invocations ADD COLUMN outcome_condition TEXT`,
  sql`ALTER TABLE invocations ADD COLUMN executed_version TEXT`,
  sql`ALTER TABLE invocations ADD COLUMN idempotency_key TEXT`,
  // Epoch ms of the first claim (enqueue-to-start latency).
  sql`ALTER TABLE invocations ADD COLUMN started_at BIGINT`,
  // The node whose process claimed it (a stable id kept in its data dir): a restarted node
  // requeues its own running claims at once instead of waiting out their lease.
  sql`ALTER TABLE invocations ADD COLUMN claimed_by TEXT`,
  sql`CREATE INDEX invocations_delivery ON invocations (lease_until) WHERE delivery = 'pending'`,
  // One row per (function, key): the primary key makes a concurrent double enqueue insert one row.
  sql`CREATE TABLE invocation_idempotency (
    function_name TEXT NOT NULL,
    idempotency_key TEXT NOT NULL,
    invocation_id TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (function_name, idempotency_key)
  )`,
  sql`CREATE INDEX invocation_idempotency_created ON invocation_idempotency (created_at)`,
];

/** Adds destination delivery state and idempotency keys to async invocations. */
export const migration004AsyncInvocations: Migration = {
  async up(db: Kysely<unknown>): Promise<void> {
    for (const statement of STATEMENTS) await statement.execute(db);
  },
};
