// Runs durable async (`Event`) invocations: claims them from the store's queue, invokes, records
// the outcome, retries failed attempts with backoff, and delivers destinations and dead letters.
// Throttles and other platform-side failures are retried until the event's maximum age without
// using up its retry attempts, and no more events of a function are started than it may run.

import type { FunctionConfig } from '../functions/function-model.js';
import type { AsyncInvocation, InvocationQueue } from '../store/store.js';
import { isNimbusError } from '../errors.js';
import { targetsFor, type DestinationRouter, type FinishedInvocation } from './destinations.js';
import type { FunctionResolver } from './function-resolver.js';
import type { InvokeService } from './invoke-service.js';
import { isPlatformFailure, platformBackoffMs } from './platform-failure.js';

/** Options of the {@link AsyncDispatcher} (server option `async`). */
export interface AsyncDispatcherOptions {
  /** Invocations run at once by this node. @default 16 */
  readonly concurrency?: number;
  /** Poll interval when the queue looked empty. @default 100 */
  readonly pollMs?: number;
  /**
   * Node-wide cap on attempts in all (1 + retries); a function's `maximumRetryAttempts` applies
   * below it. @default 3 (Lambda's maximum of 2 retries)
   */
  readonly maxAttempts?: number;
  /** First retry delay; doubles each attempt, with ±20% jitter. @default 1000 */
  readonly retryBaseMs?: number;
  /**
   * First retry delay after a platform-side failure (throttle, no capacity, an instance that did
   * not start); doubles per failure of the event, with jitter, up to `platformRetryMaxMs`. These
   * retries last until the maximum event age and do not count as attempts. @default 1000
   */
  readonly platformRetryBaseMs?: number;
  /** Longest delay between platform-side retries of an event (Lambda's: 5 minutes). @default 300000 */
  readonly platformRetryMaxMs?: number;
  /**
   * Node-wide cap on the event age; a function's `maximumEventAge` applies below it. Events at
   * least this old are not run (again) but fail with `EventAgeExceeded`. @default 21600000 (6 h)
   */
  readonly maxEventAgeMs?: number;
  /**
   * Lease on a claimed invocation, renewed every third of it while this node works on it: a node
   * that dies without coming back has its claims retaken by another node within this time.
   * @default 15000
   */
  readonly leaseMs?: number;
  /** Lease on a pending destination delivery; another claim redelivers after it. @default 60000 */
  readonly deliveryLeaseMs?: number;
  /** Delivery attempts of a destination before it is marked failed. @default 5 */
  readonly maxDeliveryAttempts?: number;
  /** This node's id, recorded on its claims (see `loadNodeId`); a restart requeues them. */
  readonly nodeId?: string;
  /** How long an idempotency key holds (`X-Nimbus-Idempotency-Key`). @default 86400000 (24 h) */
  readonly idempotencyWindowMs?: number;
  readonly onError?: (err: unknown) => void;
}

/** What the {@link AsyncDispatcher} works with. */
export interface AsyncDispatcherDeps {
  readonly queue: InvocationQueue;
  readonly invoker: InvokeService;
  /** Reads each invocation's function settings (retries, event age, destinations). */
  readonly resolver: FunctionResolver;
  readonly destinations: DestinationRouter;
}

/** How often expired idempotency keys are purged. */
const PURGE_EVERY_MS = 600_000;
/** Platform-side failures remembered per event (for their backoff); forgotten wholesale past this. */
const MAX_TRACKED_FAILURES = 10_000;

/** Claims and runs queued async invocations. `start()` and `stop()` are idempotent. */
export class AsyncDispatcher {
  readonly #queue: InvocationQueue;
  readonly #invoker: InvokeService;
  readonly #resolver: FunctionResolver;
  readonly #destinations: DestinationRouter;
  readonly #concurrency: number;
  readonly #pollMs: number;
  readonly #maxAttempts: number;
  readonly #retryBaseMs: number;
  readonly #platformBackoff: { readonly baseMs: number; readonly maxMs: number };
  readonly #leaseMs: number;
  readonly #maxEventAgeMs: number;
  readonly #deliveryLeaseMs: number;
  readonly #maxDeliveryAttempts: number;
  readonly #nodeId: string | undefined;
  readonly #onError: (err: unknown) => void;
  readonly #inFlight = new Set<Promise<void>>();
  /**
   * Claimed, not yet started (see #pump): waiting for a free slot, or for their function to be
   * below its maxConcurrency ("parked").
   */
  readonly #ready: AsyncInvocation[] = [];
  /** Ids of the invocations this node is running (their leases are renewed). */
  readonly #runningIds = new Set<string>();
  /** Invocations this node runs now, per function. */
  readonly #active = new Map<string, number>();
  /** Each function's maxConcurrency as last resolved; unknown ones run one at a time until resolved. */
  readonly #limits = new Map<string, number>();
  /** Platform-side failures so far per event id (this node's view; grows its backoff). */
  readonly #platformFailures = new Map<string, number>();
  /** Async invocations dropped as recursive loops since start (in the warning). */
  #recursionStops = 0;
  /**
   * The functions skipped by the last claim, when it came back short: the queue holds nothing
   * else claimable now, so claims wait for an enqueue, the poll, or one of these to have room.
   */
  #dryWith: ReadonlySet<string> | undefined;
  /** How long an idempotency key holds, ms (read by enqueueAsync). */
  readonly idempotencyWindowMs: number;
  #running = false;
  #timer: NodeJS.Timeout | undefined;
  #purgeTimer: NodeJS.Timeout | undefined;
  #leaseTimer: NodeJS.Timeout | undefined;
  #pumping = false;
  #again = false;
  #wake: NodeJS.Immediate | undefined;

  constructor(deps: AsyncDispatcherDeps, options: AsyncDispatcherOptions = {}) {
    this.#queue = deps.queue;
    this.#invoker = deps.invoker;
    this.#resolver = deps.resolver;
    this.#destinations = deps.destinations;
    this.#concurrency = options.concurrency ?? 16;
    this.#pollMs = options.pollMs ?? 100;
    this.#maxAttempts = options.maxAttempts ?? 3;
    this.#retryBaseMs = options.retryBaseMs ?? 1000;
    this.#platformBackoff = {
      baseMs: options.platformRetryBaseMs ?? 1000,
      maxMs: options.platformRetryMaxMs ?? 300_000,
    };
    // Why 15 s renewed every 5 s (was 60 s every 20 s): a node killed with claimed events makes
    // them wait out the lease before another node retakes them; the renewal is one UPDATE of this
    // node's running ids per 5 s (~0.1 ms on SQLite, one round trip on PostgreSQL), and a node must
    // now stall 10 s (not 40 s) before a live claim is retaken and possibly run twice.
    this.#leaseMs = options.leaseMs ?? 15_000;
    this.#maxEventAgeMs = options.maxEventAgeMs ?? 6 * 3_600_000;
    this.#deliveryLeaseMs = options.deliveryLeaseMs ?? 60_000;
    this.#maxDeliveryAttempts = options.maxDeliveryAttempts ?? 5;
    this.#nodeId = options.nodeId;
    this.idempotencyWindowMs = options.idempotencyWindowMs ?? 86_400_000;
    this.#onError = options.onError ?? (() => {});
  }

  start(): void {
    if (this.#running) return;
    this.#running = true;
    this.#purgeTimer = setInterval(() => {
      this.#queue.purgeIdempotencyKeys(Date.now() - this.idempotencyWindowMs).catch(this.#onError);
    }, PURGE_EVERY_MS);
    this.#purgeTimer.unref();
    // Why renewed leases instead of one as long as the longest function (900 s): a node that
    // dies for good would otherwise hold its claims for 15 minutes before another node retries
    // them. A restarting node retakes its own claims at once (requeueRunning by node id).
    this.#leaseTimer = setInterval(() => this.#renewLeases(), Math.max(50, Math.floor(this.#leaseMs / 3)));
    this.#leaseTimer.unref();
    this.notify();
  }

  /** True when `fn` runs as many invocations on this node as it may (unknown limit: one). */
  #atLimit(fn: string): boolean {
    return (this.#active.get(fn) ?? 0) >= (this.#limits.get(fn) ?? 1);
  }

  /** Record a function's maxConcurrency; start its parked events when it grew. */
  #noteLimit(fn: string, maxConcurrency: number): void {
    const before = this.#limits.get(fn) ?? 1;
    this.#limits.set(fn, maxConcurrency);
    if (maxConcurrency > before) this.#startReady();
  }

  #renewLeases(): void {
    const ids = [
      ...this.#runningIds,
      ...this.#ready.filter((i) => i.delivery !== 'pending').map((i) => i.id),
    ];
    if (ids.length === 0) return;
    this.#queue.extendLeases(ids, Date.now() + this.#leaseMs, this.#nodeId).catch(this.#onError);
  }

  /** Wake the dispatcher now (called after a local enqueue so it does not wait for the poll). */
  notify(): void {
    this.#dryWith = undefined;
    this.#wakeUp();
  }

  /** Pump soon; unlike {@link notify}, keeps the knowledge that the queue has nothing claimable. */
  #wakeUp(): void {
    if (!this.#running) return;
    if (this.#pumping) {
      this.#again = true;
      return;
    }
    // Why deferred: a burst of accepts (or of finished invocations) in one I/O turn makes one
    // claim, not one each; a claim per accept cost ~190 µs of the ~290 µs per accept measured.
    if (this.#wake) return;
    this.#wake = setImmediate(() => {
      this.#wake = undefined;
      if (this.#pumping) this.#again = true;
      else if (this.#running) void this.#pump();
    });
  }

  /** Stop claiming and wait for the invocations (and deliveries) in flight. */
  async stop(): Promise<void> {
    this.#running = false;
    if (this.#timer) clearTimeout(this.#timer);
    if (this.#purgeTimer) clearInterval(this.#purgeTimer);
    if (this.#wake) clearImmediate(this.#wake);
    this.#wake = undefined;
    this.#timer = undefined;
    this.#purgeTimer = undefined;
    // Claimed ahead but not started: back to the queue for the next node (or start).
    const unstarted = this.#ready.splice(0);
    if (unstarted.length > 0) await this.#queue.unclaim(unstarted.map((i) => i.id)).catch(this.#onError);
    // Leases stay renewed until the last running invocation is done.
    await Promise.allSettled([...this.#inFlight]);
    if (this.#leaseTimer) clearInterval(this.#leaseTimer);
    this.#leaseTimer = undefined;
  }

  /**
   * Start claimed events, oldest first, while there are free slots, skipping those whose function
   * is at its maxConcurrency on this node. Why not start them anyway and retry the throttles:
   * measured with 1,000 no-op events to a maxConcurrency 1 function (1 ms acquire timeout, test
   * async-throttling), retrying alone had not finished after 100 s (most events throttled again
   * and again, each a claim and a release, backing off towards 5 minutes); with this gate all ran
   * in 4-5 s with no throttle. Throttles still come from load this node does not count (sync
   * calls, the memory budget); those are retried (#retryLater).
   */
  #startReady(): void {
    for (let i = 0; this.#running && i < this.#ready.length && this.#inFlight.size < this.#concurrency;) {
      const inv = this.#ready[i]!;
      const redelivery = inv.delivery === 'pending';
      if (!redelivery && this.#atLimit(inv.functionName)) {
        i++;
        continue;
      }
      this.#ready.splice(i, 1);
      const fn = inv.functionName;
      if (!redelivery) {
        this.#runningIds.add(inv.id);
        this.#active.set(fn, (this.#active.get(fn) ?? 0) + 1);
      }
      const work = redelivery ? this.#redeliver(inv) : this.#run(inv);
      const p: Promise<void> = work.catch(this.#onError).finally(() => {
        if (!redelivery) {
          this.#runningIds.delete(inv.id);
          const n = (this.#active.get(fn) ?? 1) - 1;
          if (n > 0) this.#active.set(fn, n);
          else this.#active.delete(fn);
        }
        this.#inFlight.delete(p);
        this.#startReady();
        this.#wakeUp();
      });
      this.#inFlight.add(p);
    }
  }

  /** Counts of what is claimed and not started: startable now, and parked per function. */
  #readyCounts(): { startable: number; parked: Map<string, number> } {
    let startable = 0;
    const parked = new Map<string, number>();
    for (const inv of this.#ready) {
      if (inv.delivery === 'pending' || !this.#atLimit(inv.functionName)) startable++;
      else parked.set(inv.functionName, (parked.get(inv.functionName) ?? 0) + 1);
    }
    return { startable, parked };
  }

  /**
   * Functions not to claim for: those whose running plus parked events on this node already
   * reach their limit. Why claims skip them rather than take and give back: a backlog of one
   * saturated function would otherwise be claimed, parked and leased by this node while other
   * nodes (or its other functions) could run.
   */
  #skipFunctions(parked: ReadonlyMap<string, number>): Set<string> {
    const skip = new Set<string>();
    // A parked function is at its limit, so it is among the active ones.
    for (const [fn, n] of this.#active) {
      if (n + (parked.get(fn) ?? 0) >= (this.#limits.get(fn) ?? 1)) skip.add(fn);
    }
    return skip;
  }

  async #pump(): Promise<void> {
    this.#pumping = true;
    let claimedAny: boolean;
    try {
      do {
        this.#again = false;
        claimedAny = false;
        this.#startReady();
        if (!this.#running) break;
        // Why claim ahead: with every slot busy, each finished event freed one slot and cost
        // one claim statement of one row (~35 µs of ~200 µs per event on SQLite, profiled).
        // Up to `concurrency` startable events wait in memory, refilled in one claim once half
        // are used. They hold leases like running ones, so a crash loses none. Parked events
        // (their function is at its limit) do not count: they must not stop other functions'
        // claims; the skip list bounds them (one claim's worth per saturated function).
        const { startable, parked } = this.#readyCounts();
        if (startable > this.#concurrency / 2) break;
        const want = 2 * this.#concurrency - this.#inFlight.size - startable;
        if (want <= 0) break;
        const skip = this.#skipFunctions(parked);
        // Nothing new can be claimable when the last claim came back short and skipped no more
        // than this one would: without this, each finished event of a saturated function's
        // backlog re-scanned that backlog to find nothing.
        const dry = this.#dryWith;
        if (dry !== undefined && [...dry].every((fn) => skip.has(fn))) break;
        const claimed = await this.#queue.claim(want, this.#leaseMs, this.#nodeId, {
          skipFunctions: [...skip],
        });
        this.#dryWith = claimed.length < want ? skip : undefined;
        claimedAny = claimed.length > 0;
        this.#ready.push(...claimed);
        this.#startReady();
      } while (this.#running && (this.#again || claimedAny));
    } catch (err) {
      this.#onError(err);
    } finally {
      this.#pumping = false;
      // A steady poll, not pushed back by every pump: released retries and events enqueued on
      // other nodes become claimable without a local notify.
      if (this.#running && this.#timer === undefined) {
        this.#timer = setTimeout(() => {
          this.#timer = undefined;
          this.notify();
        }, this.#pollMs);
        this.#timer.unref();
      }
    }
  }

  async #run(inv: AsyncInvocation): Promise<void> {
    const { id, functionName, qualifier, payload, attempts } = inv;
    let config: FunctionConfig;
    try {
      config = (await this.#resolver.resolve(functionName, qualifier === '' ? undefined : qualifier)).config;
    } catch (err) {
      if (isNimbusError(err) && err.code === 'ResourceNotFoundException') {
        await this.#functionGone(id, err);
        return;
      }
      // The store is unreachable or similar: the platform's failure, retried without an attempt.
      await this.#retryLater(inv, errorJson(err), this.#maxEventAgeMs);
      return;
    }
    this.#noteLimit(functionName, config.maxConcurrency);
    // Configs stored before migration 004 lack the async keys: Lambda's defaults.
    const maxAttempts = Math.min(this.#maxAttempts, (config.maximumRetryAttempts ?? 2) + 1);
    const maxAgeMs = Math.min(this.#maxEventAgeMs, (config.maximumEventAge ?? 21_600) * 1000);

    if (Date.now() - inv.createdAt >= maxAgeMs) {
      // Lambda drops events older than the maximum event age instead of running them late.
      const errorMessage = `Event age exceeded the maximum of ${Math.round(maxAgeMs / 1000)} s; not run.`;
      await this.#finish(
        { ...inv, status: 'failed', condition: 'EventAgeExceeded', attempts: attempts - 1 },
        { error: JSON.stringify({ errorType: 'EventAgeExceeded', errorMessage }) },
        config,
      );
      return;
    }
    let error: string;
    let executedVersion: string | undefined;
    try {
      const res = await this.#invoker.invoke({
        functionName,
        qualifier: qualifier === '' ? undefined : qualifier,
        payload,
        requestId: id,
        traceHeader: inv.traceHeader,
      });
      executedVersion = res.executedVersion;
      if (res.ok) {
        await this.#finish(
          { ...inv, status: 'succeeded', condition: 'Success', executedVersion },
          { result: res.payload },
          config,
        );
        return;
      }
      error = res.payload.toString();
    } catch (err) {
      // A deleted function will not come back by retrying; anything else (e.g. 429) may.
      if (isNimbusError(err) && err.code === 'ResourceNotFoundException') {
        await this.#functionGone(id, err);
        return;
      }
      error = errorJson(err);
      if (isNimbusError(err) && err.code === 'RecursiveInvocationException') {
        // A recursive loop: not retried (it would loop again); dropped with a warning, and sent
        // to the on-failure destination or dead-letter target if there is one, as Lambda does.
        this.#recursionStops++;
        this.#onError(
          new Error(
            `async invocation ${id} of ${functionName} dropped: recursive loop detected (more than 16 runs in one chain of requests; ${this.#recursionStops} stopped so far)`,
          ),
        );
        await this.#finish({ ...inv, status: 'failed', condition: 'RetriesExhausted' }, { error }, config);
        return;
      }
      if (isPlatformFailure(err)) {
        await this.#retryLater(inv, error, maxAgeMs);
        return;
      }
    }
    if (attempts >= maxAttempts) {
      await this.#finish(
        { ...inv, status: 'failed', condition: 'RetriesExhausted', executedVersion },
        { error },
        config,
      );
      return;
    }
    // Whole ms: PostgreSQL stores epoch ms as bigint and rejects fractions.
    const delay = Math.round(this.#retryBaseMs * 2 ** (attempts - 1) * (0.8 + Math.random() * 0.4));
    await this.#queue.release(id, Date.now() + delay, error);
  }

  /**
   * A platform-side failure (throttle, no capacity, a failed instance start): back to the queue
   * with a growing, jittered delay and the claim's attempt given back, as Lambda retries these
   * until the maximum event age without counting them against maximumRetryAttempts. Never later
   * than the event's maximum age, so an event that cannot run is reported (`EventAgeExceeded`)
   * when it expires.
   */
  async #retryLater(inv: AsyncInvocation, error: string, maxAgeMs: number): Promise<void> {
    if (this.#platformFailures.size >= MAX_TRACKED_FAILURES) this.#platformFailures.clear();
    const failures = (this.#platformFailures.get(inv.id) ?? 0) + 1;
    this.#platformFailures.set(inv.id, failures);
    const at = Math.min(
      Date.now() + platformBackoffMs(failures, this.#platformBackoff),
      inv.createdAt + maxAgeMs,
    );
    await this.#queue.release(inv.id, at, error, { undoAttempt: true });
  }

  /** The function was deleted since the enqueue: retrying will not bring it back, and its destinations went with it. */
  async #functionGone(id: string, err: { code: string; message: string }): Promise<void> {
    this.#platformFailures.delete(id);
    await this.#queue.complete(id, {
      status: 'failed',
      condition: 'FunctionNotFound',
      error: JSON.stringify({ errorType: err.code, errorMessage: err.message }),
    });
  }

  /**
   * Record the final outcome, then deliver. Why this order: the outcome and `delivery pending`
   * are one UPDATE, so a crash before it reruns the invocation (at-least-once, as before) and a
   * crash after it leaves a pending delivery that the next claim after `deliveryLeaseMs`
   * redelivers (on SQLite at once, at the next start). Delivering before recording could send a
   * record for an outcome that is then lost and rerun with a different result; recording done
   * before delivering could lose the record. Redeliveries send the same record; function
   * destinations dedupe through an idempotency key, queues and topics may see a duplicate.
   */
  async #finish(
    inv: Omit<FinishedInvocation, 'result' | 'error' | 'finishedAt'>,
    outcome: { result?: Buffer; error?: string },
    config: FunctionConfig,
  ): Promise<void> {
    this.#platformFailures.delete(inv.id);
    const targets = targetsFor(config, inv);
    const deliver = targets.record !== undefined || targets.deadLetter !== undefined;
    const finishedAt = Date.now();
    await this.#queue.complete(inv.id, {
      status: inv.status,
      result: outcome.result,
      error: outcome.error,
      condition: inv.condition,
      executedVersion: inv.executedVersion,
      ...(inv.condition === 'EventAgeExceeded' ? { attempts: inv.attempts } : {}),
      ...(deliver ? { deliveryLeaseMs: this.#deliveryLeaseMs } : {}),
    });
    if (!deliver) return;
    await this.#deliver({ ...inv, ...outcome, finishedAt }, targets, 0);
  }

  /** A claimed invocation whose delivery was left pending: deliver its stored outcome again. */
  async #redeliver(inv: AsyncInvocation): Promise<void> {
    if (inv.status !== 'succeeded' && inv.status !== 'failed') return;
    let config: FunctionConfig | undefined;
    try {
      config = (await this.#resolver.resolve(inv.functionName, inv.qualifier || undefined)).config;
    } catch (err) {
      if (!(isNimbusError(err) && err.code === 'ResourceNotFoundException')) throw err;
    }
    const finished: FinishedInvocation = {
      ...inv,
      status: inv.status,
      condition: inv.condition ?? (inv.status === 'succeeded' ? 'Success' : 'RetriesExhausted'),
    };
    const targets = targetsFor(config, finished);
    if (targets.record === undefined && targets.deadLetter === undefined) {
      await this.#queue.settleDelivery(inv.id, {
        state: 'failed',
        error: 'the function or its destinations were removed before the record was delivered',
      });
      return;
    }
    await this.#deliver(finished, targets, inv.deliveryAttempts);
  }

  async #deliver(
    inv: FinishedInvocation,
    targets: ReturnType<typeof targetsFor>,
    failedBefore: number,
  ): Promise<void> {
    try {
      await this.#destinations.deliver(inv, targets);
    } catch (err) {
      const error = String((err as Error)?.message ?? err);
      const failures = failedBefore + 1;
      if (failures >= this.#maxDeliveryAttempts) {
        await this.#queue.settleDelivery(inv.id, { state: 'failed', error });
      } else {
        const retryAt = Date.now() + Math.round(this.#retryBaseMs * 2 ** (failures - 1));
        await this.#queue.settleDelivery(inv.id, { state: 'pending', error, retryAt });
      }
      this.#onError(
        new Error(`destination delivery of invocation ${inv.id} failed: ${error}`, { cause: err }),
      );
      return;
    }
    await this.#queue.settleDelivery(inv.id, { state: 'delivered' });
  }
}

/** An invoke error as the Lambda error JSON stored on the invocation. */
function errorJson(err: unknown): string {
  return JSON.stringify({
    errorType: isNimbusError(err) ? err.code : 'ServiceException',
    errorMessage: String((err as Error)?.message ?? err),
  });
}
