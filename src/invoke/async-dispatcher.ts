// Runs durable async (`Event`) invocations: claims them from the store's queue, invokes, and
// records the outcome; failed attempts are retried with exponential backoff.

import type { AsyncInvocation, InvocationQueue } from '../store/store.js';
import { isNimbusError } from '../errors.js';
import type { InvokeService } from './invoke-service.js';

/** Options of the {@link AsyncDispatcher}. */
export interface AsyncDispatcherOptions {
  /** Invocations run at once by this node. @default 16 */
  readonly concurrency?: number;
  /** Poll interval when the queue looked empty. @default 100 */
  readonly pollMs?: number;
  /** Attempts in all (1 + retries). @default 3 (Lambda's default of 2 retries) */
  readonly maxAttempts?: number;
  /** First retry delay; doubles each attempt, with ±20% jitter. @default 1000 */
  readonly retryBaseMs?: number;
  /** Events at least this old are not run (again) but fail with `EventAgeExceeded`. @default 21600000 (6 h, Lambda's default) */
  readonly maxEventAgeMs?: number;
  /** Lease on a claimed invocation; a crashed node's claims are retaken after it. @default 900000 (Lambda's max timeout) */
  readonly leaseMs?: number;
  readonly onError?: (err: unknown) => void;
}

/** Claims and runs queued async invocations. `start()` and `stop()` are idempotent. */
export class AsyncDispatcher {
  readonly #queue: InvocationQueue;
  readonly #invoker: InvokeService;
  readonly #concurrency: number;
  readonly #pollMs: number;
  readonly #maxAttempts: number;
  readonly #retryBaseMs: number;
  readonly #leaseMs: number;
  readonly #maxEventAgeMs: number;
  readonly #onError: (err: unknown) => void;
  readonly #inFlight = new Set<Promise<void>>();
  #running = false;
  #timer: NodeJS.Timeout | undefined;
  #pumping = false;
  #again = false;

  constructor(queue: InvocationQueue, invoker: InvokeService, options: AsyncDispatcherOptions = {}) {
    this.#queue = queue;
    this.#invoker = invoker;
    this.#concurrency = options.concurrency ?? 16;
    this.#pollMs = options.pollMs ?? 100;
    this.#maxAttempts = options.maxAttempts ?? 3;
    this.#retryBaseMs = options.retryBaseMs ?? 1000;
    this.#leaseMs = options.leaseMs ?? 900_000;
    this.#maxEventAgeMs = options.maxEventAgeMs ?? 6 * 3_600_000;
    this.#onError = options.onError ?? (() => {});
  }

  start(): void {
    if (this.#running) return;
    this.#running = true;
    this.notify();
  }

  /** Wake the dispatcher now (called after a local enqueue so it does not wait for the poll). */
  notify(): void {
    if (!this.#running) return;
    if (this.#pumping) {
      this.#again = true;
      return;
    }
    void this.#pump();
  }

  /** Stop claiming and wait for the invocations in flight. */
  async stop(): Promise<void> {
    this.#running = false;
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = undefined;
    await Promise.allSettled([...this.#inFlight]);
  }

  async #pump(): Promise<void> {
    this.#pumping = true;
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = undefined;
    let claimedAny: boolean;
    try {
      do {
        this.#again = false;
        const free = this.#concurrency - this.#inFlight.size;
        if (free <= 0 || !this.#running) break;
        const claimed = await this.#queue.claim(free, this.#leaseMs);
        claimedAny = claimed.length > 0;
        for (const inv of claimed) {
          const p: Promise<void> = this.#run(inv)
            .catch(this.#onError)
            .finally(() => {
              this.#inFlight.delete(p);
              this.notify();
            });
          this.#inFlight.add(p);
        }
      } while (this.#running && (this.#again || claimedAny));
    } catch (err) {
      this.#onError(err);
    } finally {
      this.#pumping = false;
      if (this.#running && this.#inFlight.size < this.#concurrency) {
        this.#timer = setTimeout(() => this.notify(), this.#pollMs);
        this.#timer.unref();
      }
    }
  }

  async #run(inv: AsyncInvocation): Promise<void> {
    const { id, functionName, qualifier, payload, attempts } = inv;
    if (Date.now() - inv.createdAt >= this.#maxEventAgeMs) {
      // Lambda drops events older than the maximum event age instead of running them late.
      const errorMessage = `Event age exceeded the maximum of ${Math.round(this.#maxEventAgeMs / 1000)} s; not run.`;
      await this.#queue.complete(id, {
        status: 'failed',
        error: JSON.stringify({ errorType: 'EventAgeExceeded', errorMessage }),
      });
      return;
    }
    let error: string;
    try {
      const res = await this.#invoker.invoke({
        functionName,
        qualifier: qualifier === '' ? undefined : qualifier,
        payload,
        requestId: id,
      });
      if (res.ok) {
        await this.#queue.complete(id, { status: 'succeeded', result: res.payload });
        return;
      }
      error = res.payload.toString();
    } catch (err) {
      // A deleted function will not come back by retrying; anything else (e.g. 429) may.
      if (isNimbusError(err) && err.code === 'ResourceNotFoundException') {
        await this.#queue.complete(id, {
          status: 'failed',
          error: JSON.stringify({ errorType: err.code, errorMessage: err.message }),
        });
        return;
      }
      error = JSON.stringify({
        errorType: isNimbusError(err) ? err.code : 'ServiceException',
        errorMessage: String((err as Error)?.message ?? err),
      });
    }
    if (attempts >= this.#maxAttempts) {
      await this.#queue.complete(id, { status: 'failed', error });
      return;
    }
    const delay = this.#retryBaseMs * 2 ** (attempts - 1) * (0.8 + Math.random() * 0.4);
    await this.#queue.release(id, Date.now() + delay, error);
  }
}
