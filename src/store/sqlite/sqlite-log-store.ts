// LogStore for SQLite: appends through one cached prepared INSERT inside a transaction (queries
// go through Kysely like every other read).

import type { Kysely, SqliteDatabase, SqliteStatement } from 'kysely';
import type { LogLine, LogStore } from '../store.js';
import type { Database } from '../kysely/database.js';
import { KyselyLogStore } from '../kysely/log-store.js';

/**
 * Why a hand-written append: Kysely's SQLite driver prepares every statement it runs, and a
 * multi-row INSERT of N lines is a new statement text for each N. In the warm-invoke benchmark
 * that prepare + query compilation was ~6% of the server's CPU (3 log lines per invocation);
 * one prepared single-row INSERT reused in a transaction costs a fraction of it.
 */
export class SqliteLogStore implements LogStore {
  readonly #db: Kysely<Database>;
  readonly #reads: KyselyLogStore;
  readonly #begin: SqliteStatement;
  readonly #commit: SqliteStatement;
  readonly #rollback: SqliteStatement;
  readonly #insert: SqliteStatement;

  constructor(db: Kysely<Database>, connection: SqliteDatabase) {
    this.#db = db;
    this.#reads = new KyselyLogStore(db);
    this.#begin = connection.prepare('BEGIN');
    this.#commit = connection.prepare('COMMIT');
    this.#rollback = connection.prepare('ROLLBACK');
    this.#insert = connection.prepare(
      'INSERT INTO log_lines (function_name, version, request_id, timestamp, stream, message) VALUES (?, ?, ?, ?, ?, ?)',
    );
  }

  async append(lines: readonly LogLine[]): Promise<void> {
    if (lines.length === 0) return;
    // Holding Kysely's connection keeps this transaction from interleaving with one of its own.
    await this.#db.connection().execute(async () => {
      this.#begin.run([]);
      try {
        for (const l of lines) {
          this.#insert.run([l.functionName, l.version, l.requestId, l.timestamp, l.stream, l.message]);
        }
        this.#commit.run([]);
      } catch (err) {
        this.#rollback.run([]);
        throw err;
      }
    });
  }

  query(q: { functionName: string; sinceMs?: number; afterId?: number; limit?: number }): Promise<LogLine[]> {
    return this.#reads.query(q);
  }

  deleteOlderThan(before: number, limit: number): Promise<number> {
    return this.#reads.deleteOlderThan(before, limit);
  }

  sizeByFunction(): Promise<Map<string, number>> {
    return this.#reads.sizeByFunction();
  }

  trimOldest(functionNames: readonly string[], keep: number): Promise<number> {
    return this.#reads.trimOldest(functionNames, keep);
  }
}
