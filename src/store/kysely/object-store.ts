// ObjectStore over Kysely (SQLite and PostgreSQL).

import type { Kysely } from 'kysely';
import type { Notifier } from '../coordination.js';
import type { ObjectStore } from '../ports/objects.js';
import type { Capabilities } from '../store.js';
import type { Database } from './database.js';

/** {@link ObjectStore} for any Kysely dialect. */
export class KyselyObjectStore implements ObjectStore {
  // Fields (#db, #capabilities, #notifier) are added as the port grows.
  constructor(_db: Kysely<Database>, _capabilities: Capabilities, _notifier?: Notifier) {}
}
