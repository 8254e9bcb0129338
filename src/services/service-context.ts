// What every resource and trigger service is built from: the store, the data dir, the ways to
// run functions, and where background failures are reported.

import type { InvokeService } from '../invoke/invoke-service.js';
import type { ServerLogger } from '../lifecycle.js';
import type { Store } from '../store/store.js';
import type { StorageQuotas } from './storage-quotas.js';

/** Options of an async invocation enqueued by a service (an event trigger). */
export interface EnqueueOptions {
  readonly qualifier?: string | undefined;
  /** Deduplicate: a second enqueue with the same key within the window returns the first id. */
  readonly idempotencyKey?: string | undefined;
  /**
   * X-Ray header of the request that caused the event (a publish, an object write): the run
   * continues that chain, so a loop through a topic or bucket is stopped (recursion-guard.ts).
   */
  readonly traceHeader?: string | undefined;
}

/** Durably enqueue an async invocation of `functionName` (Lambda full name); resolves to its id. */
export type EnqueueAsync = (
  functionName: string,
  payload: Buffer,
  options?: EnqueueOptions,
) => Promise<string>;

/** Shared dependencies of the services under src/services and src/events. */
export interface ServiceContext {
  readonly store: Store;
  /** Absolute data directory of this node (bucket objects live under `<dataDir>/objects`). */
  readonly dataDir: string;
  /** Synchronous invocations (stream and queue pollers call functions and look at the result). */
  readonly invoker: InvokeService;
  /** Asynchronous invocations (bucket events, schedules, topic deliveries to functions). */
  readonly enqueueAsync: EnqueueAsync;
  /** Region and account in ARNs. */
  readonly region: string;
  readonly accountId: string;
  readonly logger: ServerLogger;
  /** Reports a failure of background work (never throw into nowhere). */
  readonly onError: (err: unknown) => void;
  /** Storage limits of buckets, queues and tables. @default DEFAULT_STORAGE_QUOTAS */
  readonly quotas?: StorageQuotas | undefined;
}
