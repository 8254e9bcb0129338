// Drains the bucket event outbox into async invocations: claim, enqueue, then delete (at least once).
//
// Why an outbox: an object change and "invoke these functions about it" must not be able to
// come apart. Enqueueing after the metadata commit would lose the event if the process died in
// between (the object is acknowledged, its trigger never runs); enqueueing before would fire
// for a change that then failed to commit. So the service writes the notification rows in the
// same transaction as the object row, and this loop moves them to the invocation queue. A crash
// after the enqueue but before the delete re-delivers (the row's lease runs out and it is claimed
// again): at least once, with the row id passed as the idempotency key so the invocation queue
// can drop the duplicate within its window.

import { isNimbusError } from '../../errors.js';
import type { Lifecycle } from '../../lifecycle.js';
import type { EnqueueAsync } from '../../services/service-context.js';
import type { ObjectStore } from '../../store/ports/objects.js';

/** Options of {@link BucketEventDrainer}. */
export interface BucketEventDrainerOptions {
  /** How often to look for due notifications when not woken. @default 1000 */
  readonly pollMs?: number;
  /** How long a claim hides a notification from other drainers. @default 30000 */
  readonly leaseMs?: number;
  /** Notifications per claim. @default 50 */
  readonly batchSize?: number;
  /** Deliveries tried before a notification is dropped (and reported). @default 20 */
  readonly maxAttempts?: number;
  readonly onError: (err: unknown) => void;
}

/** The background loop that turns outbox rows into async invocations. */
export class BucketEventDrainer implements Lifecycle {
  readonly #store: ObjectStore;
  readonly #enqueue: EnqueueAsync;
  readonly #options: Required<BucketEventDrainerOptions>;
  #running = false;
  #timer: NodeJS.Timeout | undefined;
  #loop: Promise<void> | undefined;
  #again = false;

  constructor(store: ObjectStore, enqueue: EnqueueAsync, options: BucketEventDrainerOptions) {
    this.#store = store;
    this.#enqueue = enqueue;
    this.#options = {
      pollMs: options.pollMs ?? 1000,
      leaseMs: options.leaseMs ?? 30_000,
      batchSize: options.batchSize ?? 50,
      maxAttempts: options.maxAttempts ?? 20,
      onError: options.onError,
    };
  }

  start(): void {
    if (this.#running) return;
    this.#running = true;
    this.notify();
  }

  /** Drain now (called after a change committed notifications). */
  notify(): void {
    if (!this.#running) return;
    if (this.#loop !== undefined) {
      this.#again = true;
      return;
    }
    clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#loop = this.#drain()
      .catch(this.#options.onError)
      .finally(() => {
        this.#loop = undefined;
        if (!this.#running) return;
        if (this.#again) {
          this.#again = false;
          this.notify();
        } else {
          this.#timer = setTimeout(() => this.notify(), this.#options.pollMs);
          this.#timer.unref();
        }
      });
  }

  async stop(): Promise<void> {
    this.#running = false;
    clearTimeout(this.#timer);
    this.#timer = undefined;
    await this.#loop;
  }

  async #drain(): Promise<void> {
    while (this.#running) {
      const batch = await this.#store.claimNotifications(this.#options.batchSize, this.#options.leaseMs);
      for (const n of batch) {
        try {
          // The writer's trace header goes on: a function writing to the bucket that triggers it
          // is counted hop by hop and stopped at the 17th run (recursion-guard.ts).
          await this.#enqueue(n.functionName, n.payload, {
            idempotencyKey: `bucket-event:${n.id}`,
            traceHeader: n.traceHeader,
          });
          await this.#store.deleteNotification(n.id);
        } catch (err) {
          // A function deleted since the trigger fired has nothing to deliver to: drop.
          const gone = isNimbusError(err) && err.code === 'ResourceNotFoundException';
          if (gone || n.attempts >= this.#options.maxAttempts) {
            this.#options.onError(
              new Error(
                `bucket event for ${n.functionName} dropped after ${n.attempts} attempt(s): ${(err as Error).message}`,
                { cause: err },
              ),
            );
            await this.#store.deleteNotification(n.id).catch(this.#options.onError);
          } else {
            const backoff = Math.min(60_000, 500 * 2 ** Math.min(n.attempts, 7));
            await this.#store.releaseNotification(n.id, Date.now() + backoff).catch(this.#options.onError);
          }
        }
      }
      if (batch.length < this.#options.batchSize) return;
    }
  }
}
