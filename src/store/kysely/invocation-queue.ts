// InvocationQueue over Kysely: durable enqueue, leased claims, completion and retry.

import type { Kysely, Selectable } from 'kysely';
import type { Notifier } from '../coordination.js';
import { INVOCATIONS_CHANNEL } from '../coordination.js';
import type { AsyncInvocation, AsyncInvocationStatus, Capabilities, InvocationQueue } from '../store.js';
import type { Database, InvocationsTable } from './database.js';
import { toMs, toMsOrUndefined } from './database.js';

function toInvocation(row: Selectable<InvocationsTable>): AsyncInvocation {
  return {
    id: row.id,
    functionName: row.function_name,
    qualifier: row.qualifier,
    payload: row.payload,
    status: row.status as AsyncInvocationStatus,
    attempts: Number(row.attempts),
    createdAt: toMs(row.created_at),
    availableAt: toMs(row.available_at),
    result: row.result ?? undefined,
    error: row.error ?? undefined,
    finishedAt: toMsOrUndefined(row.finished_at),
  };
}

/**
 * {@link InvocationQueue} for any Kysely dialect. Times come from this process's clock
 * (`Date.now()`), the same clock callers use for `availableAt`; cluster nodes are expected to
 * run NTP, and a skew only shifts when a lease is seen as expired.
 */
export class KyselyInvocationQueue implements InvocationQueue {
  readonly #db: Kysely<Database>;
  readonly #capabilities: Capabilities;
  readonly #notifier: Notifier | undefined;

  constructor(db: Kysely<Database>, capabilities: Capabilities, notifier?: Notifier) {
    this.#db = db;
    this.#capabilities = capabilities;
    this.#notifier = notifier;
  }

  async enqueue(inv: {
    id: string;
    functionName: string;
    qualifier: string;
    payload: Buffer;
    availableAt?: number;
  }): Promise<void> {
    const now = Date.now();
    // A single-statement insert is its own transaction: when it resolves the row is committed
    // (SQLite: in the WAL; PostgreSQL: flushed per synchronous_commit), which is the durability
    // the 202 Accepted promises.
    await this.#db
      .insertInto('invocations')
      .values({
        id: inv.id,
        function_name: inv.functionName,
        qualifier: inv.qualifier,
        payload: inv.payload,
        status: 'queued',
        attempts: 0,
        created_at: now,
        available_at: inv.availableAt ?? now,
      })
      .execute();
    if (this.#notifier !== undefined) {
      // Wakes consumers on other nodes; they also poll, so a lost notification only delays.
      await this.#notifier.notify(INVOCATIONS_CHANNEL, inv.id).catch(() => undefined);
    }
  }

  async claim(limit: number, leaseMs: number): Promise<AsyncInvocation[]> {
    if (limit <= 0) return [];
    const now = Date.now();
    let pick = this.#db
      .selectFrom('invocations')
      .select('id')
      .where((eb) =>
        eb.or([
          eb.and([eb('status', '=', 'queued'), eb('available_at', '<=', now)]),
          eb.and([eb('status', '=', 'running'), eb('lease_until', '<=', now)]),
        ]),
      )
      .orderBy('available_at')
      .orderBy('created_at')
      .limit(limit);
    // Where rows can be locked, skip the ones another claimer is taking instead of waiting for
    // it (and then re-checking stale rows). Without the ability, the backend has one writer at a
    // time (SQLite's write lock), so the single UPDATE below is already exclusive.
    if (this.#capabilities.skipLocked) pick = pick.forUpdate().skipLocked();
    const rows = await this.#db
      // MATERIALIZED so the picked set is computed exactly once: an inlined `IN (... LIMIT n)`
      // may be re-scanned by the planner, which with SKIP LOCKED can pick different rows.
      .with(
        (cte) => cte('picked').materialized(),
        () => pick,
      )
      .updateTable('invocations')
      .set((eb) => ({ status: 'running', attempts: eb('attempts', '+', 1), lease_until: now + leaseMs }))
      .where('id', 'in', (eb) => eb.selectFrom('picked').select('picked.id'))
      .returningAll()
      .execute();
    // RETURNING order is unspecified on both backends; hand out oldest first.
    return rows.map(toInvocation).sort((a, b) => a.availableAt - b.availableAt || a.createdAt - b.createdAt);
  }

  async complete(
    id: string,
    outcome: { status: 'succeeded' | 'failed'; result?: Buffer; error?: string },
  ): Promise<void> {
    await this.#db
      .updateTable('invocations')
      .set({
        status: outcome.status,
        result: outcome.result ?? null,
        error: outcome.error ?? null,
        finished_at: Date.now(),
        lease_until: null,
      })
      .where('id', '=', id)
      .execute();
  }

  async requeueRunning(): Promise<number> {
    const result = await this.#db
      .updateTable('invocations')
      .set({ status: 'queued', lease_until: null })
      .where('status', '=', 'running')
      .executeTakeFirst();
    return Number(result.numUpdatedRows);
  }

  async release(id: string, availableAt: number, error?: string): Promise<void> {
    await this.#db
      .updateTable('invocations')
      .set({
        status: 'queued',
        available_at: availableAt,
        lease_until: null,
        // Keep the last error of a retried invocation so operators can see why it is retrying.
        ...(error === undefined ? {} : { error }),
      })
      .where('id', '=', id)
      .execute();
  }

  async get(id: string): Promise<AsyncInvocation | undefined> {
    const row = await this.#db.selectFrom('invocations').selectAll().where('id', '=', id).executeTakeFirst();
    return row === undefined ? undefined : toInvocation(row);
  }
}
