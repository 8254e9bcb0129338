// CredentialStore and SettingsStore over Kysely: access keys, bearer tokens, app tokens, node settings.

import type { Kysely, Selectable } from 'kysely';
import type { AppTokenRecord } from '../ports/app-tokens.js';
import type { AccessKeyRecord, CredentialStore, SettingsStore, TokenRecord } from '../store.js';
import { toMs, toMsOrUndefined, type Database } from './database.js';
import type { AppTokensTable } from './schema/app-tokens.js';

function appToken(row: Selectable<AppTokensTable>): AppTokenRecord {
  return {
    id: row.id,
    app: row.app,
    issuedAt: toMs(row.issued_at),
    expiresAt: toMs(row.expires_at),
    revokedAt: toMsOrUndefined(row.revoked_at),
  };
}

/** {@link CredentialStore} for any Kysely dialect. `put*` replaces a record with the same key. */
export class KyselyCredentialStore implements CredentialStore {
  readonly #db: Kysely<Database>;

  constructor(db: Kysely<Database>) {
    this.#db = db;
  }

  async putAccessKey(key: AccessKeyRecord): Promise<void> {
    const row = {
      access_key_id: key.accessKeyId,
      secret_hash: key.secretHash,
      secret_encrypted: key.secretEncrypted,
      name: key.name,
      created_at: key.createdAt,
    };
    const { access_key_id: _id, ...changes } = row;
    await this.#db
      .insertInto('access_keys')
      .values(row)
      .onConflict((oc) => oc.column('access_key_id').doUpdateSet(changes))
      .execute();
  }

  async getAccessKey(accessKeyId: string): Promise<AccessKeyRecord | undefined> {
    const row = await this.#db
      .selectFrom('access_keys')
      .selectAll()
      .where('access_key_id', '=', accessKeyId)
      .executeTakeFirst();
    return row === undefined
      ? undefined
      : {
          accessKeyId: row.access_key_id,
          secretHash: row.secret_hash,
          secretEncrypted: row.secret_encrypted,
          name: row.name,
          createdAt: row.created_at,
        };
  }

  async putToken(token: TokenRecord): Promise<void> {
    const row = {
      token_hash: token.tokenHash,
      name: token.name,
      scopes: JSON.stringify(token.scopes),
      created_at: token.createdAt,
    };
    const { token_hash: _hash, ...changes } = row;
    await this.#db
      .insertInto('tokens')
      .values(row)
      .onConflict((oc) => oc.column('token_hash').doUpdateSet(changes))
      .execute();
  }

  async getToken(tokenHash: string): Promise<TokenRecord | undefined> {
    const row = await this.#db
      .selectFrom('tokens')
      .selectAll()
      .where('token_hash', '=', tokenHash)
      .executeTakeFirst();
    return row === undefined
      ? undefined
      : {
          tokenHash: row.token_hash,
          name: row.name,
          scopes: Object.freeze(JSON.parse(row.scopes) as string[]),
          createdAt: row.created_at,
        };
  }

  async putAppToken(token: AppTokenRecord): Promise<void> {
    await this.#db
      .insertInto('app_tokens')
      .values({
        id: token.id,
        app: token.app,
        issued_at: token.issuedAt,
        expires_at: token.expiresAt,
        revoked_at: token.revokedAt ?? null,
      })
      .onConflict((oc) => oc.column('id').doNothing())
      .execute();
  }

  async getAppToken(id: string): Promise<AppTokenRecord | undefined> {
    const row = await this.#db.selectFrom('app_tokens').selectAll().where('id', '=', id).executeTakeFirst();
    return row === undefined ? undefined : appToken(row);
  }

  async listAppTokens(options: { now: number; app?: string | undefined }): Promise<AppTokenRecord[]> {
    let q = this.#db.selectFrom('app_tokens').selectAll().where('expires_at', '>', options.now);
    if (options.app !== undefined) q = q.where('app', '=', options.app);
    const rows = await q.orderBy('issued_at', 'desc').orderBy('id').execute();
    return rows.map(appToken);
  }

  async revokeAppToken(id: string, at: number): Promise<AppTokenRecord | undefined> {
    // Keep the first revocation time: revoking twice is not an error and changes nothing.
    await this.#db
      .updateTable('app_tokens')
      .set({ revoked_at: at })
      .where('id', '=', id)
      .where('revoked_at', 'is', null)
      .execute();
    return this.getAppToken(id);
  }

  async deleteExpiredAppTokens(before: number): Promise<number> {
    const result = await this.#db
      .deleteFrom('app_tokens')
      .where('expires_at', '<', before)
      .executeTakeFirst();
    return Number(result.numDeletedRows);
  }

  async countAccessKeys(): Promise<number> {
    const row = await this.#db
      .selectFrom('access_keys')
      .select((eb) => eb.fn.countAll<number | string>().as('n'))
      .executeTakeFirstOrThrow();
    // count(*) is bigint on PostgreSQL, which pg returns as a string.
    return Number(row.n);
  }
}

/** {@link SettingsStore} for any Kysely dialect. */
export class KyselySettingsStore implements SettingsStore {
  readonly #db: Kysely<Database>;

  constructor(db: Kysely<Database>) {
    this.#db = db;
  }

  async get(key: string): Promise<string | undefined> {
    const row = await this.#db
      .selectFrom('settings')
      .select('value')
      .where('key', '=', key)
      .executeTakeFirst();
    return row?.value;
  }

  async set(key: string, value: string): Promise<void> {
    await this.#db
      .insertInto('settings')
      .values({ key, value })
      .onConflict((oc) => oc.column('key').doUpdateSet({ value }))
      .execute();
  }
}
