// QueueStore over Kysely (SQLite and PostgreSQL).

import type { Kysely } from 'kysely';
import type { Notifier } from '../coordination.js';
import type { QueueStore } from '../ports/queues.js';
import type { Capabilities } from '../store.js';
import type { Database } from './database.js';

/** {@link QueueStore} for any Kysely dialect. */
export class KyselyQueueStore implements QueueStore {
  // Fields (#db, #capabilities, #notifier) are added as the port grows.
  constructor(_db: Kysely<Database>, _capabilities: Capabilities, _notifier?: Notifier) {}
}
