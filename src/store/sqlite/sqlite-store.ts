// The SQLite backend: better-sqlite3 in WAL mode behind Kysely, the embedded default store.

import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { Kysely } from 'kysely';
import type { SqliteDatabase } from 'kysely';
import type { StoreCoordination } from '../coordination.js';
import type { Database } from '../kysely/database.js';
import { SqliteLogStore } from './sqlite-log-store.js';
import { createKyselyStore } from '../kysely/kysely-store.js';
import { migrateToLatest } from '../kysely/migrate.js';
import type { Capabilities, Store } from '../store.js';
import { SQLITE_MIGRATIONS } from './migrations/index.js';
import { TurnTakingSqliteDialect } from './turn-taking-dialect.js';

/** What SQLite can do: one writer process, no row locks, no notifications. */
export const SQLITE_CAPABILITIES: Capabilities = Object.freeze({
  skipLocked: false,
  listenNotify: false,
  advisoryLocks: false,
  multipleWriters: false,
});

/** The part of a better-sqlite3 `Database` this module uses (Kysely's subset plus pragmas). */
export interface SqliteConnection extends SqliteDatabase {
  pragma(source: string, options?: { simple?: boolean }): unknown;
}

/** Options for {@link openSqliteStore}. */
export interface SqliteStoreOptions {
  /** Database file path, or `:memory:`. Missing parent directories are created. */
  readonly path: string;
  /** How long a statement waits for another connection's write lock, in ms. @default 5000 */
  readonly busyTimeoutMs?: number;
  /** Store time per event-loop turn before the next query waits a turn (see TurnTakingSqliteDialect). @default 5 */
  readonly turnBudgetMs?: number;
}

/** Opens (creating if needed) and migrates a SQLite store. */
export async function openSqliteStore(options: SqliteStoreOptions): Promise<Store & StoreCoordination> {
  if (options.path !== ':memory:') mkdirSync(dirname(options.path), { recursive: true });
  const connection: SqliteConnection = new BetterSqlite3(options.path);
  try {
    // WAL lets readers run while one writer commits. Durability: with WAL, synchronous=NORMAL
    // makes a commit write its frames to the WAL file before returning, but fsyncs only at
    // checkpoints. A committed transaction therefore survives kill -9 of this process (the bytes
    // are in the OS page cache and the WAL is replayed on open); only an OS crash or power loss
    // can drop the last commits. That is the acknowledged-means-durable rule we need, at a
    // fraction of synchronous=FULL's fsync per commit.
    connection.pragma('journal_mode = WAL');
    connection.pragma('synchronous = NORMAL');
    connection.pragma(`busy_timeout = ${Math.max(0, Math.trunc(options.busyTimeoutMs ?? 5000))}`);
  } catch (err) {
    connection.close();
    throw err;
  }
  const db = new Kysely<Database>({
    dialect: new TurnTakingSqliteDialect({ database: connection }, options.turnBudgetMs),
  });
  try {
    await migrateToLatest(db as Kysely<unknown>, SQLITE_MIGRATIONS);
  } catch (err) {
    await db.destroy();
    throw err;
  }
  return createKyselyStore({
    kind: 'sqlite',
    db,
    capabilities: SQLITE_CAPABILITIES,
    logs: new SqliteLogStore(db, connection),
  });
}
