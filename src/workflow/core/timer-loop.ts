// The durable timer loop: fires due timers, times out tasks and executions, led by one node
// when the store has advisory locks (the others take over when the leader's session dies).

import type { AdvisoryLocks, HeldLock } from '../../store/coordination.js';
import type { WorkflowStore } from '../../store/ports/workflows.js';

/** The advisory lock whose holder runs the timer loop. */
export const WORKFLOW_TIMERS_LOCK = 'workflow-timers';

/** Options of the {@link TimerLoop}. */
export interface TimerLoopOptions {
  /** Longest sleep between looks at the store (timers set by other nodes). @default 1000 */
  readonly pollMs?: number;
  /** How often a node that is not the leader tries to take the lock. @default 2000 */
  readonly leaderRetryMs?: number;
  /** Rows handled per transaction. @default 200 */
  readonly batch?: number;
}

/**
 * Sleeps until the earliest due time (capped at `pollMs`), then fires what is due. Fire-once is
 * the store's (a compare-and-set per timer), so a second node firing by mistake is harmless;
 * the lock only saves the others the work.
 */
export class TimerLoop {
  readonly #store: WorkflowStore;
  readonly #locks: AdvisoryLocks | undefined;
  readonly #onFired: () => void;
  readonly #onOverdue: (executionId: string) => Promise<void>;
  readonly #onError: (err: unknown) => void;
  readonly #pollMs: number;
  readonly #leaderRetryMs: number;
  readonly #batch: number;
  #running = false;
  #timer: NodeJS.Timeout | undefined;
  #wakeAt = Infinity;
  #ticking: Promise<void> = Promise.resolve();
  #leader: HeldLock | undefined;

  constructor(deps: {
    readonly store: WorkflowStore;
    readonly locks?: AdvisoryLocks | undefined;
    /** Executions were made runnable. */
    readonly onFired: () => void;
    /** End an execution past its deadline. */
    readonly onOverdue: (executionId: string) => Promise<void>;
    readonly onError: (err: unknown) => void;
    readonly options?: TimerLoopOptions | undefined;
  }) {
    this.#store = deps.store;
    this.#locks = deps.locks;
    this.#onFired = deps.onFired;
    this.#onOverdue = deps.onOverdue;
    this.#onError = deps.onError;
    this.#pollMs = deps.options?.pollMs ?? 1000;
    this.#leaderRetryMs = deps.options?.leaderRetryMs ?? 2000;
    this.#batch = deps.options?.batch ?? 200;
  }

  start(): void {
    if (this.#running) return;
    this.#running = true;
    this.#schedule(0);
  }

  async stop(): Promise<void> {
    if (!this.#running) return;
    this.#running = false;
    clearTimeout(this.#timer);
    this.#timer = undefined;
    await this.#ticking;
    const leader = this.#leader;
    this.#leader = undefined;
    await leader?.release();
  }

  /** Something is due at `dueAt` (a timer just committed on this node): look then at the latest. */
  poke(dueAt: number): void {
    if (this.#running) this.#schedule(Math.max(0, dueAt - Date.now()));
  }

  #schedule(delayMs: number): void {
    const at = Date.now() + delayMs;
    if (this.#timer !== undefined && at >= this.#wakeAt) return;
    clearTimeout(this.#timer);
    this.#wakeAt = at;
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      this.#wakeAt = Infinity;
      this.#ticking = this.#ticking.then(() => this.#tick());
    }, delayMs);
  }

  async #tick(): Promise<void> {
    if (!this.#running) return;
    let next = this.#pollMs;
    try {
      if (await this.#lead()) {
        next = await this.#fire();
      } else {
        next = this.#leaderRetryMs;
      }
    } catch (err) {
      this.#onError(err);
    }
    if (this.#running) this.#schedule(next);
  }

  /** Fire everything due; returns how long to sleep. */
  async #fire(): Promise<number> {
    for (;;) {
      const now = Date.now();
      const fired = await this.#store.fireDue(now, this.#batch);
      if (fired.timers + fired.tasks > 0) this.#onFired();
      if (fired.timers < this.#batch && fired.tasks < this.#batch) break;
    }
    for (;;) {
      const overdue = await this.#store.overdueExecutions(Date.now(), this.#batch);
      for (const e of overdue) await this.#onOverdue(e.id);
      if (overdue.length < this.#batch) break;
    }
    const due = await this.#store.nextDue();
    return due === undefined ? this.#pollMs : Math.min(this.#pollMs, Math.max(0, due - Date.now()));
  }

  /** True when this node fires timers: no locks (one node), or it holds the leader lock. */
  async #lead(): Promise<boolean> {
    if (this.#locks === undefined || this.#leader !== undefined) return true;
    const lock = await this.#locks.tryAcquire(WORKFLOW_TIMERS_LOCK);
    if (lock === undefined) return false;
    if (!this.#running) {
      await lock.release();
      return false;
    }
    this.#leader = lock;
    void lock.lost.then(() => {
      // Another node may lead now; try again at the next tick.
      if (this.#leader === lock) this.#leader = undefined;
    });
    return true;
  }
}
