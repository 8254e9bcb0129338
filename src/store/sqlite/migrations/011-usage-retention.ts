// SQLite migration 011: storage usage counters of buckets and tables (kept in the transaction of
// each write, for the quotas), and indexes for the retention sweep.

import { sql } from 'kysely';
import type { Kysely, Migration } from 'kysely';

// Statements run in order; see 001-initial.ts for the style (one `sql` template each).
const STATEMENTS: ReadonlyArray<{ execute(db: Kysely<unknown>): Promise<unknown> }> = [
  // Bytes of the bucket's objects and of its multipart parts not yet completed, and its object
  // count. Why counters and not SUM(size): a put already locks its bucket row (see
  // object-store.ts), so bumping two columns there costs nothing, while a SUM is a scan of the
  // bucket's rows (1M objects: seconds) on every put.
  sql`ALTER TABLE buckets ADD COLUMN bytes INTEGER NOT NULL DEFAULT 0`,
  sql`ALTER TABLE buckets ADD COLUMN objects INTEGER NOT NULL DEFAULT 0`,
  sql`UPDATE buckets SET
    bytes = COALESCE((SELECT SUM(o.size) FROM objects o WHERE o.bucket = buckets.name), 0)
      + COALESCE((SELECT SUM(p.size) FROM multipart_parts p JOIN multipart_uploads u ON u.upload_id = p.upload_id
                  WHERE u.bucket = buckets.name), 0),
    objects = (SELECT COUNT(*) FROM objects o WHERE o.bucket = buckets.name)`,
  // Items of a table and the bytes of their JSON; every write already updates (and locks) its
  // doc_tables row, so the counters ride on it.
  sql`ALTER TABLE doc_tables ADD COLUMN item_count INTEGER NOT NULL DEFAULT 0`,
  sql`ALTER TABLE doc_tables ADD COLUMN item_bytes INTEGER NOT NULL DEFAULT 0`,
  sql`UPDATE doc_tables SET
    item_count = (SELECT COUNT(*) FROM doc_items i WHERE i.table_name = doc_tables.name),
    item_bytes = COALESCE((SELECT SUM(LENGTH(i.item)) FROM doc_items i WHERE i.table_name = doc_tables.name), 0)`,
  // The retention sweep: finished invocations and finished webhook deliveries by age.
  sql`CREATE INDEX invocations_finished ON invocations (finished_at) WHERE finished_at IS NOT NULL`,
  sql`CREATE INDEX topic_deliveries_finished ON topic_deliveries (finished_at) WHERE finished_at IS NOT NULL`,
];

/** Adds usage counters to buckets and tables, and the retention sweep's indexes. */
export const migration011UsageRetention: Migration = {
  async up(db: Kysely<unknown>): Promise<void> {
    for (const statement of STATEMENTS) await statement.execute(db);
  },
};
