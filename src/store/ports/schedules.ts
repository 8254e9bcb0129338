// The schedules and their fired ticks port: what the schedules service needs from storage. One implementation per backend family
// (kysely/schedule-store.ts), one contract suite (test/store/schedules-store.contract.test.ts).

/** A schedule as declared (by a deploy): what fires, when, with what. */
export interface ScheduleDefinition {
  readonly app: string;
  /** Lambda full name of the target function. */
  readonly functionName: string;
  /** Unique within the app. */
  readonly name: string;
  /** Normalised expression (`rate(5 minutes)`, `cron(0 12 * * ? *)`). */
  readonly expression: string;
  /** IANA zone the expression's wall-clock times are read in. */
  readonly timeZone: string;
  /** Static input as JSON text: delivered as the event instead of the Scheduled Event. */
  readonly input?: string | undefined;
  readonly description?: string | undefined;
  readonly enabled: boolean;
  /** Fire once for ticks missed while no node ran (true) or skip them (false). */
  readonly catchUp: boolean;
}

/** A stored schedule with its firing state. */
export interface ScheduleRecord extends ScheduleDefinition {
  /** `<app>:<name>`. */
  readonly id: string;
  /** Epoch ms of the next tick to fire; undefined when disabled or no tick is left. */
  readonly nextFireAt?: number | undefined;
  /** The latest tick claimed for firing. */
  readonly lastTick?: number | undefined;
  /** A tick claimed whose enqueue is not confirmed yet (see {@link ScheduleStore.claimTick}). */
  readonly pendingTick?: number | undefined;
  readonly claimedAt?: number | undefined;
  readonly createdAt: number;
  readonly updatedAt: number;
}

/** The id of a schedule: `<app>:<name>`. */
export function scheduleId(app: string, name: string): string {
  return `${app}:${name}`;
}

/** Storage of schedules and their fired ticks. Every firing step is a compare-and-set. */
export interface ScheduleStore {
  /**
   * Replace the schedules of `app` (only those of `functions` when given) with `definitions`,
   * in one transaction. A schedule whose expression, zone and enabled flag are unchanged keeps its
   * next tick and firing state (a redeploy neither re-fires nor skips); others get
   * `firstTick(definition)` (called only for enabled ones).
   */
  replaceApp(
    app: string,
    definitions: readonly ScheduleDefinition[],
    options: {
      functions?: readonly string[] | undefined;
      firstTick: (d: ScheduleDefinition) => number | undefined;
    },
  ): Promise<void>;
  /** Every schedule, optionally of one app, ordered by app then name. */
  list(app?: string): Promise<ScheduleRecord[]>;
  get(id: string): Promise<ScheduleRecord | undefined>;
  /** Enable (with its next tick) or disable (next tick cleared). False if there is no such schedule. */
  setEnabled(id: string, enabled: boolean, nextFireAt: number | undefined): Promise<boolean>;
  /** Enabled schedules whose next tick is at or before `now`, earliest first. */
  due(now: number, limit: number): Promise<ScheduleRecord[]>;
  /** The earliest next tick of any enabled schedule. */
  earliest(): Promise<number | undefined>;
  /**
   * Compare-and-set: if the schedule is enabled and its next tick is still `expected`, move it to
   * `next` and, with `fire`, record `fire` as the last and pending tick (claimed at `now`).
   * True for exactly one caller per tick, on any node.
   */
  claimTick(
    id: string,
    expected: number,
    change: { next: number | undefined; fire?: number | undefined; now: number },
  ): Promise<boolean>;
  /** The enqueue of `tick` is durable: clear it as pending. */
  confirmTick(id: string, tick: number): Promise<void>;
  /** Schedules with a pending tick claimed before `claimedBefore` (their claimer may have crashed). */
  stalePending(claimedBefore: number): Promise<ScheduleRecord[]>;
  /** Compare-and-set the claim time of a stale pending tick, so one node repairs it. */
  reclaimPending(id: string, tick: number, claimedAt: number, now: number): Promise<boolean>;
  /** Delete the app's schedules; returns how many. */
  deleteApp(app: string): Promise<number>;
  /** Delete one function's schedules; returns how many. */
  deleteFunction(functionName: string): Promise<number>;
}
