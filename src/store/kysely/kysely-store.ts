// Assembles a Store from the Kysely port implementations over one database.

import type { Kysely } from 'kysely';
import type { AdvisoryLocks, Notifier, StoreCoordination } from '../coordination.js';
import type { Capabilities, LogStore, Store } from '../store.js';
import { KyselyApiKeyStore } from './api-key-store.js';
import { KyselyCodeStore } from './code-store.js';
import { KyselyCredentialStore, KyselySettingsStore } from './credential-store.js';
import type { Database } from './database.js';
import { KyselyFunctionStore } from './function-store.js';
import { KyselyInvocationQueue } from './invocation-queue.js';
import { KyselyLogStore } from './log-store.js';
import { KyselyRouteStore } from './route-store.js';
import { KyselyDocumentStore } from './document-store.js';
import { KyselyObjectStore } from './object-store.js';
import { KyselyQueueStore } from './queue-store.js';
import { KyselyScheduleStore } from './schedule-store.js';
import { KyselyTopicStore } from './topic-store.js';

/** What a backend module hands over to build its {@link Store}. */
export interface KyselyStoreParts {
  readonly kind: Store['kind'];
  readonly db: Kysely<Database>;
  readonly capabilities: Capabilities;
  readonly notifier?: Notifier | undefined;
  readonly locks?: AdvisoryLocks | undefined;
  /** A backend-specific LogStore replacing the generic one (SQLite appends with a prepared statement). */
  readonly logs?: LogStore | undefined;
  /** Frees backend resources beyond `db` (listener connections, ...); runs before `db.destroy()`. */
  readonly beforeClose?: () => Promise<void>;
}

/** Builds a {@link Store} (plus its optional coordination helpers) over a migrated database. */
export function createKyselyStore(parts: KyselyStoreParts): Store & StoreCoordination {
  const { db, capabilities } = parts;
  let closing: Promise<void> | undefined;
  return Object.freeze({
    kind: parts.kind,
    capabilities: Object.freeze({ ...capabilities }),
    functions: new KyselyFunctionStore(db),
    routes: new KyselyRouteStore(db),
    apiKeys: new KyselyApiKeyStore(db),
    code: new KyselyCodeStore(db),
    invocations: new KyselyInvocationQueue(db, capabilities, parts.notifier),
    logs: parts.logs ?? new KyselyLogStore(db),
    credentials: new KyselyCredentialStore(db),
    settings: new KyselySettingsStore(db),
    queues: new KyselyQueueStore(db, capabilities, parts.notifier),
    topics: new KyselyTopicStore(db, capabilities, parts.notifier),
    objects: new KyselyObjectStore(db, capabilities, parts.notifier),
    documents: new KyselyDocumentStore(db, capabilities, parts.notifier),
    schedules: new KyselyScheduleStore(db, capabilities, parts.notifier),
    notifier: parts.notifier,
    locks: parts.locks,
    close(): Promise<void> {
      closing ??= (async () => {
        try {
          await parts.beforeClose?.();
        } finally {
          await db.destroy();
        }
      })();
      return closing;
    },
  });
}
