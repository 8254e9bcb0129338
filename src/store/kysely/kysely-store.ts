// Assembles a Store from the Kysely port implementations over one database.

import type {
  Kysely,
  KyselyPlugin,
  PluginTransformQueryArgs,
  PluginTransformResultArgs,
  QueryResult,
  RootOperationNode,
  Transaction,
  TransactionBuilder,
  UnknownRow,
} from 'kysely';
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
import { KyselyWorkflowStore } from './workflow-store.js';

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
  const { db } = parts;
  const capabilities = Object.freeze({ ...parts.capabilities });
  let closing: Promise<void> | undefined;
  return Object.freeze({
    kind: parts.kind,
    capabilities,
    ...createPorts(db, capabilities, parts.notifier),
    logs: parts.logs ?? new KyselyLogStore(db),
    notifier: parts.notifier,
    locks: parts.locks,
    transaction<T>(work: (tx: Store) => Promise<T>): Promise<T> {
      return db.transaction().execute((trx) => work(transactionStore(parts, capabilities, trx)));
    },
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

/** Every port over `db` (the database, or one transaction of it). */
function createPorts(
  db: Kysely<Database>,
  capabilities: Capabilities,
  notifier: Notifier | undefined,
): Omit<Store, 'kind' | 'capabilities' | 'logs' | 'transaction' | 'close'> {
  return {
    functions: new KyselyFunctionStore(db),
    routes: new KyselyRouteStore(db),
    apiKeys: new KyselyApiKeyStore(db),
    code: new KyselyCodeStore(db),
    invocations: new KyselyInvocationQueue(db, capabilities, notifier),
    credentials: new KyselyCredentialStore(db),
    settings: new KyselySettingsStore(db),
    queues: new KyselyQueueStore(db, capabilities, notifier),
    topics: new KyselyTopicStore(db, capabilities, notifier),
    objects: new KyselyObjectStore(db, capabilities, notifier),
    documents: new KyselyDocumentStore(db, capabilities, notifier),
    schedules: new KyselyScheduleStore(db, capabilities, notifier),
    workflows: new KyselyWorkflowStore(db, capabilities),
  };
}

/** The store handed to {@link Store.transaction}'s work: the same ports over the transaction. */
function transactionStore(
  parts: KyselyStoreParts,
  capabilities: Capabilities,
  trx: Transaction<Database>,
): Store & StoreCoordination {
  const joined = joinable(trx.withPlugin(new YieldingPlugin()));
  const tx: Store & StoreCoordination = Object.freeze({
    kind: parts.kind,
    capabilities,
    ...createPorts(joined, capabilities, parts.notifier),
    // The generic log store: SQLite's fast append holds the connection this transaction has.
    logs: new KyselyLogStore(joined),
    notifier: parts.notifier,
    locks: parts.locks,
    transaction: <T>(work: (inner: Store) => Promise<T>): Promise<T> => work(tx),
    close(): Promise<void> {
      return Promise.reject(new Error('close the store, not the store of one of its transactions'));
    },
  });
  return tx;
}

/**
 * `trx` with a `transaction()` that runs its work inline in `trx`. Why: the ports open their
 * own transactions for multi-statement writes (e.g. `deployApp`), and Kysely refuses a nested
 * one; inside an enclosing transaction each is already atomic, so joining it is exact (no port
 * catches a failed statement and carries on, which would need savepoints on PostgreSQL).
 */
function joinable(trx: Transaction<Database>): Kysely<Database> {
  const inline = (): Pick<TransactionBuilder<Database>, 'execute'> => ({
    execute: <T>(work: (t: Transaction<Database>) => Promise<T>): Promise<T> => work(trx),
  });
  return new Proxy(trx, {
    get(target, prop) {
      if (prop === 'transaction') return inline;
      const value: unknown = Reflect.get(target, prop, target);
      // Kysely's methods use private fields, which a Proxy receiver does not have.
      return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
    },
  });
}

/** How long a transaction's queries may run back to back before the event loop gets a turn. */
const YIELD_EVERY_MS = 5;

/**
 * Gives the event loop a turn (`setImmediate`) after each query once the queries of a
 * transaction have run `YIELD_EVERY_MS` without one. Why: better-sqlite3 is synchronous, so a
 * transaction's awaits are microtasks only and its queries run as one block; a 60-function deploy
 * (~200 queries) held the loop for 110 ms, stalling every other request, also ones that never
 * touch the store. On PostgreSQL every query already waits on the socket; this costs nothing there.
 */
class YieldingPlugin implements KyselyPlugin {
  #since = performance.now();

  transformQuery(args: PluginTransformQueryArgs): RootOperationNode {
    return args.node;
  }

  async transformResult(args: PluginTransformResultArgs): Promise<QueryResult<UnknownRow>> {
    if (performance.now() - this.#since >= YIELD_EVERY_MS) {
      await new Promise<void>((resolve) => setImmediate(resolve));
      this.#since = performance.now();
    }
    return args.result;
  }
}
