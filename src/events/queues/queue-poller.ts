// One queue trigger at work: workers claim batches (long polling, batching window), invoke the
// function synchronously with an SQS event, and delete what succeeded.

import type { ServiceContext } from '../../services/service-context.js';
import type { QueueOperations, ReceivedMessage } from '../../services/queues/queue-types.js';
import type { QueueTriggerRecord } from '../../store/ports/queues.js';
import type { QueueTriggerSettings } from './queue-trigger-config.js';
import { failedItems, toSqsRecord } from './sqs-event.js';

/** Pause after a failed poll (queue missing, store down, function not deployed), ms. */
const ERROR_BACKOFF_MS = 1000;
/** Longest long poll per receive: stop() aborts it anyway. */
const LONG_POLL_SECONDS = 20;

/** Polls one queue for one trigger; `maxConcurrency` workers, each one batch at a time. */
export class QueuePoller {
  readonly #ctx: ServiceContext;
  readonly #queues: QueueOperations;
  readonly #trigger: QueueTriggerRecord;
  readonly #settings: QueueTriggerSettings;
  readonly #abort = new AbortController();
  #workers: Array<Promise<void>> = [];
  #lastError = '';

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
  async #process(batch: ReceivedMessage[]): Promise<void> {
    const { queue } = this.#settings;
    const arn = `arn:aws:sqs:${this.#ctx.region}:${this.#ctx.accountId}:${queue}`;
    const event = { Records: batch.map((m) => toSqsRecord(m, arn, this.#ctx.region, this.#ctx.accountId)) };
    const response = await this.#ctx.invoker.invoke({
      functionName: this.#trigger.functionName,
      payload: Buffer.from(JSON.stringify(event)),
    });
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
