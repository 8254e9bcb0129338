// The PostgreSQL backend: a pg Pool behind Kysely, one schema per store, for clusters.

import pg from 'pg';
import { Kysely, PostgresDialect, sql } from 'kysely';
import { NimbusError } from '../../errors.js';
import type { StoreCoordination } from '../coordination.js';
import type { Database } from '../kysely/database.js';
import { createKyselyStore } from '../kysely/kysely-store.js';
import { migrateToLatest } from '../kysely/migrate.js';
import type { Capabilities, Store } from '../store.js';
import { POSTGRES_MIGRATIONS } from './migrations/index.js';
import { PgAdvisoryLocks, PgNotifier, PgSessions } from './pg-coordination.js';
import type { PgSession } from './pg-coordination.js';

/** What PostgreSQL can do: everything a cluster needs. */
export const POSTGRES_CAPABILITIES: Capabilities = Object.freeze({
  skipLocked: true,
  listenNotify: true,
  advisoryLocks: true,
  multipleWriters: true,
});

/** Options for {@link openPostgresStore}. */
export interface PostgresStoreOptions {
  /** `postgres://user:pass@host:port/db` (any libpq-style URL `pg` accepts). */
  readonly url: string;
  /**
   * Schema holding the tables; created if missing and put on the `search_path` of every
   * connection. Lowercase letters, digits and `_`. @default the server's current schema (public)
   */
  readonly schema?: string | undefined;
  /** Connections in the query pool. @default 10 */
  readonly poolSize?: number;
}

/** Unquoted identifiers only: what `search_path` in a startup option can carry without escaping. */
const SCHEMA_PATTERN = /^[a-z_][a-z0-9_]{0,62}$/;

/** Driver error codes that mean "the URL is wrong or the server is not there", not a bug. */
const CONNECT_ERRORS = new Set([
  'ECONNREFUSED',
  'ENOTFOUND',
  'EAI_AGAIN',
  'ETIMEDOUT',
  '28P01',
  '28000',
  '3D000',
]);

/** The URL without its password, for error messages. */
export function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password !== '') parsed.password = '***';
    return parsed.toString();
  } catch {
    return url.replace(/:[^:@/]*@/, ':***@');
  }
}

function connectError(url: string, err: unknown): unknown {
  const code = (err as { code?: unknown }).code;
  if (typeof code !== 'string' || !CONNECT_ERRORS.has(code)) return err;
  return new NimbusError(
    'InvalidConfigError',
    `Could not connect to PostgreSQL at ${redactUrl(url)}: ${(err as Error).message} (${code}). ` +
      'Check the store URL (host, port, user, password, database) and that the server is running.',
    { cause: err },
  );
}

/** Opens (creating the schema if needed) and migrates a PostgreSQL store. */
export async function openPostgresStore(options: PostgresStoreOptions): Promise<Store & StoreCoordination> {
  const { url, schema } = options;
  if (schema !== undefined && !SCHEMA_PATTERN.test(schema)) {
    throw new NimbusError(
      'InvalidConfigError',
      `PostgreSQL schema '${schema}' is not a plain identifier; use lowercase letters, digits and _ ` +
        '(at most 63, not starting with a digit).',
    );
  }
  const clientConfig: pg.ClientConfig = {
    connectionString: url,
    application_name: 'nimbus',
    ...(schema === undefined ? {} : { options: `-c search_path=${schema}` }),
  };
  if (schema !== undefined) await createSchema(clientConfig, schema, url);

  const pool = new pg.Pool({ ...clientConfig, max: options.poolSize ?? 10 });
  // An idle pooled client whose server connection drops emits 'error' on the pool; without a
  // listener that would crash the process. The next checkout simply opens a new connection.
  pool.on('error', () => undefined);
  const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
  const sessions = new PgSessions(() => new pg.Client(clientConfig) as unknown as PgSession);
  try {
    const row = await sql<{ schema: string | null }>`select current_schema() as schema`.execute(db);
    const current = row.rows[0]?.schema ?? null;
    if (current === null) {
      throw new NimbusError(
        'InvalidConfigError',
        `PostgreSQL at ${redactUrl(url)} has no schema on its search_path; pass a schema or create 'public'.`,
      );
    }
    if (schema !== undefined && current !== schema) {
      // The URL's own `options` parameter overrides ours in pg; refuse rather than migrate elsewhere.
      throw new NimbusError(
        'InvalidConfigError',
        `PostgreSQL sessions use schema '${current}', not the configured '${schema}'; remove the ` +
          'search_path from the URL options or drop the schema setting.',
      );
    }
    await migrateToLatest(db as Kysely<unknown>, POSTGRES_MIGRATIONS, current);
    return createKyselyStore({
      kind: 'postgres',
      db,
      capabilities: POSTGRES_CAPABILITIES,
      notifier: new PgNotifier(db, sessions, current),
      locks: new PgAdvisoryLocks(sessions, current),
      beforeClose: () => sessions.closeAll(),
    });
  } catch (err) {
    await db.destroy().catch(() => undefined);
    throw connectError(url, err);
  }
}

async function createSchema(config: pg.ClientConfig, schema: string, url: string): Promise<void> {
  const client = new pg.Client({ ...config, options: undefined });
  client.on('error', () => undefined);
  try {
    await client.connect();
    await client.query(`CREATE SCHEMA IF NOT EXISTS "${schema}"`);
  } catch (err) {
    // Two nodes creating the same schema at once: IF NOT EXISTS can still race into a
    // unique violation (23505) or duplicate_schema (42P06); the schema exists either way.
    const code = (err as { code?: unknown }).code;
    if (code !== '23505' && code !== '42P06') throw connectError(url, err);
  } finally {
    await client.end().catch(() => undefined);
  }
}
