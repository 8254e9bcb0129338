// ScheduleStore over Kysely (SQLite and PostgreSQL): declared schedules and compare-and-set ticks.

import type { Kysely, Selectable } from 'kysely';
import type { Notifier } from '../coordination.js';
import type { ScheduleDefinition, ScheduleRecord, ScheduleStore } from '../ports/schedules.js';
import { scheduleId } from '../ports/schedules.js';
import type { Capabilities } from '../store.js';
import type { Database } from './database.js';
import { toMs, toMsOrUndefined } from './database.js';
import type { SchedulesTable } from './schema/schedules.js';

function toRecord(row: Selectable<SchedulesTable>): ScheduleRecord {
  return {
    id: row.id,
    app: row.app,
    functionName: row.function_name,
    name: row.name,
    expression: row.expression,
    timeZone: row.time_zone,
    input: row.input ?? undefined,
    description: row.description ?? undefined,
    enabled: Number(row.enabled) === 1,
    catchUp: Number(row.catch_up) === 1,
    nextFireAt: toMsOrUndefined(row.next_fire_at),
    lastTick: toMsOrUndefined(row.last_tick),
    pendingTick: toMsOrUndefined(row.pending_tick),
    claimedAt: toMsOrUndefined(row.claimed_at),
    createdAt: toMs(row.created_at),
    updatedAt: toMs(row.updated_at),
  };
}

/**
 * {@link ScheduleStore} for any Kysely dialect. Correctness across nodes rests on single-row
 * compare-and-set UPDATEs (`WHERE next_fire_at = :expected`), which both backends make atomic
 * (SQLite: one writer at a time; PostgreSQL: the row lock taken by UPDATE, and the re-check of
 * the WHERE clause after a concurrent update commits), so no capability branch is needed.
 */
export class KyselyScheduleStore implements ScheduleStore {
  readonly #db: Kysely<Database>;

  constructor(db: Kysely<Database>, _capabilities: Capabilities, _notifier?: Notifier) {
    this.#db = db;
  }

  async replaceApp(
    app: string,
    definitions: readonly ScheduleDefinition[],
    options: {
      functions?: readonly string[] | undefined;
      firstTick: (d: ScheduleDefinition) => number | undefined;
    },
  ): Promise<void> {
    const now = Date.now();
    await this.#db.transaction().execute(async (trx) => {
      let q = trx.selectFrom('schedules').selectAll().where('app', '=', app);
      if (options.functions !== undefined) {
        if (options.functions.length === 0) return;
        q = q.where('function_name', 'in', [...options.functions]);
      }
      const existing = new Map((await q.execute()).map((r) => [r.id, r]));
      const keep = new Set<string>();
      for (const d of definitions) {
        const id = scheduleId(app, d.name);
        keep.add(id);
        const old = existing.get(id);
        const values = {
          function_name: d.functionName,
          expression: d.expression,
          time_zone: d.timeZone,
          input: d.input ?? null,
          description: d.description ?? null,
          enabled: d.enabled ? 1 : 0,
          catch_up: d.catchUp ? 1 : 0,
          updated_at: now,
        };
        const unchanged =
          old !== undefined &&
          old.expression === d.expression &&
          old.time_zone === d.timeZone &&
          Number(old.enabled) === (d.enabled ? 1 : 0);
        if (unchanged) {
          await trx.updateTable('schedules').set(values).where('id', '=', id).execute();
          continue;
        }
        const next = d.enabled ? (options.firstTick(d) ?? null) : null;
        if (old !== undefined) {
          await trx
            .updateTable('schedules')
            .set({ ...values, next_fire_at: next })
            .where('id', '=', id)
            .execute();
        } else {
          // A name another function of the app held (outside `functions`) is taken over.
          await trx.deleteFrom('schedules').where('id', '=', id).execute();
          await trx
            .insertInto('schedules')
            .values({
              id,
              app,
              name: d.name,
              ...values,
              next_fire_at: next,
              last_tick: null,
              pending_tick: null,
              claimed_at: null,
              created_at: now,
            })
            .execute();
        }
      }
      const gone = [...existing.keys()].filter((id) => !keep.has(id));
      if (gone.length > 0) await trx.deleteFrom('schedules').where('id', 'in', gone).execute();
    });
  }

  async list(app?: string): Promise<ScheduleRecord[]> {
    let q = this.#db.selectFrom('schedules').selectAll().orderBy('app').orderBy('name');
    if (app !== undefined) q = q.where('app', '=', app);
    return (await q.execute()).map(toRecord);
  }

  async get(id: string): Promise<ScheduleRecord | undefined> {
    const row = await this.#db.selectFrom('schedules').selectAll().where('id', '=', id).executeTakeFirst();
    return row === undefined ? undefined : toRecord(row);
  }

  async setEnabled(id: string, enabled: boolean, nextFireAt: number | undefined): Promise<boolean> {
    const r = await this.#db
      .updateTable('schedules')
      .set({
        enabled: enabled ? 1 : 0,
        next_fire_at: enabled ? (nextFireAt ?? null) : null,
        updated_at: Date.now(),
      })
      .where('id', '=', id)
      .executeTakeFirst();
    return Number(r.numUpdatedRows) > 0;
  }

  async due(now: number, limit: number): Promise<ScheduleRecord[]> {
    const rows = await this.#db
      .selectFrom('schedules')
      .selectAll()
      .where('enabled', '=', 1)
      .where('next_fire_at', 'is not', null)
      .where('next_fire_at', '<=', now)
      .orderBy('next_fire_at')
      .limit(limit)
      .execute();
    return rows.map(toRecord);
  }

  async earliest(): Promise<number | undefined> {
    const row = await this.#db
      .selectFrom('schedules')
      .select((eb) => eb.fn.min('next_fire_at').as('t'))
      .where('enabled', '=', 1)
      .executeTakeFirst();
    const t = row?.t as number | string | null | undefined;
    return t === null || t === undefined ? undefined : toMs(t);
  }

  async claimTick(
    id: string,
    expected: number,
    change: { next: number | undefined; fire?: number | undefined; now: number },
  ): Promise<boolean> {
    const r = await this.#db
      .updateTable('schedules')
      .set({
        next_fire_at: change.next ?? null,
        ...(change.fire === undefined
          ? {}
          : { last_tick: change.fire, pending_tick: change.fire, claimed_at: change.now }),
      })
      .where('id', '=', id)
      .where('enabled', '=', 1)
      .where('next_fire_at', '=', expected)
      .executeTakeFirst();
    return Number(r.numUpdatedRows) === 1;
  }

  async confirmTick(id: string, tick: number): Promise<void> {
    await this.#db
      .updateTable('schedules')
      .set({ pending_tick: null, claimed_at: null })
      .where('id', '=', id)
      .where('pending_tick', '=', tick)
      .execute();
  }

  async stalePending(claimedBefore: number): Promise<ScheduleRecord[]> {
    const rows = await this.#db
      .selectFrom('schedules')
      .selectAll()
      .where('pending_tick', 'is not', null)
      .where('claimed_at', '<', claimedBefore)
      .execute();
    return rows.map(toRecord);
  }

  async reclaimPending(id: string, tick: number, claimedAt: number, now: number): Promise<boolean> {
    const r = await this.#db
      .updateTable('schedules')
      .set({ claimed_at: now })
      .where('id', '=', id)
      .where('pending_tick', '=', tick)
      .where('claimed_at', '=', claimedAt)
      .executeTakeFirst();
    return Number(r.numUpdatedRows) === 1;
  }

  async deleteApp(app: string): Promise<number> {
    const r = await this.#db.deleteFrom('schedules').where('app', '=', app).executeTakeFirst();
    return Number(r.numDeletedRows);
  }

  async deleteFunction(functionName: string): Promise<number> {
    const r = await this.#db
      .deleteFrom('schedules')
      .where('function_name', '=', functionName)
      .executeTakeFirst();
    return Number(r.numDeletedRows);
  }
}
