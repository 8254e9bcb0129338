// CredentialStore and SettingsStore over Kysely: access keys, bearer tokens, node settings.

import type { Kysely } from 'kysely';
import type { AccessKeyRecord, CredentialStore, SettingsStore, TokenRecord } from '../store.js';
import type { Database } from './database.js';

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
