// CodeStore over Kysely: content-addressed code bundles kept in the database for every node.

import type { Kysely } from 'kysely';
import type { CodeStore } from '../store.js';
import type { Database } from './database.js';

/** {@link CodeStore} for any Kysely dialect; bundles live in `code_blobs` keyed by sha256. */
export class KyselyCodeStore implements CodeStore {
  readonly #db: Kysely<Database>;

  constructor(db: Kysely<Database>) {
    this.#db = db;
  }

  async put(sha256: string, bytes: Buffer): Promise<void> {
    // Content-addressed: an existing row already holds these bytes, so a conflict is a no-op.
    await this.#db
      .insertInto('code_blobs')
      .values({ sha256, bytes, size: bytes.length, created_at: new Date().toISOString() })
      .onConflict((oc) => oc.column('sha256').doNothing())
      .execute();
  }

  async get(sha256: string): Promise<Buffer | undefined> {
    const row = await this.#db
      .selectFrom('code_blobs')
      .select('bytes')
      .where('sha256', '=', sha256)
      .executeTakeFirst();
    return row?.bytes;
  }

  async has(sha256: string): Promise<boolean> {
    const row = await this.#db
      .selectFrom('code_blobs')
      .select('sha256')
      .where('sha256', '=', sha256)
      .executeTakeFirst();
    return row !== undefined;
  }
}
