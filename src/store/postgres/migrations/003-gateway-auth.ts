// PostgreSQL migration 003: gateway auth — route and app auth settings, API keys and their usage counters.

import { sql } from 'kysely';
import type { Kysely, Migration } from 'kysely';

const STATEMENTS = [
  sql`ALTER TABLE routes ADD COLUMN auth TEXT`,
  // Authorizers and usage plans of the app, as one JSON document (read whole with the routes).
  sql`ALTER TABLE app_gateways ADD COLUMN auth TEXT`,
  // Only the sha256 of a key is kept; key_prefix (the first characters) lets people tell keys apart.
  sql`CREATE TABLE api_keys (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    key_hash TEXT NOT NULL UNIQUE,
    key_prefix TEXT NOT NULL,
    app TEXT NOT NULL,
    plan TEXT NOT NULL,
    created_at TEXT NOT NULL,
    revoked_at TEXT
  )`,
  sql`CREATE INDEX api_keys_app ON api_keys (app)`,
  // One counter per key per quota period (`2026-11-22` or `2026-11`), added to in batches.
  sql`CREATE TABLE api_key_usage (
    key_id TEXT NOT NULL,
    period TEXT NOT NULL,
    count BIGINT NOT NULL,
    PRIMARY KEY (key_id, period)
  )`,
];

/** Adds route/app auth columns and the `api_keys` and `api_key_usage` tables. */
export const migration003GatewayAuth: Migration = {
  async up(db: Kysely<unknown>): Promise<void> {
    for (const statement of STATEMENTS) await statement.execute(db);
  },
};
