// The async benchmark's view of the server's store: counts and timestamps of invocations, read
// straight from the SQLite file or the PostgreSQL database the server process writes.
import BetterSqlite3 from 'better-sqlite3';
import pg from 'pg';
import { sleep } from './lib/stats.js';

type Row = Record<string, unknown>;

/** A read-only SQL reader of one store. */
export class AsyncCounts {
  readonly #query: (sql: string, params: unknown[]) => Promise<Row[]>;
  readonly #close: () => Promise<void>;

  private constructor(query: (sql: string, params: unknown[]) => Promise<Row[]>, close: () => Promise<void>) {
    this.#query = query;
    this.#close = close;
  }

  /** Open a reader for a store URL (`sqlite:/path.db` or `postgres://…`). */
  static async open(url: string): Promise<AsyncCounts> {
    if (url.startsWith('sqlite:')) {
      const db = new BetterSqlite3(url.slice('sqlite:'.length));
      db.pragma('busy_timeout = 5000');
      return new AsyncCounts(
        async (sql, params) => db.prepare(sql.replace(/\$\d+/g, '?')).all(...params) as Row[],
        async () => void db.close(),
      );
    }
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    return new AsyncCounts(
      async (sql, params) => (await client.query(sql, params)).rows as Row[],
      () => client.end(),
    );
  }

  async #number(sql: string, params: unknown[] = []): Promise<number> {
    const [row] = await this.#query(sql, params);
    return Number(Object.values(row ?? {})[0] ?? 0);
  }

  /** Invocations that succeeded so far. */
  succeeded(): Promise<number> {
    return this.#number(`SELECT count(*) AS n FROM invocations WHERE status = 'succeeded'`);
  }

  /** Epoch ms of the latest finish. */
  lastFinishedAt(): Promise<number> {
    return this.#number(`SELECT max(finished_at) AS t FROM invocations`);
  }

  /** Wait until nothing is queued or running. */
  async waitIdle(timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (
      (await this.#number(`SELECT count(*) FROM invocations WHERE status IN ('queued', 'running')`)) > 0
    ) {
      if (Date.now() > deadline) throw new Error('async invocations did not drain');
      await sleep(20);
    }
  }

  /** Wait until `n` invocations in all have succeeded. */
  async waitSucceeded(n: number, timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while ((await this.succeeded()) < n) {
      if (Date.now() > deadline) throw new Error(`fewer than ${n} invocations succeeded in time`);
      await sleep(20);
    }
  }

  /** Wait for one invocation to succeed; its enqueue time and the function's start (its result). */
  async waitFinished(
    id: string,
    timeoutMs: number,
  ): Promise<{ createdAt: number; functionStartedAt: number }> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const [row] = await this.#query(`SELECT status, created_at, result FROM invocations WHERE id = $1`, [
        id,
      ]);
      if (row?.status === 'succeeded') {
        return { createdAt: Number(row.created_at), functionStartedAt: Number(String(row.result)) };
      }
      if (row?.status === 'failed') throw new Error(`invocation ${id} failed`);
      if (Date.now() > deadline) throw new Error(`invocation ${id} did not finish`);
      // Poll fast: the wait itself does not count (the times come from the server).
      await sleep(1);
    }
  }

  close(): Promise<void> {
    return this.#close();
  }
}
