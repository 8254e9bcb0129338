// Batches function log lines and writes them to the LogStore off the invoke hot path.

import type { LogLine, LogStore } from '../store/store.js';

/** Options of the {@link LogSink}. */
export interface LogSinkOptions {
  /** Flush at least this often. @default 200 */
  readonly flushIntervalMs?: number;
  /** Flush early when this many lines are buffered. @default 500 */
  readonly maxBatch?: number;
  /** Lines beyond this many buffered are dropped (counted) so a log storm cannot exhaust memory. @default 100000 */
  readonly maxBuffered?: number;
  readonly onError?: (err: unknown) => void;
}

/**
 * Buffers lines and appends them in batches. Why batches: one SQLite transaction per
 * invocation would put an fsync-bound write on every call; a batch every 200 ms costs one.
 */
export class LogSink {
  readonly #store: LogStore;
  readonly #maxBatch: number;
  readonly #maxBuffered: number;
  readonly #onError: (err: unknown) => void;
  readonly #timer: NodeJS.Timeout;
  #buffer: LogLine[] = [];
  #flushing: Promise<void> = Promise.resolve();
  #dropped = 0;
  #closed = false;

  constructor(store: LogStore, options: LogSinkOptions = {}) {
    this.#store = store;
    this.#maxBatch = options.maxBatch ?? 500;
    this.#maxBuffered = options.maxBuffered ?? 100_000;
    this.#onError = options.onError ?? (() => {});
    this.#timer = setInterval(() => void this.flush(), options.flushIntervalMs ?? 200);
    this.#timer.unref();
  }

  /** Lines dropped because the buffer was full. */
  get dropped(): number {
    return this.#dropped;
  }

  /** Queue lines for writing. Never blocks and never throws. */
  write(lines: readonly LogLine[]): void {
    if (this.#closed) return;
    for (const line of lines) {
      if (this.#buffer.length >= this.#maxBuffered) {
        this.#dropped++;
        continue;
      }
      this.#buffer.push(line);
    }
    if (this.#buffer.length >= this.#maxBatch) void this.flush();
  }

  /** Write everything buffered so far; resolves when it is stored. */
  flush(): Promise<void> {
    this.#flushing = this.#flushing.then(async () => {
      while (this.#buffer.length > 0) {
        const batch = this.#buffer.splice(0, this.#maxBatch * 4);
        try {
          await this.#store.append(batch);
        } catch (err) {
          this.#onError(err);
          return;
        }
      }
    });
    return this.#flushing;
  }

  /** Flush and stop. Idempotent. */
  async close(): Promise<void> {
    if (this.#closed) return this.#flushing;
    clearInterval(this.#timer);
    await this.flush();
    this.#closed = true;
  }
}

/**
 * Split captured output into log lines. A trailing newline does not make an empty line.
 */
export function splitLogText(text: string): string[] {
  if (text === '') return [];
  const lines = text.split('\n');
  if (lines[lines.length - 1] === '') lines.pop();
  return lines;
}
