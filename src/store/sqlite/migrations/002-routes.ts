// SQLite migration 002: HTTP gateway routes per app, and each app's gateway settings.

import { sql } from 'kysely';
import type { Kysely, Migration } from 'kysely';

const STATEMENTS = [
  // route_key is the conflict key (method + full path, variable names erased): its primary key
  // is what refuses a second app claiming a route, inside the deploy transaction.
  sql`CREATE TABLE routes (
    route_key TEXT PRIMARY KEY,
    app TEXT NOT NULL,
    function_name TEXT NOT NULL,
    method TEXT NOT NULL,
    path TEXT NOT NULL,
    payload TEXT NOT NULL,
    position INTEGER NOT NULL
  )`,
  sql`CREATE INDEX routes_app ON routes (app, position)`,
  sql`CREATE INDEX routes_function ON routes (function_name)`,
  sql`CREATE TABLE app_gateways (
    app TEXT PRIMARY KEY,
    base_path TEXT NOT NULL,
    cors TEXT,
    updated_at TEXT NOT NULL
  )`,
];

/** Adds the `routes` and `app_gateways` tables. */
export const migration002Routes: Migration = {
  async up(db: Kysely<unknown>): Promise<void> {
    for (const statement of STATEMENTS) await statement.execute(db);
  },
};
