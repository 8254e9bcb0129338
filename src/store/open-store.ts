// Opens the store a URL names: SQLite (embedded default) or PostgreSQL (clusters).

import { join, resolve } from 'node:path';
import { NimbusError } from '../errors.js';
import type { Store } from './store.js';

/** Options for {@link openStore}. */
export interface OpenStoreOptions {
  /**
   * Where the data lives: `sqlite:/abs/path/nimbus.db`, `sqlite:relative.db` (relative to the
   * working directory), a bare path ending in `.db`, or `postgres://...` / `postgresql://...`.
   */
  readonly url: string;
  /** PostgreSQL only: schema to create if missing and use. Ignored for SQLite. */
  readonly schema?: string | undefined;
}

/** A parsed store URL. */
export type StoreLocation =
  { readonly kind: 'sqlite'; readonly path: string } | { readonly kind: 'postgres'; readonly url: string };

const HOW_TO_FIX =
  'use sqlite:/path/to/nimbus.db (or a path ending in .db) for the embedded store, or ' +
  'postgres://user@host:5432/database for PostgreSQL';

/** Parses a store URL without opening anything. Throws `InvalidConfigError` when unsupported. */
export function parseStoreUrl(url: string): StoreLocation {
  const trimmed = url.trim();
  if (/^postgres(ql)?:\/\//i.test(trimmed)) return { kind: 'postgres', url: trimmed };
  if (/^sqlite:/i.test(trimmed)) {
    let path = trimmed.slice('sqlite:'.length);
    // Accept the URL-style `sqlite:///abs/path.db` too: two slashes of authority, then the path.
    if (path.startsWith('//')) path = path.slice(2);
    if (path === '')
      throw new NimbusError('InvalidConfigError', `Store URL '${url}' has no file path; ${HOW_TO_FIX}.`);
    return { kind: 'sqlite', path: path === ':memory:' ? path : resolve(path) };
  }
  if (!/^[a-z][a-z0-9+.-]*:\/\//i.test(trimmed) && /\.(db|sqlite|sqlite3)$/i.test(trimmed)) {
    return { kind: 'sqlite', path: resolve(trimmed) };
  }
  const shown = trimmed.replace(/:[^:@/]*@/, ':***@');
  throw new NimbusError('InvalidConfigError', `Unsupported store URL '${shown}'; ${HOW_TO_FIX}.`);
}

/**
 * Opens the store at `options.url`, creating and migrating the database as needed.
 * Backends are imported on demand, so an SQLite node never loads `pg` and vice versa.
 */
export async function openStore(options: OpenStoreOptions): Promise<Store> {
  const location = parseStoreUrl(options.url);
  if (location.kind === 'sqlite') {
    const { openSqliteStore } = await import('./sqlite/sqlite-store.js');
    return openSqliteStore({ path: location.path });
  }
  const { openPostgresStore } = await import('./postgres/postgres-store.js');
  return openPostgresStore({ url: location.url, schema: options.schema });
}

/** The default store of a node: `sqlite:<dataDir>/nimbus.db`. */
export function defaultStoreUrl(dataDir: string): string {
  return `sqlite:${join(dataDir, 'nimbus.db')}`;
}
