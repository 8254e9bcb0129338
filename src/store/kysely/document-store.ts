// DocumentStore over Kysely (SQLite and PostgreSQL): tables, items, the change stream and its triggers.

import { sql } from 'kysely';
import type { Kysely, Selectable, Transaction } from 'kysely';
import { NimbusError } from '../../errors.js';
import type { Notifier } from '../coordination.js';
import type {
  DocumentStore,
  Item,
  KeyType,
  SortRange,
  StoredItem,
  StreamRecord,
  StreamViewType,
  TableDefinition,
  TableTrigger,
  TableTriggerInput,
  WriteDecision,
  WriteOutcome,
} from '../ports/documents.js';
import { quotaExceeded, type TableQuota } from '../ports/quotas.js';
import type { Capabilities } from '../store.js';
import type { Database } from './database.js';
import { toMs } from './database.js';
import type { DocItemsTable, DocStreamTable, DocTablesTable, DocTriggersTable } from './schema/documents.js';

function toTable(row: Selectable<DocTablesTable>): TableDefinition {
  return {
    name: row.name,
    partitionKey: { name: row.pk_name, type: row.pk_type as KeyType },
    sortKey: row.sk_name === null ? undefined : { name: row.sk_name, type: (row.sk_type ?? 'S') as KeyType },
    streamEnabled: Number(row.stream_enabled) === 1,
    streamViewType: row.stream_view_type as StreamViewType,
    app: row.app ?? undefined,
    createdAt: toMs(row.created_at),
  };
}

function toStored(row: Pick<Selectable<DocItemsTable>, 'pk' | 'sk' | 'item' | 'version'>): StoredItem {
  return { pk: row.pk, sk: row.sk, item: JSON.parse(row.item) as Item, version: Number(row.version) };
}

function toRecord(row: Selectable<DocStreamTable>): StreamRecord {
  return {
    table: row.table_name,
    seq: Number(row.seq),
    eventName: row.event_name as StreamRecord['eventName'],
    keys: JSON.parse(row.keys) as Item,
    oldImage: row.old_image === null ? undefined : (JSON.parse(row.old_image) as Item),
    newImage: row.new_image === null ? undefined : (JSON.parse(row.new_image) as Item),
    createdAt: toMs(row.created_at),
  };
}

function toTrigger(row: Selectable<DocTriggersTable>): TableTrigger {
  return {
    id: row.id,
    app: row.app,
    functionName: row.function_name,
    table: row.table_name,
    batchSize: Number(row.batch_size),
    startingPosition: row.starting_position as TableTrigger['startingPosition'],
    maximumRetryAttempts: Number(row.maximum_retry_attempts),
    bisectBatchOnFunctionError: Number(row.bisect_on_error) === 1,
    checkpoint: Number(row.checkpoint),
    createdAt: toMs(row.created_at),
  };
}

function tableNotFound(name: string): NimbusError {
  return new NimbusError(
    'ResourceNotFoundException',
    `Table '${name}' does not exist; create it with \`nimbus tables create ${name} --pk id\` or declare it under resources.tables in nimbus.yml.`,
  );
}

/** The key attributes of an item, as the stream record's `Keys`. */
function keysOf(def: TableDefinition, item: Item): Item {
  const keys: Item = { [def.partitionKey.name]: item[def.partitionKey.name] };
  if (def.sortKey !== undefined) keys[def.sortKey.name] = item[def.sortKey.name];
  return keys;
}

/** {@link DocumentStore} for any Kysely dialect. */
export class KyselyDocumentStore implements DocumentStore {
  readonly #db: Kysely<Database>;

  constructor(db: Kysely<Database>, _capabilities: Capabilities, _notifier?: Notifier) {
    this.#db = db;
  }

  async createTable(def: Omit<TableDefinition, 'createdAt'>): Promise<boolean> {
    const result = await this.#db
      .insertInto('doc_tables')
      .values({
        name: def.name,
        pk_name: def.partitionKey.name,
        pk_type: def.partitionKey.type,
        sk_name: def.sortKey?.name ?? null,
        sk_type: def.sortKey?.type ?? null,
        stream_enabled: def.streamEnabled ? 1 : 0,
        stream_view_type: def.streamViewType,
        last_seq: 0,
        app: def.app ?? null,
        created_at: Date.now(),
      })
      // ON CONFLICT DO NOTHING, not a caught unique violation: a failed statement would abort
      // an enclosing PostgreSQL transaction, and both backends speak this clause.
      .onConflict((oc) => oc.column('name').doNothing())
      .executeTakeFirst();
    return Number(result.numInsertedOrUpdatedRows ?? 0n) > 0;
  }

  async getTable(name: string): Promise<TableDefinition | undefined> {
    const row = await this.#db
      .selectFrom('doc_tables')
      .selectAll()
      .where('name', '=', name)
      .executeTakeFirst();
    return row === undefined ? undefined : toTable(row);
  }

  async listTables(): Promise<TableDefinition[]> {
    const rows = await this.#db.selectFrom('doc_tables').selectAll().orderBy('name').execute();
    return rows.map(toTable);
  }

  async enableStream(name: string, viewType: StreamViewType): Promise<void> {
    await this.#db
      .updateTable('doc_tables')
      .set({ stream_enabled: 1, stream_view_type: viewType })
      .where('name', '=', name)
      .execute();
  }

  async getTableUsage(name: string): Promise<{ items: number; bytes: number } | undefined> {
    const row = await this.#db
      .selectFrom('doc_tables')
      .select(['item_count', 'item_bytes'])
      .where('name', '=', name)
      .executeTakeFirst();
    return row && { items: Number(row.item_count), bytes: Number(row.item_bytes) };
  }

  async deleteTable(name: string): Promise<boolean> {
    return this.#db.transaction().execute(async (trx) => {
      const result = await trx.deleteFrom('doc_tables').where('name', '=', name).executeTakeFirst();
      await trx.deleteFrom('doc_items').where('table_name', '=', name).execute();
      await trx.deleteFrom('doc_stream').where('table_name', '=', name).execute();
      await trx.deleteFrom('doc_triggers').where('table_name', '=', name).execute();
      return result.numDeletedRows > 0n;
    });
  }

  async getItem(table: string, pk: string, sk: string): Promise<StoredItem | undefined> {
    const row = await this.#db
      .selectFrom('doc_items')
      .select(['pk', 'sk', 'item', 'version'])
      .where('table_name', '=', table)
      .where('pk', '=', pk)
      .where('sk', '=', sk)
      .executeTakeFirst();
    return row === undefined ? undefined : toStored(row);
  }

  async write(
    table: string,
    pk: string,
    sk: string,
    decide: (current: Item | undefined) => WriteDecision,
    quota?: TableQuota,
  ): Promise<WriteOutcome> {
    return this.#db.transaction().execute(async (trx) => {
      const def = await lockTable(trx, table);
      const row = await trx
        .selectFrom('doc_items')
        .select(['pk', 'sk', 'item', 'version'])
        .where('table_name', '=', table)
        .where('pk', '=', pk)
        .where('sk', '=', sk)
        .executeTakeFirst();
      const old = row === undefined ? undefined : toStored(row);
      const decision = decide(old?.item);
      if ('none' in decision) return { old: old?.item, current: old?.item };
      let current: Item | undefined;
      const oldBytes = row === undefined ? 0 : row.item.length;
      // Usage counters ride on the doc_tables row lockTable already holds (see migration 011).
      let items: number;
      let bytes: number;
      if ('remove' in decision) {
        if (old === undefined) return { old: undefined, current: undefined };
        items = -1;
        bytes = -oldBytes;
        await trx
          .deleteFrom('doc_items')
          .where('table_name', '=', table)
          .where('pk', '=', pk)
          .where('sk', '=', sk)
          .execute();
      } else {
        current = decision.put;
        const text = JSON.stringify(current);
        items = old === undefined ? 1 : 0;
        bytes = text.length - oldBytes;
        if (quota !== undefined) checkTableQuota(table, def, items, bytes, quota);
        if (old === undefined) {
          await trx
            .insertInto('doc_items')
            .values({ table_name: table, pk, sk, item: text, version: 1 })
            .execute();
        } else {
          await trx
            .updateTable('doc_items')
            .set({ item: text, version: old.version + 1 })
            .where('table_name', '=', table)
            .where('pk', '=', pk)
            .where('sk', '=', sk)
            .execute();
        }
      }
      const usage = {
        item_count: sql<number>`item_count + ${items}`,
        item_bytes: sql<number>`item_bytes + ${bytes}`,
      };
      if (!def.streamEnabled) {
        if (items !== 0 || bytes !== 0) {
          await trx.updateTable('doc_tables').set(usage).where('name', '=', table).execute();
        }
        return { old: old?.item, current };
      }
      const seq = def.lastSeq + 1;
      await trx
        .updateTable('doc_tables')
        .set({ last_seq: seq, ...usage })
        .where('name', '=', table)
        .execute();
      await trx
        .insertInto('doc_stream')
        .values({
          table_name: table,
          seq,
          event_name: old === undefined ? 'INSERT' : current === undefined ? 'REMOVE' : 'MODIFY',
          keys: JSON.stringify(keysOf(def, current ?? old!.item)),
          old_image: old === undefined ? null : JSON.stringify(old.item),
          new_image: current === undefined ? null : JSON.stringify(current),
          created_at: Date.now(),
        })
        .execute();
      return { old: old?.item, current, seq };
    });
  }

  async query(
    table: string,
    q: { pk: string; range?: SortRange; forward: boolean; limit: number; afterSk?: string | undefined },
  ): Promise<StoredItem[]> {
    let select = this.#db
      .selectFrom('doc_items')
      .select(['pk', 'sk', 'item', 'version'])
      .where('table_name', '=', table)
      .where('pk', '=', q.pk);
    const r = q.range ?? {};
    if (r.eq !== undefined) select = select.where('sk', '=', r.eq);
    if (r.gt !== undefined) select = select.where('sk', '>', r.gt);
    if (r.ge !== undefined) select = select.where('sk', '>=', r.ge);
    if (r.lt !== undefined) select = select.where('sk', '<', r.lt);
    if (r.le !== undefined) select = select.where('sk', '<=', r.le);
    if (q.afterSk !== undefined) select = select.where('sk', q.forward ? '>' : '<', q.afterSk);
    const rows = await select
      .orderBy('sk', q.forward ? 'asc' : 'desc')
      .limit(q.limit)
      .execute();
    return rows.map(toStored);
  }

  async scan(
    table: string,
    q: { limit: number; after?: { pk: string; sk: string } | undefined },
  ): Promise<StoredItem[]> {
    let select = this.#db
      .selectFrom('doc_items')
      .select(['pk', 'sk', 'item', 'version'])
      .where('table_name', '=', table);
    const after = q.after;
    if (after !== undefined) {
      select = select.where((eb) =>
        eb.or([eb('pk', '>', after.pk), eb.and([eb('pk', '=', after.pk), eb('sk', '>', after.sk)])]),
      );
    }
    const rows = await select.orderBy('pk').orderBy('sk').limit(q.limit).execute();
    return rows.map(toStored);
  }

  async readStream(table: string, afterSeq: number, limit: number): Promise<StreamRecord[]> {
    const rows = await this.#db
      .selectFrom('doc_stream')
      .selectAll()
      .where('table_name', '=', table)
      .where('seq', '>', afterSeq)
      .orderBy('seq')
      .limit(limit)
      .execute();
    return rows.map(toRecord);
  }

  async lastSeq(table: string): Promise<number> {
    const row = await this.#db
      .selectFrom('doc_tables')
      .select('last_seq')
      .where('name', '=', table)
      .executeTakeFirst();
    return row === undefined ? 0 : Number(row.last_seq);
  }

  async trimStream(beforeMs: number): Promise<number> {
    const result = await this.#db
      .deleteFrom('doc_stream')
      .where('created_at', '<', beforeMs)
      .executeTakeFirst();
    return Number(result.numDeletedRows);
  }

  async replaceTriggers(
    app: string,
    triggers: readonly TableTriggerInput[],
    onlyFunctions?: readonly string[],
  ): Promise<void> {
    await this.#db.transaction().execute(async (trx) => {
      let existingQuery = trx.selectFrom('doc_triggers').selectAll().where('app', '=', app);
      if (onlyFunctions !== undefined) {
        if (onlyFunctions.length === 0) return;
        existingQuery = existingQuery.where('function_name', 'in', [...onlyFunctions]);
      }
      const existing = new Map((await existingQuery.execute()).map((row) => [row.id, row]));
      const keep = new Set<string>();
      for (const t of triggers) {
        const id = `${t.functionName}/${t.table}`;
        keep.add(id);
        const config = {
          app,
          function_name: t.functionName,
          table_name: t.table,
          batch_size: t.batchSize,
          starting_position: t.startingPosition,
          maximum_retry_attempts: t.maximumRetryAttempts,
          bisect_on_error: t.bisectBatchOnFunctionError ? 1 : 0,
        };
        if (existing.has(id)) {
          // Same function and table: keep the checkpoint, so a redeploy neither repeats nor skips.
          await trx.updateTable('doc_triggers').set(config).where('id', '=', id).execute();
          continue;
        }
        const last = await trx
          .selectFrom('doc_tables')
          .select('last_seq')
          .where('name', '=', t.table)
          .executeTakeFirst();
        await trx
          .insertInto('doc_triggers')
          .values({
            id,
            ...config,
            checkpoint: t.startingPosition === 'LATEST' ? Number(last?.last_seq ?? 0) : 0,
            created_at: Date.now(),
          })
          .execute();
      }
      const drop = [...existing.keys()].filter((id) => !keep.has(id));
      if (drop.length > 0) await trx.deleteFrom('doc_triggers').where('id', 'in', drop).execute();
    });
  }

  async deleteTriggers(app: string, functionName?: string): Promise<void> {
    let del = this.#db.deleteFrom('doc_triggers').where('app', '=', app);
    if (functionName !== undefined) del = del.where('function_name', '=', functionName);
    await del.execute();
  }

  async listTriggers(): Promise<TableTrigger[]> {
    const rows = await this.#db.selectFrom('doc_triggers').selectAll().orderBy('id').execute();
    return rows.map(toTrigger);
  }

  async getTrigger(id: string): Promise<TableTrigger | undefined> {
    const row = await this.#db.selectFrom('doc_triggers').selectAll().where('id', '=', id).executeTakeFirst();
    return row === undefined ? undefined : toTrigger(row);
  }

  async setCheckpoint(id: string, seq: number): Promise<void> {
    await this.#db
      .updateTable('doc_triggers')
      .set({ checkpoint: seq })
      .where('id', '=', id)
      .where('checkpoint', '<', seq)
      .execute();
  }
}

/**
 * Takes the table's write lock for the rest of the transaction and returns its definition.
 * Why a no-op UPDATE of the table's row rather than `SELECT ... FOR UPDATE` of the item: the
 * item may not exist yet (a conditional put with `attribute_not_exists`), and locking the table
 * row serializes its writes on PostgreSQL (row lock) and SQLite (write lock) with the same SQL.
 * It also makes stream sequence numbers commit in order, with no gaps, so a poller reading
 * "after my checkpoint" can never skip a record that commits late. The price is one writer per
 * table at a time on PostgreSQL.
 */
/** Throws StorageQuotaExceeded when adding `items` and `bytes` would pass `quota`. */
function checkTableQuota(
  table: string,
  usage: { itemCount: number; itemBytes: number },
  items: number,
  bytes: number,
  quota: TableQuota,
): void {
  const fix = `Delete items of table '${table}' you no longer need`;
  if (items > 0 && usage.itemCount + items > quota.maxItems) {
    throw quotaExceeded(`table '${table}'`, 'tableItems', quota.maxItems, usage.itemCount, fix);
  }
  if (bytes > 0 && usage.itemBytes + bytes > quota.maxBytes) {
    throw quotaExceeded(`table '${table}'`, 'tableBytes', quota.maxBytes, usage.itemBytes, fix);
  }
}

async function lockTable(
  trx: Transaction<Database>,
  table: string,
): Promise<TableDefinition & { lastSeq: number; itemCount: number; itemBytes: number }> {
  const row = await trx
    .updateTable('doc_tables')
    .set((eb) => ({ last_seq: eb.ref('last_seq') }))
    .where('name', '=', table)
    .returningAll()
    .executeTakeFirst();
  if (row === undefined) throw tableNotFound(table);
  return {
    ...toTable(row),
    lastSeq: Number(row.last_seq),
    itemCount: Number(row.item_count),
    itemBytes: Number(row.item_bytes),
  };
}
