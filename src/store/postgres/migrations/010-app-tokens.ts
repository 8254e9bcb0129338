// PostgreSQL migration 010: issued app tokens (their ids, expiry and revocation).

import { sql } from 'kysely';
import type { Kysely, Migration } from 'kysely';

// Statements run in order; see 001-initial.ts for the style (one `sql` template each).
const STATEMENTS: ReadonlyArray<{ execute(db: Kysely<unknown>): Promise<unknown> }> = [
  sql`CREATE TABLE app_tokens (
    id TEXT PRIMARY KEY,
    app TEXT NOT NULL,
    issued_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    revoked_at BIGINT
  )`,
  // Listing an app's live tokens and pruning expired ones.
  sql`CREATE INDEX app_tokens_app ON app_tokens (app, expires_at)`,
  sql`CREATE INDEX app_tokens_expires ON app_tokens (expires_at)`,
];

/** Creates the table of issued app tokens. */
export const migration010AppTokens: Migration = {
  async up(db: Kysely<unknown>): Promise<void> {
    for (const statement of STATEMENTS) await statement.execute(db);
  },
};
