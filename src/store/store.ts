// The storage ports: narrow interfaces the rest of Nimbus depends on, one implementation per
// backend (sqlite/, postgres/), one contract suite (test/store/store.contract.ts) for all.

import type { Alias, FunctionConfig, FunctionVersion } from '../functions/function-model.js';
import type { AppGatewaySpec } from '../gateway/route-spec.js';
import type { AppTokenStore } from './ports/app-tokens.js';
import type { DocumentStore } from './ports/documents.js';
import type { ObjectStore } from './ports/objects.js';
import type { QueueStore } from './ports/queues.js';
import type { ScheduleStore } from './ports/schedules.js';
import type { TopicStore } from './ports/topics.js';
import type { WorkflowStore } from './ports/workflows.js';

/**
 * What a backend can do, so shared code branches on abilities, never on the backend's name.
 * Each flag is proven by a contract test.
 */
export interface Capabilities {
  /** `SELECT ... FOR UPDATE SKIP LOCKED` for concurrent queue claims from many nodes. */
  readonly skipLocked: boolean;
  /** `LISTEN/NOTIFY` to wake consumers without polling. */
  readonly listenNotify: boolean;
  /** Session advisory locks for leader election. */
  readonly advisoryLocks: boolean;
  /** Several processes/nodes may write at once (false for SQLite: one writer process). */
  readonly multipleWriters: boolean;
}

/** One function of an app deploy, with its code already stored in the {@link CodeStore}. */
export interface DeployFunctionInput {
  readonly name: string;
  readonly codeSha256: string;
  readonly codeSize: number;
  readonly config: FunctionConfig;
}

/** Functions, versions and aliases. Function names passed here are Lambda full names (`app-fn`). */
export interface FunctionStore {
  /**
   * Replace the `$LATEST` of every function in `functions` for `app`, in one transaction: either
   * all change or none. Functions of the app that are not listed are deleted (with their versions
   * and aliases) when `prune` is true.
   * Throws `ResourceConflictException` if a full name is taken by another app.
   *
   * With `gateway`, the app's routes and gateway settings are replaced in the same transaction;
   * a route another app already claims (same method and full path) throws
   * `ResourceConflictException` naming both apps, and nothing changes. Without it they stay as
   * they are. Deleting a function (prune or {@link deleteFunction}) deletes its routes.
   */
  deployApp(
    app: string,
    functions: readonly DeployFunctionInput[],
    options: { prune: boolean; gateway?: AppGatewaySpec | undefined },
  ): Promise<void>;
  /** One version (`$LATEST` or a number). */
  getVersion(fullName: string, version: string): Promise<FunctionVersion | undefined>;
  /** `$LATEST` of every function, optionally of one app, ordered by full name. */
  listFunctions(app?: string): Promise<FunctionVersion[]>;
  /** All versions of a function, `$LATEST` first then ascending numbers. */
  listVersions(fullName: string): Promise<FunctionVersion[]>;
  /**
   * Snapshot `$LATEST` as the next version number. If `$LATEST` has the same code and config as
   * the highest published version, returns that version instead (as Lambda does).
   */
  publishVersion(fullName: string, description?: string): Promise<FunctionVersion>;
  /** Delete a function with all its versions and aliases. Returns false if it did not exist. */
  deleteFunction(fullName: string): Promise<boolean>;
  /** Create or replace an alias. The versions must exist (`ResourceNotFoundException` otherwise). */
  putAlias(fullName: string, alias: Omit<Alias, 'app' | 'functionName' | 'updatedAt'>): Promise<Alias>;
  getAlias(fullName: string, name: string): Promise<Alias | undefined>;
  listAliases(fullName: string): Promise<Alias[]>;
  deleteAlias(fullName: string, name: string): Promise<boolean>;
}

/** An app's stored gateway: settings plus its routes (function names inside the app). */
export interface StoredAppGateway extends AppGatewaySpec {
  readonly app: string;
}

/** Read side of the routes that {@link FunctionStore.deployApp} writes. */
export interface RouteStore {
  /** Every app that has routes, with its settings and routes in declared order; ordered by app. */
  listApps(): Promise<StoredAppGateway[]>;
}

/** A gateway API key as stored: its sha256, never the key. */
export interface ApiKeyRecord {
  /** Stable id (`key_...`), shown by `nimbus keys ls`. */
  readonly id: string;
  /** Unique name given at creation. */
  readonly name: string;
  /** sha256 hex of the key. */
  readonly keyHash: string;
  /** The key's first characters, to tell keys apart in listings. */
  readonly keyPrefix: string;
  /** The app whose routes accept the key. */
  readonly app: string;
  /** Usage plan name (declared in the app's gateway.usagePlans). */
  readonly plan: string;
  readonly createdAt: string;
  /** Set once revoked; a revoked key is refused but kept for its usage history. */
  readonly revokedAt?: string | undefined;
}

/** One counter increment: `count` more requests of a key in a quota period. */
export interface UsageIncrement {
  readonly keyId: string;
  /** `2026-11-22` (day) or `2026-11` (month), UTC. */
  readonly period: string;
  readonly count: number;
}

/** Gateway API keys and their per-period request counters. */
export interface ApiKeyStore {
  /** Store a new key. Throws `ResourceConflictException` if the name is taken. */
  create(key: ApiKeyRecord): Promise<void>;
  /** The key with this sha256 (revoked ones included). */
  getByHash(keyHash: string): Promise<ApiKeyRecord | undefined>;
  /** The key with this id, or else this name. */
  find(idOrName: string): Promise<ApiKeyRecord | undefined>;
  /** Every key, optionally of one app, ordered by name. */
  list(app?: string): Promise<ApiKeyRecord[]>;
  /** Mark revoked. False if there is no such key or it was already revoked. */
  revoke(id: string, at: string): Promise<boolean>;
  /**
   * Add increments atomically per counter (safe with many writers) and return each counter's
   * new total, keyed `${keyId} ${period}`.
   */
  addUsage(increments: readonly UsageIncrement[]): Promise<Map<string, number>>;
  /** Counters of a key, newest period first; with `periods`, only those. */
  getUsage(keyId: string, periods?: readonly string[]): Promise<Array<{ period: string; count: number }>>;
}

/** Content-addressed code bundles (sha256 hex → bytes), shared by every node through the store. */
export interface CodeStore {
  /** Store a blob; a no-op if the sha is already there. The caller computed `sha256` of `bytes`. */
  put(sha256: string, bytes: Buffer): Promise<void>;
  get(sha256: string): Promise<Buffer | undefined>;
  has(sha256: string): Promise<boolean>;
}

/** Status of an async invocation. */
export type AsyncInvocationStatus = 'queued' | 'running' | 'succeeded' | 'failed';

/** Destination delivery of a finished async invocation (absent when none is configured). */
export type DeliveryState = 'pending' | 'delivered' | 'failed';

/** Lambda's invocation-record condition of a finished async invocation. */
export type InvocationCondition = 'Success' | 'RetriesExhausted' | 'EventAgeExceeded' | 'FunctionNotFound';

/** An async (`Event`) invocation as stored. */
export interface AsyncInvocation {
  readonly id: string;
  /** X-Ray header the invocation was accepted with (its recursion Lineage); the run continues that chain. */
  readonly traceHeader?: string | undefined;
  readonly functionName: string;
  readonly qualifier: string;
  readonly payload: Buffer;
  readonly status: AsyncInvocationStatus;
  readonly attempts: number;
  /** Epoch ms. */
  readonly createdAt: number;
  /** Epoch ms before which it must not be claimed. */
  readonly availableAt: number;
  /** Result payload (on success) or Lambda error JSON (on failure). */
  readonly result?: Buffer | undefined;
  readonly error?: string | undefined;
  /** Epoch ms when it finished. */
  readonly finishedAt?: number | undefined;
  /** Epoch ms of the first claim. */
  readonly startedAt?: number | undefined;
  /** The key it was enqueued with, if any. */
  readonly idempotencyKey?: string | undefined;
  /** Why it finished, in Lambda's record terms. */
  readonly condition?: InvocationCondition | undefined;
  /** Version that ran the last attempt. */
  readonly executedVersion?: string | undefined;
  /** Destination delivery state; undefined when nothing was to be delivered. */
  readonly delivery?: DeliveryState | undefined;
  /** Failed delivery attempts so far. */
  readonly deliveryAttempts: number;
  readonly deliveryError?: string | undefined;
}

/** The final outcome of an async invocation, see {@link InvocationQueue.complete}. */
export interface InvocationOutcome {
  readonly status: 'succeeded' | 'failed';
  readonly result?: Buffer | undefined;
  readonly error?: string | undefined;
  readonly condition?: InvocationCondition | undefined;
  readonly executedVersion?: string | undefined;
  /** Overrides the stored attempt count (an event dropped for its age at claim was not run). */
  readonly attempts?: number | undefined;
  /**
   * Set when destinations must be delivered: the row is marked delivery `pending` in the same
   * update, leased for this long; a claim after the lease redelivers it (a crashed node).
   */
  readonly deliveryLeaseMs?: number | undefined;
}

/** The durable queue of async invocations. */
export interface InvocationQueue {
  /**
   * Store a new invocation; resolves only after it is committed (durable), to the id of the
   * invocation. With `idempotencyKey`, a key already used for the same function less than
   * `idempotencyWindowMs` ago stores nothing and resolves to the first invocation's id; the
   * check is a unique key, so concurrent enqueues with one key store one invocation.
   */
  enqueue(inv: {
    id: string;
    functionName: string;
    qualifier: string;
    payload: Buffer;
    availableAt?: number;
    idempotencyKey?: string | undefined;
    /** @default 86400000 (24 h) */
    idempotencyWindowMs?: number | undefined;
    /** The enqueuing request's X-Ray header (recursive loop detection). */
    traceHeader?: string | undefined;
  }): Promise<string>;
  /**
   * Claim up to `limit` queued invocations whose `availableAt` has passed, or running ones whose
   * lease expired (a crashed worker), marking them running with a lease of `leaseMs` and
   * incrementing `attempts`. Also claims finished invocations whose destination delivery is
   * `pending` with an expired lease (status and attempts unchanged, lease renewed) so they are
   * delivered again. Two concurrent claimers never get the same invocation. `claimedBy` (a node
   * id) is recorded for {@link requeueRunning}. Invocations (not deliveries) of the functions in
   * `skipFunctions` are left for later: the claimer cannot run more of them now.
   */
  claim(
    limit: number,
    leaseMs: number,
    claimedBy?: string,
    options?: { readonly skipFunctions?: readonly string[] },
  ): Promise<AsyncInvocation[]>;
  /** Record the final outcome of a claimed invocation. */
  complete(id: string, outcome: InvocationOutcome): Promise<void>;
  /**
   * Record how a pending destination delivery went: `delivered`, `failed` (given up), or
   * `pending` again with a retry time (counts a failed delivery attempt).
   */
  settleDelivery(
    id: string,
    outcome:
      | { state: 'delivered' }
      | { state: 'failed'; error: string }
      | { state: 'pending'; error: string; retryAt: number },
  ): Promise<void>;
  /**
   * Return running invocations to the queue at once, keeping their attempt count, and make
   * pending deliveries claimable at once. Without `claimedBy`: every row, only for a node that
   * knows no other process works this queue (a single-writer SQLite node at start). With it:
   * the rows that node claimed, for a node restarting with the same id (its previous process
   * died; nobody else uses its id).
   * @returns how many running invocations were requeued.
   */
  requeueRunning(options?: { claimedBy?: string }): Promise<number>;
  /**
   * Give back claimed invocations that were not started (a stopping node): running ones are
   * queued again with their attempt undone; pending deliveries become claimable at once.
   */
  unclaim(ids: readonly string[]): Promise<void>;
  /**
   * Heartbeat: move the lease of these running invocations to `leaseUntil` (epoch ms). With
   * `claimedBy`, only rows that node still holds (another node may have retaken one whose lease
   * ran out). @returns how many leases moved.
   */
  extendLeases(ids: readonly string[], leaseUntil: number, claimedBy?: string): Promise<number>;
  /**
   * Put a claimed invocation back to be retried at `availableAt`. With `undoAttempt`, the claim's
   * attempt is given back: the failure was the platform's (a throttle), not the function's.
   */
  release(
    id: string,
    availableAt: number,
    error?: string,
    options?: { readonly undoAttempt?: boolean },
  ): Promise<void>;
  get(id: string): Promise<AsyncInvocation | undefined>;
  /** Forget idempotency keys created before `before` (epoch ms). @returns how many. */
  purgeIdempotencyKeys(before: number): Promise<number>;
  /**
   * Delete up to `limit` invocations that finished before `before` (epoch ms) and have nothing
   * left to do (no destination delivery pending). The retention sweep. @returns how many.
   */
  purgeFinished(before: number, limit: number): Promise<number>;
}

/** One captured log line of a function. */
export interface LogLine {
  /** Assigned by the store, increasing; use as a cursor. */
  readonly id?: number;
  readonly functionName: string;
  readonly version: string;
  readonly requestId: string;
  /** Epoch ms. */
  readonly timestamp: number;
  readonly stream: 'stdout' | 'stderr' | 'platform';
  readonly message: string;
}

/** Function logs, written in batches off the hot path. */
export interface LogStore {
  append(lines: readonly LogLine[]): Promise<void>;
  /** Lines of a function, oldest first, with `timestamp >= sinceMs` and `id > afterId`. */
  query(q: { functionName: string; sinceMs?: number; afterId?: number; limit?: number }): Promise<LogLine[]>;
  /**
   * Of the `limit` oldest lines (by id), delete those written before `before` (epoch ms); the
   * retention sweep calls it until it returns 0. @returns how many were deleted.
   */
  deleteOlderThan(before: number, limit: number): Promise<number>;
  /** Characters of log text kept per function (a scan: for the periodic sweep only). */
  sizeByFunction(): Promise<Map<string, number>>;
  /** Delete the oldest lines of `functionNames` (together) until they hold at most `keep` characters. @returns how many. */
  trimOldest(functionNames: readonly string[], keep: number): Promise<number>;
}

/** An issued AWS-style access key. */
export interface AccessKeyRecord {
  readonly accessKeyId: string;
  /** sha256 of the secret, hex; for quick rejection and audits. */
  readonly secretHash: string;
  /** The secret encrypted at rest (SigV4 needs the plain secret to verify). */
  readonly secretEncrypted: string;
  readonly name: string;
  readonly createdAt: string;
}

/** An issued bearer token for the `/v1` API (only its hash is stored). */
export interface TokenRecord {
  /** sha256 of the token, hex. */
  readonly tokenHash: string;
  readonly name: string;
  /** Scopes; `*` is everything. */
  readonly scopes: readonly string[];
  readonly createdAt: string;
}

/** Access keys, bearer tokens and issued app tokens. */
export interface CredentialStore extends AppTokenStore {
  putAccessKey(key: AccessKeyRecord): Promise<void>;
  getAccessKey(accessKeyId: string): Promise<AccessKeyRecord | undefined>;
  putToken(token: TokenRecord): Promise<void>;
  getToken(tokenHash: string): Promise<TokenRecord | undefined>;
  /** Number of access keys (0 means first start). */
  countAccessKeys(): Promise<number>;
}

/** A small key/value table for node-level settings (e.g. the first-start marker). */
export interface SettingsStore {
  get(key: string): Promise<string | undefined>;
  set(key: string, value: string): Promise<void>;
}

/** The whole store: every port, over one database. */
export interface Store {
  readonly kind: 'sqlite' | 'postgres';
  readonly capabilities: Capabilities;
  readonly functions: FunctionStore;
  readonly routes: RouteStore;
  readonly apiKeys: ApiKeyStore;
  readonly code: CodeStore;
  readonly invocations: InvocationQueue;
  readonly logs: LogStore;
  readonly credentials: CredentialStore;
  readonly settings: SettingsStore;
  /** Queues and their messages (src/services/queues). */
  readonly queues: QueueStore;
  /** Topics and subscriptions (src/services/topics). */
  readonly topics: TopicStore;
  /** Buckets' metadata; object bytes live in files (src/services/buckets). */
  readonly objects: ObjectStore;
  /** Document tables and their change stream (src/services/tables). */
  readonly documents: DocumentStore;
  /** Schedules and their fired ticks (src/events/schedules). */
  readonly schedules: ScheduleStore;
  /** Workflows, executions, history, timers and task tokens (src/workflow/core). */
  readonly workflows: WorkflowStore;
  /**
   * Runs `work` in one transaction over every port: `work` gets a store whose ports all write
   * through that transaction; it commits when `work` resolves and rolls back when it throws, so
   * a crash at any point leaves all of it or none (deploys use this). Port methods that open a
   * transaction of their own join this one. Inside `work` use only `tx`: on SQLite this store's
   * other calls wait for the transaction's connection, so awaiting one from `work` never returns.
   * Calling `transaction` on `tx` runs the work in the same transaction.
   */
  transaction<T>(work: (tx: Store) => Promise<T>): Promise<T>;
  /** Close connections. Idempotent. */
  close(): Promise<void>;
}
