// Runs one StreamPoller per stored table trigger (on one node of a cluster), wakes them on local
// writes, and trims stream records older than 24 hours.

import type { InvokeService } from '../../invoke/invoke-service.js';
import type { ServerLogger } from '../../lifecycle.js';
import type { AdvisoryLocks, HeldLock } from '../../store/coordination.js';
import type { DocumentStore } from '../../store/ports/documents.js';
import { StreamPoller } from './stream-poller.js';
import type { StreamPollerOptions } from './stream-poller.js';

/** How long stream records are kept, as DynamoDB Streams does. */
export const STREAM_RETENTION_MS = 24 * 60 * 60 * 1000;

/** Options of the {@link StreamDispatcher}. */
export interface StreamDispatcherOptions extends StreamPollerOptions {
  /** How often triggers deployed through other nodes are picked up. @default 5000 */
  readonly resyncIntervalMs?: number;
  /** How often old stream records are trimmed. @default 600000 (10 min) */
  readonly trimIntervalMs?: number;
}

/** What the dispatcher is built from. */
export interface StreamDispatcherDeps {
  readonly store: DocumentStore;
  readonly invoker: InvokeService;
  readonly region: string;
  readonly accountId: string;
  readonly locks?: AdvisoryLocks | undefined;
  readonly logger: ServerLogger;
  readonly onError: (err: unknown) => void;
}

/** The advisory lock whose holder runs every table trigger's poller. */
export const STREAMS_LEADER_LOCK = 'table-streams';

/**
 * The pollers of every table trigger. With advisory locks (several nodes on one PostgreSQL),
 * only the node holding {@link STREAMS_LEADER_LOCK} runs pollers; the others try to take it at
 * every resync. Why one lock for all triggers rather than one per trigger: a PostgreSQL session
 * lock pins a connection for as long as it is held, so per-trigger locks would cost one
 * connection per trigger (and a connect per trigger per retry on every other node).
 */
export class StreamDispatcher {
  readonly #deps: StreamDispatcherDeps;
  readonly #options: Required<StreamDispatcherOptions>;
  readonly #pollers = new Map<string, StreamPoller>();
  #running = false;
  #resyncTimer: NodeJS.Timeout | undefined;
  #trimTimer: NodeJS.Timeout | undefined;
  #syncing: Promise<void> = Promise.resolve();
  #leader: HeldLock | undefined;

  constructor(deps: StreamDispatcherDeps, options: StreamDispatcherOptions = {}) {
    this.#deps = deps;
    this.#options = {
      pollIntervalMs: options.pollIntervalMs ?? 1000,
      retryBaseMs: options.retryBaseMs ?? 250,
      retryMaxMs: options.retryMaxMs ?? 30_000,
      resyncIntervalMs: options.resyncIntervalMs ?? 5000,
      trimIntervalMs: options.trimIntervalMs ?? 600_000,
    };
  }

  start(): void {
    if (this.#running) return;
    this.#running = true;
    void this.sync();
    void this.#trim();
    this.#resyncTimer = setInterval(() => void this.sync(), this.#options.resyncIntervalMs);
    this.#trimTimer = setInterval(() => void this.#trim(), this.#options.trimIntervalMs);
    this.#resyncTimer.unref();
    this.#trimTimer.unref();
  }

  /** Start pollers for new triggers, stop those of removed ones (serialized). */
  sync(): Promise<void> {
    this.#syncing = this.#syncing
      .then(() => this.#syncNow())
      .catch((err: unknown) => this.#deps.onError(err));
    return this.#syncing;
  }

  /** Wake the pollers of `table` (a local write committed a stream record). */
  wake(table: string): void {
    for (const poller of this.#pollers.values()) if (poller.table === table) poller.wake();
  }

  async stop(): Promise<void> {
    if (!this.#running) return;
    this.#running = false;
    clearInterval(this.#resyncTimer);
    clearInterval(this.#trimTimer);
    await this.#syncing;
    await this.#stopPollers();
    const leader = this.#leader;
    this.#leader = undefined;
    await leader?.release();
  }

  async #stopPollers(): Promise<void> {
    const pollers = [...this.#pollers.values()];
    this.#pollers.clear();
    await Promise.all(pollers.map((p) => p.stop()));
  }

  /** True when this node runs the pollers: no locks (one node), or it holds the leader lock. */
  async #lead(): Promise<boolean> {
    const locks = this.#deps.locks;
    if (locks === undefined) return true;
    if (this.#leader !== undefined) return true;
    const lock = await locks.tryAcquire(STREAMS_LEADER_LOCK);
    if (lock === undefined) return false;
    if (!this.#running) {
      await lock.release();
      return false;
    }
    this.#leader = lock;
    void lock.lost.then(() => {
      if (this.#leader !== lock) return;
      // Lost the connection: another node may take over now. Resync at once (serialized with
      // other syncs): it stops the pollers unless this node wins the lock again. A batch in
      // flight may be delivered twice, which at-least-once allows.
      this.#leader = undefined;
      this.#deps.logger.warn('table streams: lost the leader lock; another node may take over the pollers');
      void this.sync();
    });
    return true;
  }

  async #syncNow(): Promise<void> {
    if (!this.#running) return;
    if (!(await this.#lead())) {
      await this.#stopPollers();
      return;
    }
    const triggers = await this.#deps.store.listTriggers();
    if (!this.#running) return;
    const ids = new Set(triggers.map((t) => t.id));
    const gone = [...this.#pollers.entries()].filter(([id]) => !ids.has(id));
    for (const [id] of gone) this.#pollers.delete(id);
    await Promise.all(gone.map(([, p]) => p.stop()));
    for (const trigger of triggers) {
      const existing = this.#pollers.get(trigger.id);
      if (existing !== undefined) {
        existing.update(trigger);
        existing.wake();
        continue;
      }
      const poller = new StreamPoller(
        {
          store: this.#deps.store,
          invoker: this.#deps.invoker,
          region: this.#deps.region,
          accountId: this.#deps.accountId,
          warn: (msg) => this.#deps.logger.warn(msg),
          onError: this.#deps.onError,
          options: this.#options,
        },
        trigger,
      );
      this.#pollers.set(trigger.id, poller);
      poller.start();
    }
  }

  async #trim(): Promise<void> {
    try {
      await this.#deps.store.trimStream(Date.now() - STREAM_RETENTION_MS);
    } catch (err) {
      this.#deps.onError(err);
    }
  }
}
