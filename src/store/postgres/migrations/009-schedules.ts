// PostgreSQL migration 009: schedules and their last fired ticks.

import { sql } from 'kysely';
import type { Kysely, Migration } from 'kysely';

// Statements run in order; see 001-initial.ts for the style (one `sql` template each).
const STATEMENTS: ReadonlyArray<{ execute(db: Kysely<unknown>): Promise<unknown> }> = [
  sql`CREATE TABLE schedules (
    id TEXT PRIMARY KEY,
    app TEXT NOT NULL,
    function_name TEXT NOT NULL,
    name TEXT NOT NULL,
    expression TEXT NOT NULL,
    time_zone TEXT NOT NULL,
    input TEXT,
    description TEXT,
    enabled INTEGER NOT NULL,
    catch_up INTEGER NOT NULL,
    next_fire_at BIGINT,
    last_tick BIGINT,
    pending_tick BIGINT,
    claimed_at BIGINT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    UNIQUE (app, name)
  )`,
  // The scheduler's one hot query: enabled schedules by next tick.
  sql`CREATE INDEX schedules_due ON schedules (next_fire_at) WHERE enabled = 1`,
  sql`CREATE INDEX schedules_function ON schedules (function_name)`,
];

/** Creates the tables for schedules and their last fired ticks. */
export const migration009Schedules: Migration = {
  async up(db: Kysely<unknown>): Promise<void> {
    for (const statement of STATEMENTS) await statement.execute(db);
  },
};
