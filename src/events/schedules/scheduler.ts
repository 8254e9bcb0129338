// Schedules: rate() and cron() triggers that fire once per tick across restarts and nodes.

import type { AppDeployHook, AppEventSpec } from '../../deploy/app-deploy-hook.js';
import { NimbusError, isNimbusError } from '../../errors.js';
import type { Lifecycle } from '../../lifecycle.js';
import type { ServiceContext } from '../../services/service-context.js';
import type { HeldLock } from '../../store/coordination.js';
import { advisoryLocksOf } from '../../store/coordination.js';
import type { ScheduleRecord, ScheduleStore } from '../../store/ports/schedules.js';
import type { ScheduleExpression } from './schedule-expression.js';
import { parseScheduleExpression } from './schedule-expression.js';
import { schedulesOfApp } from './schedule-spec.js';
import { schedulePayload } from './scheduled-event.js';

/** Options of the {@link Scheduler}. */
export interface SchedulerOptions {
  /** The clock (tests pass a fake one and call {@link Scheduler.evaluate}). @default Date.now */
  readonly now?: () => number;
  /** Longest sleep between evaluations, so changes made by other nodes are seen. @default 1000 */
  readonly pollMs?: number;
  /** A tick this late counts as missed (the node was down): skipped, or caught up once. @default 60000 */
  readonly lateMs?: number;
  /** A claimed tick whose enqueue is unconfirmed this long is repaired by any node. @default 30000 */
  readonly pendingLeaseMs?: number;
  /** Run the background timer on `start()`; false leaves evaluation to explicit calls. @default true */
  readonly timer?: boolean;
  /**
   * Where the store has advisory locks (PostgreSQL), only the node holding the scheduler lock runs
   * the timer's evaluations; the others retry the lock every `leaderRetryMs`. Not needed for
   * correctness (claims are compare-and-set) but spares every node polling the table. @default true
   */
  readonly leaderElection?: boolean;
  /** How often a node that is not the leader tries to take the lock. @default 5000 */
  readonly leaderRetryMs?: number;
}

/** The advisory lock key of the scheduler leader. */
export const SCHEDULER_LOCK = 'nimbus-scheduler';

const BATCH = 100;

/** One tick the scheduler enqueued. */
export interface FiredTick {
  readonly scheduleId: string;
  /** The tick (epoch ms), the Scheduled Event's `time`. */
  readonly tick: number;
  readonly invocationId: string;
}

/**
 * Fires due schedules: a timer sleeps until the earliest next tick (at most `pollMs`), claims each
 * due tick with a compare-and-set and enqueues one async invocation for it.
 *
 * Exactly once per tick, and why the order is claim → enqueue → confirm:
 * - The claim (`UPDATE ... SET next_fire_at = :next, pending_tick = :due WHERE next_fire_at =
 *   :due`) succeeds for one caller only, on any node and after any restart, so two nodes (or a
 *   node and its restarted self) never both enqueue a tick in normal operation, whether or not
 *   idempotency keys dedupe.
 * - The enqueue carries `idempotencyKey: schedule:<id>:<tick>`; then the pending tick is cleared.
 * - Crash after the claim, before the enqueue commits: the tick stays pending; after
 *   `pendingLeaseMs` any node reclaims it (another compare-and-set) and enqueues it. Crash after
 *   the enqueue, before the confirm: the repair enqueues again with the same key, which the async
 *   queue dedupes to the first invocation. So a tick is never lost, and never doubled as long as
 *   the idempotency window outlasts the lease.
 * - The other order (enqueue, then claim) would make every contended tick rely on the key.
 */
export class Scheduler implements Lifecycle {
  readonly #ctx: ServiceContext;
  readonly #now: () => number;
  readonly #pollMs: number;
  readonly #lateMs: number;
  readonly #leaseMs: number;
  readonly #useTimer: boolean;
  readonly #leaderElection: boolean;
  readonly #leaderRetryMs: number;
  #lock: HeldLock | undefined;
  #nextLockTry = 0;
  readonly #expressions = new Map<string, ScheduleExpression>();
  #started = false;
  #stopped = false;
  #timer: NodeJS.Timeout | undefined;
  #running: Promise<void> | undefined;

  constructor(ctx: ServiceContext, options: SchedulerOptions = {}) {
    this.#ctx = ctx;
    this.#now = options.now ?? Date.now;
    this.#pollMs = options.pollMs ?? 1000;
    this.#lateMs = options.lateMs ?? 60_000;
    this.#leaseMs = options.pendingLeaseMs ?? 30_000;
    this.#useTimer = options.timer ?? true;
    this.#leaderElection = options.leaderElection ?? true;
    this.#leaderRetryMs = options.leaderRetryMs ?? 5000;
  }

  /** True while this node runs the evaluations (always, without advisory locks). */
  get isLeader(): boolean {
    return (
      !this.#leaderElection || advisoryLocksOf(this.#ctx.store) === undefined || this.#lock !== undefined
    );
  }

  /** Validates the app's `schedule` events and replaces its schedules on deploy. */
  readonly deployHook: AppDeployHook = {
    validate: (spec) => {
      schedulesOfApp(spec);
    },
    // In the deploy's transaction, through its schedule store.
    write: (spec, tx) => this.#apply(spec, tx.schedules),
    apply: (spec) => this.#apply(spec),
    removeApp: async (app) => {
      await this.#ctx.store.schedules.deleteApp(app);
    },
    removeFunction: async (_app, fullName) => {
      await this.#ctx.store.schedules.deleteFunction(fullName);
    },
  };

  async #apply(spec: AppEventSpec, schedules: ScheduleStore = this.#ctx.store.schedules): Promise<void> {
    const now = this.#now();
    await schedules.replaceApp(spec.app, schedulesOfApp(spec), {
      functions: spec.prune ? undefined : spec.functions.map((f) => f.fullName),
      firstTick: (d) => this.#expression(d.expression).next(now, d.timeZone),
    });
  }

  start(): void {
    if (this.#started || this.#stopped) return;
    this.#started = true;
    if (this.#useTimer) this.#arm(0);
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
    await this.#running;
    const lock = this.#lock;
    this.#lock = undefined;
    await lock?.release().catch((err: unknown) => this.#ctx.onError(err));
  }

  /** Take the leader lock if needed and due for a try; true if this node should evaluate. */
  async #lead(): Promise<boolean> {
    const locks = this.#leaderElection ? advisoryLocksOf(this.#ctx.store) : undefined;
    if (locks === undefined || this.#lock !== undefined) return true;
    // Real time, not the injectable clock: this paces connection attempts.
    if (Date.now() < this.#nextLockTry) return false;
    this.#nextLockTry = Date.now() + this.#leaderRetryMs;
    const lock = await locks.tryAcquire(SCHEDULER_LOCK);
    if (lock === undefined) return false;
    this.#lock = lock;
    void lock.lost.then(() => {
      if (this.#lock === lock) this.#lock = undefined;
    });
    return true;
  }

  #arm(delayMs: number): void {
    if (this.#stopped) return;
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      this.#running = this.#loop().finally(() => {
        this.#running = undefined;
      });
    }, delayMs);
  }

  async #loop(): Promise<void> {
    let delay = this.#pollMs;
    try {
      if (!(await this.#lead())) {
        this.#arm(this.#pollMs);
        return;
      }
      await this.evaluate();
      const earliest = await this.#ctx.store.schedules.earliest();
      if (earliest !== undefined) delay = Math.max(0, Math.min(this.#pollMs, earliest - this.#now()));
    } catch (err) {
      this.#ctx.onError(err);
    }
    this.#arm(delay);
  }

  #expression(text: string): ScheduleExpression {
    let e = this.#expressions.get(text);
    if (e === undefined) {
      e = parseScheduleExpression(text);
      this.#expressions.set(text, e);
    }
    return e;
  }

  /**
   * Fire every tick due at `now` (and repair stale pending ones). The timer calls this; tests call
   * it with a fake time. @returns the ticks enqueued.
   */
  async evaluate(now: number = this.#now()): Promise<FiredTick[]> {
    const store = this.#ctx.store.schedules;
    const fired: FiredTick[] = [];
    const note = (s: ScheduleRecord, tick: number, invocationId: string | undefined): void => {
      if (invocationId !== undefined) fired.push({ scheduleId: s.id, tick, invocationId });
    };
    for (const s of await store.stalePending(now - this.#leaseMs)) {
      if (s.pendingTick === undefined || s.claimedAt === undefined) continue;
      if (await store.reclaimPending(s.id, s.pendingTick, s.claimedAt, now)) {
        note(s, s.pendingTick, await this.#deliver(s, s.pendingTick));
      }
    }
    // Bounded: rows that keep failing (a store error) must not spin one evaluation forever.
    for (let batch = 0; batch < 50; batch++) {
      const due = await store.due(now, BATCH);
      for (const s of due) {
        try {
          const r = await this.#fireDue(s, now);
          if (r !== undefined) note(s, r.tick, r.invocationId);
        } catch (err) {
          this.#ctx.onError(err);
        }
      }
      if (due.length < BATCH) break;
    }
    return fired;
  }

  /** Claim and fire one due schedule; undefined if another claimer won or the tick was skipped. */
  async #fireDue(
    s: ScheduleRecord,
    now: number,
  ): Promise<{ tick: number; invocationId: string | undefined } | undefined> {
    const due = s.nextFireAt!;
    const expr = this.#expression(s.expression);
    let fire: number | undefined = due;
    let next: number | undefined;
    if (now - due > this.#lateMs) {
      // Missed while no node ran: skip to the next tick after now, or fire once for all of them
      // as the latest missed tick.
      fire = s.catchUp ? latestTick(expr, due, now, s.timeZone) : undefined;
      next = expr.next(now, s.timeZone);
    } else {
      next = expr.next(due, s.timeZone);
    }
    const claimed = await this.#ctx.store.schedules.claimTick(s.id, due, { next, fire, now });
    if (!claimed || fire === undefined) return undefined;
    return { tick: fire, invocationId: await this.#deliver(s, fire) };
  }

  /** Enqueue the invocation of a claimed tick, then confirm it; undefined if the enqueue failed. */
  async #deliver(s: ScheduleRecord, tick: number): Promise<string | undefined> {
    const payload = schedulePayload(s, tick, this.#ctx.region, this.#ctx.accountId);
    let invocationId: string;
    try {
      invocationId = await this.#ctx.enqueueAsync(s.functionName, payload, {
        idempotencyKey: `schedule:${s.id}:${tick}`,
      });
    } catch (err) {
      if (isNimbusError(err) && err.code === 'ResourceNotFoundException') {
        // The function is gone (removed outside a deploy): drop the tick rather than retry forever.
        await this.#ctx.store.schedules.confirmTick(s.id, tick);
      }
      this.#ctx.onError(err);
      return undefined;
    }
    await this.#ctx.store.schedules.confirmTick(s.id, tick);
    return invocationId;
  }

  /** Enqueue one invocation of a schedule now, outside its ticks (`POST /v1/schedules/{id}/run`). */
  async runNow(id: string): Promise<{ invocationId: string; time: number }> {
    const s = await this.#require(id);
    const time = this.#now();
    const invocationId = await this.#ctx.enqueueAsync(
      s.functionName,
      schedulePayload(s, time, this.#ctx.region, this.#ctx.accountId),
    );
    return { invocationId, time };
  }

  /** Enable (next tick computed from now) or disable a schedule. */
  async setEnabled(id: string, enabled: boolean): Promise<ScheduleRecord> {
    const s = await this.#require(id);
    const next = enabled ? this.#expression(s.expression).next(this.#now(), s.timeZone) : undefined;
    if (enabled && s.enabled) return s;
    await this.#ctx.store.schedules.setEnabled(id, enabled, next);
    return (await this.#ctx.store.schedules.get(id))!;
  }

  async #require(id: string): Promise<ScheduleRecord> {
    const s = await this.#ctx.store.schedules.get(id);
    if (s === undefined) {
      throw new NimbusError(
        'ResourceNotFoundException',
        `Schedule not found: ${id}; list schedules with \`nimbus schedules ls\` (ids are <app>:<name>).`,
      );
    }
    return s;
  }
}

/** The last tick at or before `now`, starting from the due tick `due`. */
function latestTick(expr: ScheduleExpression, due: number, now: number, timeZone: string): number {
  if (expr.periodMs !== undefined) return Math.floor(now / expr.periodMs) * expr.periodMs;
  let t = due;
  // Bounded: a minutely cron missed for a year is ~525k steps; beyond that, the last one found.
  for (let i = 0; i < 600_000; i++) {
    const n = expr.next(t, timeZone);
    if (n === undefined || n > now) break;
    t = n;
  }
  return t;
}
