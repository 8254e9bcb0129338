// Bucket triggers and the bucket event outbox over Kysely: the event half of the ObjectStore
// (object-store.ts delegates here), kept apart so each file stays one concern.

import { randomUUID } from 'node:crypto';
import type { Kysely, Selectable, Transaction } from 'kysely';
import type { BucketTrigger, NotificationBuilder, OutboxNotification } from '../ports/objects.js';
import type { Capabilities } from '../store.js';
import type { Database } from './database.js';
import { toMs } from './database.js';
import type { BucketTriggersTable } from './schema/objects.js';

type Db = Kysely<Database> | Transaction<Database>;

function toTrigger(row: Selectable<BucketTriggersTable>): BucketTrigger {
  return {
    app: row.app,
    functionName: row.function_name,
    position: Number(row.position),
    bucket: row.bucket,
    events: JSON.parse(row.events) as string[],
    prefix: row.prefix,
    suffix: row.suffix,
  };
}

/** Triggers and outbox rows of the ObjectStore for any Kysely dialect. */
export class KyselyBucketEvents {
  readonly #db: Kysely<Database>;
  readonly #capabilities: Capabilities;

  constructor(db: Kysely<Database>, capabilities: Capabilities) {
    this.#db = db;
    this.#capabilities = capabilities;
  }

  async replaceTriggers(
    app: string,
    triggers: readonly BucketTrigger[],
    functions?: readonly string[],
  ): Promise<void> {
    await this.#db.transaction().execute(async (trx) => {
      let del = trx.deleteFrom('bucket_triggers').where('app', '=', app);
      if (functions !== undefined) {
        if (functions.length === 0 && triggers.length === 0) return;
        if (functions.length > 0) del = del.where('function_name', 'in', functions);
      }
      if (functions === undefined || functions.length > 0) await del.execute();
      if (triggers.length === 0) return;
      await trx
        .insertInto('bucket_triggers')
        .values(
          triggers.map((t) => ({
            app: t.app,
            function_name: t.functionName,
            position: t.position,
            bucket: t.bucket,
            events: JSON.stringify(t.events),
            prefix: t.prefix,
            suffix: t.suffix,
          })),
        )
        .execute();
    });
  }

  async deleteTriggers(app: string, functionName?: string): Promise<void> {
    let q = this.#db.deleteFrom('bucket_triggers').where('app', '=', app);
    if (functionName !== undefined) q = q.where('function_name', '=', functionName);
    await q.execute();
  }

  async listTriggers(bucket?: string): Promise<BucketTrigger[]> {
    let q = this.#db.selectFrom('bucket_triggers').selectAll();
    if (bucket !== undefined) q = q.where('bucket', '=', bucket);
    const rows = await q.orderBy('function_name').orderBy('position').execute();
    return rows.map(toTrigger);
  }

  async claimNotifications(limit: number, leaseMs: number): Promise<OutboxNotification[]> {
    if (limit <= 0) return [];
    const now = Date.now();
    // The drainer polls every second on every node: an empty outbox (the usual case) is answered
    // by a read, without the UPDATE, which on SQLite would take the database's write lock.
    const due = await this.#db
      .selectFrom('bucket_event_outbox')
      .select('id')
      .where('available_at', '<=', now)
      .limit(1)
      .executeTakeFirst();
    if (due === undefined) return [];
    let pick = this.#db
      .selectFrom('bucket_event_outbox')
      .select('id')
      .where('available_at', '<=', now)
      .orderBy('available_at')
      .limit(limit);
    // As in invocation-queue.ts: skip rows another node is claiming where rows can be locked;
    // otherwise the backend has one writer and the UPDATE below is exclusive by itself.
    if (this.#capabilities.skipLocked) pick = pick.forUpdate().skipLocked();
    const rows = await this.#db
      .with(
        (cte) => cte('picked').materialized(),
        () => pick,
      )
      .updateTable('bucket_event_outbox')
      .set((eb) => ({ available_at: now + leaseMs, attempts: eb('attempts', '+', 1) }))
      .where('id', 'in', (eb) => eb.selectFrom('picked').select('picked.id'))
      .returningAll()
      .execute();
    return rows
      .sort((a, b) => toMs(a.created_at) - toMs(b.created_at))
      .map((r) => ({
        id: r.id,
        functionName: r.function_name,
        payload: r.payload,
        attempts: Number(r.attempts),
        ...(r.trace_header === null || r.trace_header === undefined ? {} : { traceHeader: r.trace_header }),
      }));
  }

  async deleteNotification(id: string): Promise<void> {
    await this.#db.deleteFrom('bucket_event_outbox').where('id', '=', id).execute();
  }

  async releaseNotification(id: string, availableAt: number): Promise<void> {
    await this.#db
      .updateTable('bucket_event_outbox')
      .set({ available_at: availableAt })
      .where('id', '=', id)
      .execute();
  }

  async countNotifications(): Promise<number> {
    const row = await this.#db
      .selectFrom('bucket_event_outbox')
      .select((eb) => eb.fn.countAll().as('n'))
      .executeTakeFirstOrThrow();
    return Number(row.n);
  }

  /** Add the notifications `notify` builds from the bucket's triggers, inside the change's transaction. */
  async addNotifications(trx: Db, bucket: string, notify: NotificationBuilder | undefined): Promise<void> {
    if (notify === undefined) return;
    const triggers = await trx
      .selectFrom('bucket_triggers')
      .selectAll()
      .where('bucket', '=', bucket)
      .orderBy('function_name')
      .orderBy('position')
      .execute();
    if (triggers.length === 0) return;
    const notifications = notify(triggers.map(toTrigger));
    if (notifications.length === 0) return;
    const now = Date.now();
    await trx
      .insertInto('bucket_event_outbox')
      .values(
        notifications.map((n) => ({
          id: randomUUID(),
          function_name: n.functionName,
          payload: n.payload,
          created_at: now,
          available_at: now,
          attempts: 0,
          trace_header: n.traceHeader ?? null,
        })),
      )
      .execute();
  }
}
