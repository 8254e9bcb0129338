// Runs a backend's numbered migrations with Kysely's Migrator, tracked in `nimbus_migrations`.

import { Migrator } from 'kysely';
import type { Kysely, Migration } from 'kysely';
import { NimbusError } from '../../errors.js';

/**
 * Applies every pending migration, in name order. Kysely's Migrator holds a lock while it runs
 * (an advisory lock on PostgreSQL), so nodes starting together migrate once.
 *
 * @param schema Where the migration tables live (PostgreSQL); undefined on SQLite.
 */
export async function migrateToLatest(
  db: Kysely<unknown>,
  migrations: Readonly<Record<string, Migration>>,
  schema?: string,
): Promise<void> {
  const migrator = new Migrator({
    db,
    provider: { getMigrations: () => Promise.resolve({ ...migrations }) },
    migrationTableName: 'nimbus_migrations',
    migrationLockTableName: 'nimbus_migrations_lock',
    // Why explicit: the Migrator looks for its table across every schema it can see unless told
    // which one, so a second schema in the same database would be mistaken for this one.
    ...(schema === undefined ? {} : { migrationTableSchema: schema }),
  });
  let { error, results } = await migrator.migrateToLatest();
  // Kysely's introspection lists tables across every schema of the database; a schema dropped by
  // another process in the middle (other test files, other Nimbus stores on the same server)
  // makes it fail with invalid_schema_name (3F000) or undefined_table (42P01, a table of that
  // schema) although nothing is wrong with ours. Retry; a real error fails again the same way.
  for (let attempt = 1; attempt <= 5 && error !== undefined && isVanishedSchema(error); attempt++) {
    await new Promise((resolve) => setTimeout(resolve, 20 * attempt));
    ({ error, results } = await migrator.migrateToLatest());
  }
  if (error !== undefined) {
    const failed = results?.find((r) => r.status === 'Error')?.migrationName ?? 'unknown';
    throw new NimbusError(
      'ServiceException',
      `Store migration '${failed}' failed: ${error instanceof Error ? error.message : String(error)}. ` +
        'The database was left at the last successful migration; fix the cause and restart.',
      { cause: error },
    );
  }
}

/** A "schema (or its table) does not exist" error of PostgreSQL (SQLSTATE 3F000 or 42P01). */
function isVanishedSchema(error: unknown): boolean {
  const code = typeof error === 'object' && error !== null ? (error as { code?: unknown }).code : undefined;
  return code === '3F000' || code === '42P01';
}
