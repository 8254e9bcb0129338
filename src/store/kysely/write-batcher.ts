// Group commit: writes requested in the same turn of the event loop are flushed together (one
// statement or one transaction), and each caller resolves only once its batch is committed.

/** Options of a {@link WriteBatcher}. */
export interface WriteBatcherOptions<T> {
  /** Writes the items durably (one transaction); rejects to fail the whole batch. */
  readonly flush: (items: readonly T[]) => Promise<void>;
  /** Largest batch; more waiting items go in the next one. @default 256 */
  readonly maxBatch?: number;
}

interface Waiting<T> {
  readonly item: T;
  readonly resolve: () => void;
  readonly reject: (err: unknown) => void;
}

/**
 * Collects writes and flushes them one batch at a time. Why: a commit costs far more than a row
 * (SQLite WAL append and Kysely's per-statement compile; a PostgreSQL round trip and WAL flush),
 * so N concurrent writers share one commit instead of queueing N. A lone write waits only for
 * `setImmediate`, i.e. no added latency beyond the current I/O turn.
 */
export class WriteBatcher<T> {
  readonly #flush: (items: readonly T[]) => Promise<void>;
  readonly #maxBatch: number;
  #waiting: Array<Waiting<T>> = [];
  #scheduled = false;
  #flushing = false;

  constructor(options: WriteBatcherOptions<T>) {
    this.#flush = options.flush;
    this.#maxBatch = options.maxBatch ?? 256;
  }

  /** Resolves when `item` has been committed with its batch. */
  write(item: T): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.#waiting.push({ item, resolve, reject });
      this.#schedule();
    });
  }

  #schedule(): void {
    if (this.#scheduled || this.#flushing) return;
    this.#scheduled = true;
    setImmediate(() => {
      this.#scheduled = false;
      void this.#run();
    });
  }

  async #run(): Promise<void> {
    if (this.#flushing) return;
    this.#flushing = true;
    try {
      // While one batch commits, the next one gathers: that is where the sharing comes from.
      while (this.#waiting.length > 0) {
        const batch = this.#waiting.splice(0, this.#maxBatch);
        try {
          await this.#flush(batch.map((w) => w.item));
          for (const w of batch) w.resolve();
        } catch (err) {
          for (const w of batch) w.reject(err);
        }
      }
    } finally {
      this.#flushing = false;
    }
  }
}
