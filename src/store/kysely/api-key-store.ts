// Gateway API keys and their quota counters over Kysely: one implementation for both backends.

import { sql, type Kysely, type Selectable } from 'kysely';
import { NimbusError } from '../../errors.js';
import type { ApiKeyRecord, ApiKeyStore, UsageIncrement } from '../store.js';
import type { ApiKeysTable, Database } from './database.js';

function toRecord(row: Selectable<ApiKeysTable>): ApiKeyRecord {
  return {
    id: row.id,
    name: row.name,
    keyHash: row.key_hash,
    keyPrefix: row.key_prefix,
    app: row.app,
    plan: row.plan,
    createdAt: row.created_at,
    ...(row.revoked_at === null ? {} : { revokedAt: row.revoked_at }),
  };
}

/** {@link ApiKeyStore} over Kysely. */
export class KyselyApiKeyStore implements ApiKeyStore {
  readonly #db: Kysely<Database>;

  constructor(db: Kysely<Database>) {
    this.#db = db;
  }

  async create(key: ApiKeyRecord): Promise<void> {
    // DO NOTHING rather than a failed statement: name and hash are both unique.
    const inserted = await this.#db
      .insertInto('api_keys')
      .values({
        id: key.id,
        name: key.name,
        key_hash: key.keyHash,
        key_prefix: key.keyPrefix,
        app: key.app,
        plan: key.plan,
        created_at: key.createdAt,
        revoked_at: key.revokedAt ?? null,
      })
      .onConflict((oc) => oc.doNothing())
      .returning('id')
      .executeTakeFirst();
    if (inserted === undefined) {
      throw new NimbusError(
        'ResourceConflictException',
        `An API key named '${key.name}' already exists; pick another name or revoke it with \`nimbus keys revoke ${key.name}\`.`,
      );
    }
  }

  async getByHash(keyHash: string): Promise<ApiKeyRecord | undefined> {
    const row = await this.#db
      .selectFrom('api_keys')
      .selectAll()
      .where('key_hash', '=', keyHash)
      .executeTakeFirst();
    return row && toRecord(row);
  }

  async find(idOrName: string): Promise<ApiKeyRecord | undefined> {
    const rows = await this.#db
      .selectFrom('api_keys')
      .selectAll()
      .where((eb) => eb.or([eb('id', '=', idOrName), eb('name', '=', idOrName)]))
      .execute();
    // An id beats a name that happens to look like one.
    const row = rows.find((r) => r.id === idOrName) ?? rows[0];
    return row && toRecord(row);
  }

  async list(app?: string): Promise<ApiKeyRecord[]> {
    let q = this.#db.selectFrom('api_keys').selectAll().orderBy('name');
    if (app !== undefined) q = q.where('app', '=', app);
    return (await q.execute()).map(toRecord);
  }

  async revoke(id: string, at: string): Promise<boolean> {
    const r = await this.#db
      .updateTable('api_keys')
      .set({ revoked_at: at })
      .where('id', '=', id)
      .where('revoked_at', 'is', null)
      .executeTakeFirst();
    return Number(r.numUpdatedRows) > 0;
  }

  async addUsage(increments: readonly UsageIncrement[]): Promise<Map<string, number>> {
    const totals = new Map<string, number>();
    if (increments.length === 0) return totals;
    await this.#db.transaction().execute(async (trx) => {
      for (const inc of increments) {
        // The addition happens in the database, so concurrent writers (other nodes) never lose counts.
        const row = await trx
          .insertInto('api_key_usage')
          .values({ key_id: inc.keyId, period: inc.period, count: inc.count })
          .onConflict((oc) =>
            oc
              .columns(['key_id', 'period'])
              .doUpdateSet({ count: sql`api_key_usage.count + excluded.count` }),
          )
          .returning('count')
          .executeTakeFirstOrThrow();
        totals.set(`${inc.keyId} ${inc.period}`, Number(row.count));
      }
    });
    return totals;
  }

  async getUsage(
    keyId: string,
    periods?: readonly string[],
  ): Promise<Array<{ period: string; count: number }>> {
    let q = this.#db
      .selectFrom('api_key_usage')
      .select(['period', 'count'])
      .where('key_id', '=', keyId)
      .orderBy('period', 'desc');
    if (periods !== undefined) {
      if (periods.length === 0) return [];
      q = q.where('period', 'in', [...periods]);
    }
    return (await q.execute()).map((r) => ({ period: r.period, count: Number(r.count) }));
  }
}
