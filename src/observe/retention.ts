// The retention sweep: deletes what normal traffic leaves behind (log lines, finished async
// invocations, finished webhook deliveries) after a retention window, and keeps each app's logs
// under its byte quota; periodically, in small batches, off the request path, on every store.

import { lambdaName } from '../functions/function-model.js';
import type { Lifecycle } from '../lifecycle.js';
import type { Store } from '../store/store.js';

const DAY_MS = 24 * 60 * 60 * 1000;

/** How long finished records are kept. */
export interface RetentionOptions {
  /** Function log lines. @default 7 days */
  readonly logsMs?: number;
  /** Finished async invocations (what `nimbus invocations` lists). @default 7 days */
  readonly invocationsMs?: number;
  /** Delivered and failed webhook deliveries. @default 7 days */
  readonly deliveriesMs?: number;
  /** How often the sweep runs. @default 10 minutes */
  readonly intervalMs?: number;
  /** Rows per delete statement. @default 1000 */
  readonly batchSize?: number;
}

/** The fully-defaulted {@link RetentionOptions}. */
export type RetentionSettings = Required<RetentionOptions>;

/** Defaults of {@link RetentionOptions}. */
export const DEFAULT_RETENTION: RetentionSettings = Object.freeze({
  logsMs: 7 * DAY_MS,
  invocationsMs: 7 * DAY_MS,
  deliveriesMs: 7 * DAY_MS,
  intervalMs: 10 * 60 * 1000,
  batchSize: 1000,
});

/** What one sweep removed. */
export interface SweepResult {
  readonly logLines: number;
  readonly logLinesOverQuota: number;
  readonly invocations: number;
  readonly deliveries: number;
}

/** What the sweep works on. */
export interface RetentionDeps {
  readonly store: Pick<Store, 'logs' | 'invocations' | 'topics' | 'functions'>;
  /** Characters of log text kept per app; undefined keeps all (within the age limit). */
  readonly logBytesPerApp?: number | undefined;
  readonly onError: (err: unknown) => void;
  readonly info?: ((msg: string) => void) | undefined;
}

/** Runs {@link RetentionSweeper.sweep} every `intervalMs` (first one shortly after start). */
export class RetentionSweeper implements Lifecycle {
  readonly #deps: RetentionDeps;
  readonly #options: RetentionSettings;
  #timer: NodeJS.Timeout | undefined;
  #running: Promise<unknown> | undefined;
  #stopped = true;
  /** Set by stop(): a sweep in progress ends after its current batch. */
  #halting = false;

  constructor(deps: RetentionDeps, options: RetentionOptions = {}) {
    this.#deps = deps;
    this.#options = Object.freeze({ ...DEFAULT_RETENTION, ...stripUndefined(options) });
  }

  start(): void {
    if (!this.#stopped) return;
    this.#stopped = false;
    this.#halting = false;
    // The first sweep waits a little: a starting node has better things to do.
    this.#schedule(Math.min(60_000, this.#options.intervalMs));
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    this.#halting = true;
    clearTimeout(this.#timer);
    this.#timer = undefined;
    await this.#running;
  }

  /**
   * One sweep, now: delete in batches until nothing older than the windows is left. Why in
   * batches and in the background: a delete of a week of logs in one statement would hold the
   * SQLite writer (and every request that writes) for seconds.
   */
  async sweep(now = Date.now()): Promise<SweepResult> {
    const { batchSize } = this.#options;
    const { store } = this.#deps;
    const drain = async (step: () => Promise<number>): Promise<number> => {
      let total = 0;
      for (;;) {
        const n = await step();
        total += n;
        if (n < batchSize || this.#halting) return total;
        // Let requests in between batches.
        await new Promise((r) => setImmediate(r));
      }
    };
    const logLines = await drain(() => store.logs.deleteOlderThan(now - this.#options.logsMs, batchSize));
    const invocations = await drain(() =>
      store.invocations.purgeFinished(now - this.#options.invocationsMs, batchSize),
    );
    const deliveries = await drain(() =>
      store.topics.purgeFinishedDeliveries(now - this.#options.deliveriesMs, batchSize),
    );
    const logLinesOverQuota = await this.#trimLogs();
    return { logLines, logLinesOverQuota, invocations, deliveries };
  }

  /** Drop the oldest log lines of every app over its quota. */
  async #trimLogs(): Promise<number> {
    const quota = this.#deps.logBytesPerApp;
    if (quota === undefined) return 0;
    const { store } = this.#deps;
    const sizes = await store.logs.sizeByFunction();
    if (sizes.size === 0) return 0;
    // Function → app from the deployed functions; lines of deleted functions count as their own.
    const appOf = new Map<string, string>();
    for (const f of await store.functions.listFunctions()) appOf.set(lambdaName(f.app, f.name), f.app);
    const byApp = new Map<string, { chars: number; functions: string[] }>();
    for (const [fn, chars] of sizes) {
      const app = appOf.get(fn) ?? fn;
      const entry = byApp.get(app) ?? { chars: 0, functions: [] };
      entry.chars += chars;
      entry.functions.push(fn);
      byApp.set(app, entry);
    }
    let removed = 0;
    for (const { chars, functions } of byApp.values()) {
      if (chars > quota) removed += await store.logs.trimOldest(functions, quota);
    }
    return removed;
  }

  #schedule(delay: number): void {
    if (this.#stopped) return;
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      this.#running = this.sweep()
        .then((r) => {
          const n = r.logLines + r.logLinesOverQuota + r.invocations + r.deliveries;
          if (n > 0)
            this.#deps.info?.(
              `retention: removed ${r.logLines + r.logLinesOverQuota} log line(s), ${r.invocations} finished invocation(s), ${r.deliveries} webhook deliver${r.deliveries === 1 ? 'y' : 'ies'}`,
            );
        })
        .catch(this.#deps.onError)
        .finally(() => {
          this.#running = undefined;
          this.#schedule(this.#options.intervalMs);
        });
    }, delay);
    this.#timer.unref();
  }
}

function stripUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}
