// LogStore over Kysely: batched appends and cursor queries of function log lines.

import type { Kysely } from 'kysely';
import type { LogLine, LogStore } from '../store.js';
import type { Database } from './database.js';
import { toMs } from './database.js';

/** Rows per INSERT: 7 columns × 500 stays far below SQLite's 32766 bound parameters. */
const BATCH_ROWS = 500;

/** Lines returned by a query without `limit`. @default 1000 */
export const DEFAULT_LOG_LIMIT = 1000;

/** {@link LogStore} for any Kysely dialect. */
export class KyselyLogStore implements LogStore {
  readonly #db: Kysely<Database>;

  constructor(db: Kysely<Database>) {
    this.#db = db;
  }

  async append(lines: readonly LogLine[]): Promise<void> {
    if (lines.length === 0) return;
    const rows = lines.map((line) => ({
      function_name: line.functionName,
      version: line.version,
      request_id: line.requestId,
      timestamp: line.timestamp,
      stream: line.stream,
      message: line.message,
    }));
    // One transaction per batch: one commit (one WAL sync point) however many lines.
    await this.#db.transaction().execute(async (trx) => {
      for (let i = 0; i < rows.length; i += BATCH_ROWS) {
        await trx
          .insertInto('log_lines')
          .values(rows.slice(i, i + BATCH_ROWS))
          .execute();
      }
    });
  }

  async query(q: {
    functionName: string;
    sinceMs?: number;
    afterId?: number;
    limit?: number;
  }): Promise<LogLine[]> {
    let query = this.#db
      .selectFrom('log_lines')
      .selectAll()
      .where('function_name', '=', q.functionName)
      .orderBy('id')
      .limit(Math.max(0, q.limit ?? DEFAULT_LOG_LIMIT));
    if (q.sinceMs !== undefined) query = query.where('timestamp', '>=', q.sinceMs);
    if (q.afterId !== undefined) query = query.where('id', '>', q.afterId);
    const rows = await query.execute();
    return rows.map((row) => ({
      id: Number(row.id),
      functionName: row.function_name,
      version: row.version,
      requestId: row.request_id,
      timestamp: toMs(row.timestamp),
      stream: row.stream as LogLine['stream'],
      message: row.message,
    }));
  }
}
