// PostgreSQL migration 014: the trace header of a bucket event's writer (recursive loop detection).

import { sql } from 'kysely';
import type { Kysely, Migration } from 'kysely';

/** Adds `bucket_event_outbox.trace_header`: the X-Ray header (with its Lineage) of the object change's writer. */
export const migration014BucketEventTrace: Migration = {
  async up(db: Kysely<unknown>): Promise<void> {
    await sql`ALTER TABLE bucket_event_outbox ADD COLUMN trace_header TEXT`.execute(db);
  },
};
