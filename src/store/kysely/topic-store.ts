// TopicStore over Kysely (SQLite and PostgreSQL): topics, subscriptions, leased webhook deliveries.

import type { ExpressionBuilder, Insertable, Kysely, Selectable, Transaction } from 'kysely';
import type { Notifier } from '../coordination.js';
import type {
  DeliveryRecord,
  DeliveryStatus,
  NewDelivery,
  SubscriptionProtocol,
  SubscriptionRecord,
  SubscriptionReplaceScope,
  TopicRecord,
  TopicStore,
} from '../ports/topics.js';
import type { Capabilities } from '../store.js';
import type { Database } from './database.js';
import { toMs, toMsOrUndefined } from './database.js';
import type { TopicDeliveriesTable, TopicSubscriptionsTable } from './schema/topics.js';

/** Channel notified after deliveries are stored (wakes the webhook deliverers of other nodes). */
export const TOPIC_DELIVERIES_CHANNEL = 'nimbus_topic_deliveries';

type Db = Kysely<Database> | Transaction<Database>;

const toSubscription = (row: Selectable<TopicSubscriptionsTable>): SubscriptionRecord => ({
  id: row.id,
  topic: row.topic,
  protocol: row.protocol as SubscriptionProtocol,
  endpoint: row.endpoint,
  filterPolicy: row.filter_policy ?? undefined,
  filterPolicyScope: row.filter_scope === 'MessageBody' ? 'MessageBody' : 'MessageAttributes',
  rawMessageDelivery: Number(row.raw_delivery) === 1,
  deliveryPolicy: row.delivery_policy ?? undefined,
  ownerApp: row.owner_app ?? undefined,
  ownerFunction: row.owner_function ?? undefined,
  secret: row.secret ?? undefined,
  createdAt: toMs(row.created_at),
});

const subscriptionRow = (s: SubscriptionRecord): Insertable<TopicSubscriptionsTable> => ({
  id: s.id,
  topic: s.topic,
  protocol: s.protocol,
  endpoint: s.endpoint,
  filter_policy: s.filterPolicy ?? null,
  filter_scope: s.filterPolicyScope,
  raw_delivery: s.rawMessageDelivery ? 1 : 0,
  delivery_policy: s.deliveryPolicy ?? null,
  owner_app: s.ownerApp ?? null,
  owner_function: s.ownerFunction ?? null,
  secret: s.secret ?? null,
  created_at: s.createdAt,
});

const toDelivery = (row: Selectable<TopicDeliveriesTable>): DeliveryRecord => ({
  id: row.id,
  subscriptionId: row.subscription_id,
  topic: row.topic,
  messageId: row.message_id,
  protocol: row.protocol as SubscriptionProtocol,
  endpoint: row.endpoint,
  body: row.body,
  maxAttempts: Number(row.max_attempts),
  status: row.status as DeliveryStatus,
  attempts: Number(row.attempts),
  createdAt: toMs(row.created_at),
  availableAt: toMs(row.available_at),
  lastStatus: row.last_status === null ? undefined : Number(row.last_status),
  lastError: row.last_error ?? undefined,
  finishedAt: toMsOrUndefined(row.finished_at),
});

// The identity a redeploy keeps a subscription by (so ids and webhook secrets stay stable).
const identity = (s: {
  topic: string;
  protocol: string;
  endpoint: string;
  ownerFunction?: string | undefined;
}) => `${s.topic}\0${s.protocol}\0${s.endpoint}\0${s.ownerFunction ?? ''}`;

async function deleteSubscriptionRows(db: Db, ids: readonly string[]): Promise<void> {
  if (ids.length === 0) return;
  await db
    .deleteFrom('topic_deliveries')
    .where('subscription_id', 'in', ids)
    .where('status', 'in', ['pending', 'running'])
    .execute();
  await db.deleteFrom('topic_subscriptions').where('id', 'in', ids).execute();
}

/** {@link TopicStore} for any Kysely dialect. */
export class KyselyTopicStore implements TopicStore {
  readonly #db: Kysely<Database>;
  readonly #capabilities: Capabilities;
  readonly #notifier: Notifier | undefined;

  constructor(db: Kysely<Database>, capabilities: Capabilities, notifier?: Notifier) {
    this.#db = db;
    this.#capabilities = capabilities;
    this.#notifier = notifier;
  }

  async createTopic(name: string, ownerApp?: string): Promise<{ topic: TopicRecord; created: boolean }> {
    const inserted = await this.#db
      .insertInto('topics')
      .values({ name, owner_app: ownerApp ?? null, created_at: Date.now() })
      .onConflict((oc) => oc.column('name').doNothing())
      .returningAll()
      .executeTakeFirst();
    if (inserted !== undefined) {
      return {
        topic: { name, ownerApp: inserted.owner_app ?? undefined, createdAt: toMs(inserted.created_at) },
        created: true,
      };
    }
    const existing = await this.getTopic(name);
    // Deleted between the two statements: report it as made, the caller retries nothing.
    return { topic: existing ?? { name, ownerApp, createdAt: Date.now() }, created: false };
  }

  async getTopic(name: string): Promise<TopicRecord | undefined> {
    const row = await this.#db.selectFrom('topics').selectAll().where('name', '=', name).executeTakeFirst();
    return row === undefined
      ? undefined
      : { name: row.name, ownerApp: row.owner_app ?? undefined, createdAt: toMs(row.created_at) };
  }

  async listTopics(prefix?: string): Promise<TopicRecord[]> {
    let q = this.#db.selectFrom('topics').selectAll().orderBy('name');
    // Range instead of LIKE, so `_` and `%` in names are not patterns.
    if (prefix) q = q.where('name', '>=', prefix).where('name', '<', `${prefix}\uffff`);
    const rows = await q.execute();
    return rows.map((r) => ({
      name: r.name,
      ownerApp: r.owner_app ?? undefined,
      createdAt: toMs(r.created_at),
    }));
  }

  async deleteTopic(name: string): Promise<boolean> {
    return this.#db.transaction().execute(async (trx) => {
      await trx.deleteFrom('topic_deliveries').where('topic', '=', name).execute();
      await trx.deleteFrom('topic_subscriptions').where('topic', '=', name).execute();
      const r = await trx.deleteFrom('topics').where('name', '=', name).executeTakeFirst();
      return Number(r.numDeletedRows) > 0;
    });
  }

  async addSubscription(sub: SubscriptionRecord): Promise<void> {
    await this.#db.insertInto('topic_subscriptions').values(subscriptionRow(sub)).execute();
  }

  async getSubscription(id: string): Promise<SubscriptionRecord | undefined> {
    const row = await this.#db
      .selectFrom('topic_subscriptions')
      .selectAll()
      .where('id', '=', id)
      .executeTakeFirst();
    return row === undefined ? undefined : toSubscription(row);
  }

  async listSubscriptions(topic?: string): Promise<SubscriptionRecord[]> {
    let q = this.#db.selectFrom('topic_subscriptions').selectAll().orderBy('created_at').orderBy('id');
    if (topic !== undefined) q = q.where('topic', '=', topic);
    return (await q.execute()).map(toSubscription);
  }

  async deleteSubscription(id: string): Promise<boolean> {
    return this.#db.transaction().execute(async (trx) => {
      const existed = await trx
        .selectFrom('topic_subscriptions')
        .select('id')
        .where('id', '=', id)
        .executeTakeFirst();
      await deleteSubscriptionRows(trx, [id]);
      return existed !== undefined;
    });
  }

  async replaceAppSubscriptions(
    app: string,
    subs: readonly SubscriptionRecord[],
    scope: SubscriptionReplaceScope,
  ): Promise<void> {
    await this.#db.transaction().execute(async (trx) => {
      const rows = (
        await trx.selectFrom('topic_subscriptions').selectAll().where('owner_app', '=', app).execute()
      )
        .map(toSubscription)
        .filter(
          (s) =>
            scope.all ||
            (s.ownerFunction !== undefined
              ? scope.functions.includes(s.ownerFunction)
              : scope.topics.includes(s.topic)),
        );
      const existing = new Map(rows.map((s) => [identity(s), s]));
      const kept = new Set<string>();
      for (const want of subs) {
        const key = identity(want);
        const old = existing.get(key);
        if (old !== undefined && !kept.has(old.id)) {
          kept.add(old.id);
          await trx
            .updateTable('topic_subscriptions')
            .set({
              filter_policy: want.filterPolicy ?? null,
              filter_scope: want.filterPolicyScope,
              raw_delivery: want.rawMessageDelivery ? 1 : 0,
              delivery_policy: want.deliveryPolicy ?? null,
              // A secret given in the config wins; otherwise the one issued before stays.
              secret:
                want.secret !== undefined && want.secret !== old.secret ? want.secret : (old.secret ?? null),
            })
            .where('id', '=', old.id)
            .execute();
        } else {
          await trx
            .insertInto('topic_subscriptions')
            .values(subscriptionRow({ ...want, ownerApp: app }))
            .execute();
        }
      }
      await deleteSubscriptionRows(
        trx,
        rows.filter((s) => !kept.has(s.id)).map((s) => s.id),
      );
    });
  }

  async deleteAppSubscriptions(app: string, ownerFunction?: string): Promise<number> {
    return this.#db.transaction().execute(async (trx) => {
      let q = trx.selectFrom('topic_subscriptions').select('id').where('owner_app', '=', app);
      if (ownerFunction !== undefined) q = q.where('owner_function', '=', ownerFunction);
      const ids = (await q.execute()).map((r) => r.id);
      await deleteSubscriptionRows(trx, ids);
      return ids.length;
    });
  }

  async addDeliveries(deliveries: readonly NewDelivery[]): Promise<void> {
    if (deliveries.length === 0) return;
    const now = Date.now();
    const rows = deliveries.map((d) => ({
      id: d.id,
      subscription_id: d.subscriptionId,
      topic: d.topic,
      message_id: d.messageId,
      protocol: d.protocol,
      endpoint: d.endpoint,
      body: d.body,
      status: d.failedWith === undefined ? 'pending' : 'failed',
      attempts: 0,
      max_attempts: d.maxAttempts,
      created_at: now,
      available_at: now,
      lease_until: null,
      last_status: null,
      last_error: d.failedWith ?? null,
      finished_at: d.failedWith === undefined ? null : now,
    }));
    // One transaction: all of a publish's deliveries commit together. Chunks keep each statement
    // under SQLite's bound-parameter limit (16 columns × 500 rows).
    if (rows.length <= 500) await this.#db.insertInto('topic_deliveries').values(rows).execute();
    else {
      await this.#db.transaction().execute(async (trx) => {
        for (let i = 0; i < rows.length; i += 500) {
          await trx
            .insertInto('topic_deliveries')
            .values(rows.slice(i, i + 500))
            .execute();
        }
      });
    }
    if (this.#notifier !== undefined && deliveries.some((d) => d.failedWith === undefined)) {
      // Wakes deliverers on other nodes; they also poll, so a lost notification only delays.
      await this.#notifier.notify(TOPIC_DELIVERIES_CHANNEL).catch(() => undefined);
    }
  }

  async claimDeliveries(limit: number, leaseMs: number): Promise<DeliveryRecord[]> {
    if (limit <= 0) return [];
    const now = Date.now();
    const due = (eb: ExpressionBuilder<Database, 'topic_deliveries'>) =>
      eb.or([
        eb.and([eb('status', '=', 'pending'), eb('available_at', '<=', now)]),
        eb.and([eb('status', '=', 'running'), eb('lease_until', '<=', now)]),
      ]);
    // Idle workers poll: a read first, so an idle poll never takes SQLite's write lock.
    const any = await this.#db
      .selectFrom('topic_deliveries')
      .select('id')
      .where(due)
      .limit(1)
      .executeTakeFirst();
    if (any === undefined) return [];
    let pick = this.#db
      .selectFrom('topic_deliveries')
      .select('id')
      .where(due)
      .orderBy('available_at')
      .orderBy('created_at')
      .limit(limit);
    // As in invocation-queue.ts: skip rows another node is claiming where rows can be locked;
    // without the ability the backend has one writer, so the UPDATE below is already exclusive.
    if (this.#capabilities.skipLocked) pick = pick.forUpdate().skipLocked();
    const rows = await this.#db
      .with(
        (cte) => cte('picked').materialized(),
        () => pick,
      )
      .updateTable('topic_deliveries')
      .set((eb) => ({ status: 'running', attempts: eb('attempts', '+', 1), lease_until: now + leaseMs }))
      .where('id', 'in', (eb) => eb.selectFrom('picked').select('picked.id'))
      .returningAll()
      .execute();
    return rows.map(toDelivery).sort((a, b) => a.availableAt - b.availableAt || a.createdAt - b.createdAt);
  }

  async completeDelivery(
    id: string,
    outcome: { status: 'delivered' | 'failed'; lastStatus?: number | undefined; error?: string | undefined },
  ): Promise<void> {
    await this.#db
      .updateTable('topic_deliveries')
      .set({
        status: outcome.status,
        last_status: outcome.lastStatus ?? null,
        last_error: outcome.error ?? null,
        lease_until: null,
        finished_at: Date.now(),
      })
      .where('id', '=', id)
      .execute();
  }

  async releaseDelivery(
    id: string,
    availableAt: number,
    info: { lastStatus?: number | undefined; error?: string | undefined; refund?: boolean | undefined },
  ): Promise<void> {
    await this.#db
      .updateTable('topic_deliveries')
      .set((eb) => ({
        status: 'pending',
        available_at: availableAt,
        lease_until: null,
        ...(info.refund ? { attempts: eb('attempts', '-', 1) } : {}),
        ...(info.lastStatus !== undefined ? { last_status: info.lastStatus } : {}),
        ...(info.error !== undefined ? { last_error: info.error } : {}),
      }))
      .where('id', '=', id)
      .execute();
  }

  async requeueRunningDeliveries(): Promise<number> {
    const r = await this.#db
      .updateTable('topic_deliveries')
      .set({ status: 'pending', lease_until: null })
      .where('status', '=', 'running')
      .executeTakeFirst();
    return Number(r.numUpdatedRows);
  }

  async purgeFinishedDeliveries(before: number, limit: number): Promise<number> {
    // Oldest first on the finished_at index of migration 011; pending and running rows have none.
    const ids = this.#db
      .selectFrom('topic_deliveries')
      .select('id')
      .where('finished_at', 'is not', null)
      .where('finished_at', '<', before)
      .where('status', 'in', ['delivered', 'failed'])
      .orderBy('finished_at')
      .limit(limit);
    const r = await this.#db.deleteFrom('topic_deliveries').where('id', 'in', ids).executeTakeFirst();
    return Number(r.numDeletedRows);
  }

  async getDelivery(id: string): Promise<DeliveryRecord | undefined> {
    const row = await this.#db
      .selectFrom('topic_deliveries')
      .selectAll()
      .where('id', '=', id)
      .executeTakeFirst();
    return row === undefined ? undefined : toDelivery(row);
  }

  async listDeliveries(
    topic: string,
    options: { status?: DeliveryStatus; limit?: number } = {},
  ): Promise<DeliveryRecord[]> {
    let q = this.#db
      .selectFrom('topic_deliveries')
      .selectAll()
      .where('topic', '=', topic)
      .orderBy('created_at', 'desc')
      .orderBy('id', 'desc')
      .limit(options.limit ?? 100);
    if (options.status !== undefined) q = q.where('status', '=', options.status);
    return (await q.execute()).map(toDelivery);
  }
}
