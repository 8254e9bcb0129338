// PostgreSQL migration 013: the trace header an async invocation was accepted with (recursive loop detection).

import { sql } from 'kysely';
import type { Kysely, Migration } from 'kysely';

/** Adds `invocations.trace_header`: the X-Ray header (with its Lineage) of the enqueuing request. */
export const migration013InvocationTrace: Migration = {
  async up(db: Kysely<unknown>): Promise<void> {
    await sql`ALTER TABLE invocations ADD COLUMN trace_header TEXT`.execute(db);
  },
};
