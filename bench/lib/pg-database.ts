// A throwaway PostgreSQL database per benchmark run (created fresh, dropped after).

import pg from 'pg';

/** Where the benchmarks create their databases. @default postgres://postgres@127.0.0.1:5432/postgres */
export const PG_ADMIN_URL =
  process.env['NIMBUS_BENCH_PG_URL'] ?? 'postgres://postgres@127.0.0.1:5432/postgres';

async function adminQuery(sql: string): Promise<void> {
  const c = new pg.Client({ connectionString: PG_ADMIN_URL });
  await c.connect();
  try {
    await c.query(sql);
  } finally {
    await c.end();
  }
}

/** Whether the PostgreSQL server answers (benchmarks skip their PostgreSQL runs otherwise). */
export async function pgAvailable(): Promise<boolean> {
  const c = new pg.Client({ connectionString: PG_ADMIN_URL, connectionTimeoutMillis: 2000 });
  try {
    await c.connect();
    await c.end();
    return true;
  } catch {
    return false;
  }
}

/** A fresh, empty database `name` (dropped first if a crashed run left it) and how to drop it. */
export async function freshPgDatabase(name: string): Promise<{ url: string; drop: () => Promise<void> }> {
  await adminQuery(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
  await adminQuery(`CREATE DATABASE ${name}`);
  const url = new URL(PG_ADMIN_URL);
  url.pathname = `/${name}`;
  return { url: url.toString(), drop: () => adminQuery(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`) };
}
