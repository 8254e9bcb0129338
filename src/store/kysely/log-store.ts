// LogStore over Kysely: batched appends and cursor queries of function log lines.

import { sql } from 'kysely';
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

  async deleteOlderThan(before: number, limit: number): Promise<number> {
    // Ids grow with time, so the oldest lines are the first ids: a walk of the primary key from
    // its start, never a scan of the whole table (lines written out of time order by a few ms
    // wait for the next sweep).
    const rows = await this.#db
      .selectFrom('log_lines')
      .select(['id', 'timestamp'])
      .orderBy('id')
      .limit(limit)
      .execute();
    const old = rows.filter((r) => toMs(r.timestamp) < before).map((r) => r.id);
    for (let i = 0; i < old.length; i += BATCH_ROWS) {
      await this.#db
        .deleteFrom('log_lines')
        .where('id', 'in', old.slice(i, i + BATCH_ROWS))
        .execute();
    }
    return old.length;
  }

  async sizeByFunction(): Promise<Map<string, number>> {
    const rows = await this.#db
      .selectFrom('log_lines')
      .select(['function_name', sql<string | number>`sum(length(message))`.as('chars')])
      .groupBy('function_name')
      .execute();
    return new Map(rows.map((r) => [r.function_name, Number(r.chars)]));
  }

  async trimOldest(functionNames: readonly string[], keep: number): Promise<number> {
    if (functionNames.length === 0) return 0;
    // The newest line past which the running total (newest first) exceeds `keep`: it and every
    // older line of these functions go. A window function both SQLite (3.25+) and PostgreSQL run.
    const cut = await sql<{ id: string | number }>`
      SELECT id FROM (
        SELECT id, SUM(LENGTH(message)) OVER (ORDER BY id DESC) AS total
        FROM log_lines WHERE function_name IN (${sql.join(functionNames)})
      ) t WHERE total > ${keep} ORDER BY id DESC LIMIT 1`.execute(this.#db);
    const id = cut.rows[0]?.id;
    if (id === undefined) return 0;
    const result = await this.#db
      .deleteFrom('log_lines')
      .where('function_name', 'in', functionNames)
      .where('id', '<=', Number(id))
      .executeTakeFirst();
    return Number(result.numDeletedRows);
  }
}
