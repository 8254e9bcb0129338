// One queue trigger at work: workers claim batches (long polling, batching window), invoke the
// function synchronously with an SQS event, and delete what succeeded. A batch the function
// cannot take now (throttled) is held and retried, not returned to the queue.

import type { InvokeResponse } from '../../invoke/invoke-service.js';
import { isPlatformFailure, platformBackoffMs } from '../../invoke/platform-failure.js';
import { mergeLineages, parseLineage, traceHeaderFor } from '../../invoke/recursion-guard.js';
import { isNimbusError } from '../../errors.js';
import type { ServiceContext } from '../../services/service-context.js';
import type { QueueOperations, ReceivedMessage } from '../../services/queues/queue-types.js';
import type { QueueTriggerRecord } from '../../store/ports/queues.js';
import type { QueueTriggerSettings } from './queue-trigger-config.js';
import { failedItems, toSqsRecord } from './sqs-event.js';

/** Pause after a failed poll (queue missing, store down, function not deployed), ms. */
const ERROR_BACKOFF_MS = 1000;
/** Longest long poll per receive: stop() aborts it anyway. */
const LONG_POLL_SECONDS = 20;
/** Retries of a throttled batch: from 250 ms, doubling, jittered, up to 5 s. */
const THROTTLE_BACKOFF = { baseMs: 250, maxMs: 5000 } as const;
/** Longest visibility timeout SQS allows, seconds. */
const MAX_VISIBILITY_SECONDS = 43_200;

/** Polls one queue for one trigger; `maxConcurrency` workers, each one batch at a time. */
export class QueuePoller {
  readonly #ctx: ServiceContext;
  readonly #queues: QueueOperations;
  readonly #trigger: QueueTriggerRecord;
  readonly #settings: QueueTriggerSettings;
  readonly #abort = new AbortController();
  #workers: Array<Promise<void>> = [];
  #lastError = '';
  /** Batches stopped as recursive loops since start (reported in the warning). */
  #recursionStops = 0;

  constructor(
    ctx: ServiceContext,
    queues: QueueOperations,
    trigger: QueueTriggerRecord,
    settings: QueueTriggerSettings,
  ) {
    this.#ctx = ctx;
    this.#queues = queues;
    this.#trigger = trigger;
    this.#settings = settings;
  }

  /** Starts the workers. */
  start(): void {
    if (this.#workers.length > 0 || this.#abort.signal.aborted) return;
    for (let i = 0; i < this.#settings.maxConcurrency; i++) this.#workers.push(this.#work());
  }

  /** Stops polling and waits for the batches in flight to finish. Idempotent. */
  async stop(): Promise<void> {
    this.#abort.abort();
    await Promise.all(this.#workers);
  }

  async #work(): Promise<void> {
    const signal = this.#abort.signal;
    while (!signal.aborted) {
      try {
        const batch = await this.#collect(signal);
        // A batch already claimed is processed even when stopping: its messages would otherwise
        // stay invisible for a whole visibility timeout.
        if (batch.length > 0) await this.#process(batch);
        this.#lastError = '';
      } catch (err) {
        if (signal.aborted) break;
        this.#report(err);
        await sleep(ERROR_BACKOFF_MS, signal);
      }
    }
  }

  /** Claims up to batchSize messages: long polls for the first, then fills within the batching window. */
  async #collect(signal: AbortSignal): Promise<ReceivedMessage[]> {
    const { queue, batchSize, batchWindow } = this.#settings;
    const first = await this.#queues.receiveMessages(queue, {
      maxMessages: Math.min(10, batchSize),
      waitTimeSeconds: LONG_POLL_SECONDS,
      signal,
    });
    const out = [...first];
    // Nothing, or fewer than asked with no window to fill: the queue has no more right now.
    if (out.length === 0 || (batchWindow === 0 && out.length < Math.min(10, batchSize))) return out;
    const windowEnd = Date.now() + batchWindow * 1000;
    while (out.length < batchSize && !signal.aborted) {
      const left = windowEnd - Date.now();
      if (batchWindow > 0 && left <= 0) break;
      // Within a window wait for more (bounded by the window); without one take what is there now.
      const windowSignal = new AbortController();
      const timer = left > 0 ? setTimeout(() => windowSignal.abort(), left) : undefined;
      const onStop = (): void => windowSignal.abort();
      signal.addEventListener('abort', onStop, { once: true });
      try {
        const more = await this.#queues.receiveMessages(queue, {
          maxMessages: Math.min(10, batchSize - out.length),
          waitTimeSeconds: batchWindow > 0 ? Math.min(LONG_POLL_SECONDS, Math.ceil(left / 1000)) : 0,
          signal: windowSignal.signal,
        });
        out.push(...more);
        if (more.length === 0 && batchWindow === 0) break;
      } finally {
        clearTimeout(timer);
        signal.removeEventListener('abort', onStop);
      }
    }
    return out;
  }

  /** Invokes the function with the batch; deletes the records that succeeded. */
  async #process(received: ReceivedMessage[]): Promise<void> {
    const { queue } = this.#settings;
    let held;
    try {
      held = await this.#invokeHeld(received);
    } catch (err) {
      if (!isNimbusError(err) || err.code !== 'RecursiveInvocationException') throw err;
      await this.#dropRecursive(received);
      return;
    }
    if (held === undefined) return;
    const { response, batch } = held;
    if (!response.ok) {
      // Function error: leave the batch; it becomes visible after the visibility timeout, is
      // retried, and after maxReceiveCount receives moves to the dead-letter queue.
      this.#report(
        new Error(
          `function ${this.#trigger.functionName} failed on a batch of ${batch.length} from queue '${queue}': ${response.error?.errorType ?? 'error'}: ${response.error?.errorMessage ?? ''}`,
        ),
      );
      return;
    }
    let done = batch;
    if (this.#settings.reportBatchItemFailures) {
      const failed = failedItems(response.payload, new Set(batch.map((m) => m.messageId)));
      if (failed === 'all') return;
      done = batch.filter((m) => !failed.has(m.messageId));
    }
    for (let i = 0; i < done.length; i += 10) {
      const chunk = done.slice(i, i + 10).map((m, j) => ({ id: String(j), receiptHandle: m.receiptHandle }));
      const results = await this.#queues.deleteMessageBatch(queue, chunk);
      const failedDelete = results.find((r) => !r.ok);
      if (failedDelete !== undefined && !failedDelete.ok)
        this.#report(new Error(`deleting a processed message: ${failedDelete.message}`));
    }
  }

  /**
   * Invokes the function with the batch, retrying platform-side failures (throttles, no
   * capacity) with backoff while the poller keeps the messages invisible; undefined when the
   * batch was given up (the server is stopping, or its messages were received again elsewhere).
   *
   * Why hold the batch rather than let it become visible again, as AWS's poller does: on SQS
   * every receive counts toward the redrive policy's maxReceiveCount, so a throttled function's
   * messages reach the dead-letter queue without ever having run (AWS advises maxReceiveCount of
   * at least 5 for this reason). Held, a message is received once however long the throttle
   * lasts, and this worker does not receive more while its function has no room.
   */
  async #invokeHeld(
    received: ReceivedMessage[],
  ): Promise<{ response: InvokeResponse; batch: ReceivedMessage[] } | undefined> {
    const { queue } = this.#settings;
    const arn = `arn:aws:sqs:${this.#ctx.region}:${this.#ctx.accountId}:${queue}`;
    const signal = this.#abort.signal;
    let batch = received;
    for (let failures = 1; ; failures++) {
      const event = { Records: batch.map((m) => toSqsRecord(m, arn, this.#ctx.region, this.#ctx.accountId)) };
      // The batch runs in the chain of its furthest-travelled message (recursive loop detection).
      const traces = batch.flatMap((m) => (m.traceHeader === undefined ? [] : [m.traceHeader]));
      const traceHeader =
        traces.length === 0 ? undefined : traceHeaderFor(traces[0], mergeLineages(traces.map(parseLineage)));
      try {
        const response = await this.#ctx.invoker.invoke({
          functionName: this.#trigger.functionName,
          payload: Buffer.from(JSON.stringify(event)),
          traceHeader,
        });
        return { response, batch };
      } catch (err) {
        if (!isPlatformFailure(err)) throw err;
        const delay = platformBackoffMs(failures, THROTTLE_BACKOFF);
        this.#report(
          new Error(
            `function ${this.#trigger.functionName} could not take a batch of ${batch.length} from queue '${queue}' (${(err as Error).message}); holding it and retrying`,
          ),
        );
        if (!signal.aborted) {
          // Hidden for the wait plus a whole visibility timeout, as after a fresh receive.
          const info = await this.#queues.getQueue(queue);
          const seconds = Math.ceil(delay / 1000) + (info?.settings.visibilityTimeout ?? 30);
          batch = await this.#setVisibility(batch, Math.min(MAX_VISIBILITY_SECONDS, seconds));
          if (batch.length === 0) return undefined;
          await sleep(delay, signal);
        }
        if (signal.aborted) {
          // Stopping: give the batch back now rather than after a visibility timeout. Its
          // receive has counted (SQS counts every receive); the next receive counts again.
          await this.#setVisibility(batch, 0);
          return undefined;
        }
      }
    }
  }

  /**
   * A batch whose run was stopped as a recursive loop is not retried (it would loop again): as
   * Lambda does, its messages go to the queue's dead-letter queue if it has one, else are dropped,
   * with a warning naming the function.
   */
  async #dropRecursive(batch: ReceivedMessage[]): Promise<void> {
    const { queue } = this.#settings;
    const info = await this.#queues.getQueue(queue);
    const dlq = info?.settings.deadLetter?.queue;
    if (dlq !== undefined) {
      for (const m of batch) {
        await this.#queues.sendMessage(dlq, {
          body: m.body,
          ...(Object.keys(m.attributes).length > 0 ? { attributes: m.attributes } : {}),
          ...(m.groupId === undefined ? {} : { groupId: m.groupId }),
          ...(m.deduplicationId === undefined ? {} : { deduplicationId: m.deduplicationId }),
          traceHeader: m.traceHeader,
        });
      }
    }
    for (let i = 0; i < batch.length; i += 10) {
      const chunk = batch.slice(i, i + 10).map((m, j) => ({ id: String(j), receiptHandle: m.receiptHandle }));
      await this.#queues.deleteMessageBatch(queue, chunk);
    }
    this.#recursionStops++;
    this.#ctx.logger.warn(
      `queue trigger ${this.#trigger.functionName} <- ${queue}: recursive loop detected (the function ran more than 16 times in one chain of requests); ${batch.length} message(s) ${dlq === undefined ? 'dropped' : `moved to dead-letter queue '${dlq}'`} (${this.#recursionStops} batch(es) stopped so far)`,
    );
  }

  /** Changes the visibility of every message; returns those still held under their receipt. */
  async #setVisibility(batch: ReceivedMessage[], seconds: number): Promise<ReceivedMessage[]> {
    const { queue } = this.#settings;
    const results = await Promise.all(
      batch.map((m) =>
        this.#queues.changeMessageVisibility(queue, m.receiptHandle, seconds).then(
          () => true,
          // Not in flight under this receipt: its visibility ran out and it was received again.
          () => false,
        ),
      ),
    );
    return batch.filter((_, i) => results[i]);
  }

  /** Reports a failure once per distinct message (a missing queue would otherwise log every second). */
  #report(err: unknown): void {
    const text = err instanceof Error ? err.message : String(err);
    if (text === this.#lastError) return;
    this.#lastError = text;
    this.#ctx.logger.warn(`queue trigger ${this.#trigger.functionName} <- ${this.#settings.queue}: ${text}`);
  }
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  if (signal.aborted) return Promise.resolve();
  return new Promise((resolve) => {
    const done = (): void => {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener('abort', done, { once: true });
  });
}
