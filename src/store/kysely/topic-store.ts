// TopicStore over Kysely (SQLite and PostgreSQL).

import type { Kysely } from 'kysely';
import type { Notifier } from '../coordination.js';
import type { TopicStore } from '../ports/topics.js';
import type { Capabilities } from '../store.js';
import type { Database } from './database.js';

/** {@link TopicStore} for any Kysely dialect. */
export class KyselyTopicStore implements TopicStore {
  // Fields (#db, #capabilities, #notifier) are added as the port grows.
  constructor(_db: Kysely<Database>, _capabilities: Capabilities, _notifier?: Notifier) {}
}
