// One poller per table trigger: reads stream records after the trigger's checkpoint, invokes the
// function synchronously with batches in order, and advances the checkpoint only after success.

import type { InvokeService } from '../../invoke/invoke-service.js';
import { isPlatformFailure, platformBackoffMs } from '../../invoke/platform-failure.js';
import type { DocumentStore, StreamRecord, TableTrigger } from '../../store/ports/documents.js';
import { toEventRecord } from './stream-records.js';

/** Timing of the pollers. */
export interface StreamPollerOptions {
  /** How often an idle poller looks for records written on other nodes. @default 1000 */
  readonly pollIntervalMs?: number;
  /** First retry delay of a failing batch; doubles per attempt. @default 250 */
  readonly retryBaseMs?: number;
  /** Longest retry delay. @default 30000 */
  readonly retryMaxMs?: number;
}

/** What a poller is built from. */
export interface StreamPollerDeps {
  readonly store: DocumentStore;
  readonly invoker: InvokeService;
  readonly region: string;
  readonly accountId: string;
  readonly warn: (msg: string) => void;
  readonly onError: (err: unknown) => void;
  readonly options: Required<StreamPollerOptions>;
}

type BatchOutcome =
  | { ok: true }
  | {
      ok: false;
      error: string;
      failedSeq?: number | undefined;
      /** The platform failed (throttle, no capacity), not the function: retried, never counted. */
      platform?: boolean | undefined;
    };

/** Polls one trigger; processes one batch at a time, so records of a table arrive in order. */
export class StreamPoller {
  readonly #deps: StreamPollerDeps;
  #trigger: TableTrigger;
  #stopped = false;
  #loop: Promise<void> | undefined;
  #timer: NodeJS.Timeout | undefined;
  #wakeUp: (() => void) | undefined;
  #woken = false;
  /** False while waiting out a retry delay: new records must not cut the backoff short. */
  #wakeable = true;

  constructor(deps: StreamPollerDeps, trigger: TableTrigger) {
    this.#deps = deps;
    this.#trigger = trigger;
  }

  /** The trigger's table (pollers are woken per table). */
  get table(): string {
    return this.#trigger.table;
  }

  start(): void {
    this.#loop ??= this.#run().catch((err: unknown) => this.#deps.onError(err));
  }

  /** New settings from a deploy (the checkpoint stays the store's). */
  update(trigger: TableTrigger): void {
    this.#trigger = trigger;
  }

  /** Look for records now (a local write committed). */
  wake(): void {
    this.#woken = true;
    if (this.#wakeable) this.#wakeUp?.();
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    this.#wakeUp?.();
    await this.#loop;
  }

  #sleep(ms: number, wakeable = true): Promise<void> {
    this.#wakeable = wakeable;
    if (this.#stopped || (wakeable && this.#woken)) {
      this.#woken = false;
      return Promise.resolve();
    }
    return new Promise((resolve) => {
      const done = (): void => {
        clearTimeout(this.#timer);
        this.#timer = undefined;
        this.#wakeUp = undefined;
        this.#woken = false;
        resolve();
      };
      this.#wakeUp = done;
      this.#timer = setTimeout(done, ms);
    });
  }

  async #run(): Promise<void> {
    const { options } = this.#deps;
    let attempts = 0;
    let platformFailures = 0;
    let size = this.#trigger.batchSize;
    while (!this.#stopped) {
      try {
        // Re-read each round: the checkpoint is the store's (it survives restarts and moves
        // between nodes with the lock), and a deploy may have changed the settings.
        const trigger = await this.#deps.store.getTrigger(this.#trigger.id);
        const def = trigger === undefined ? undefined : await this.#deps.store.getTable(trigger.table);
        if (trigger === undefined || def === undefined) {
          await this.#sleep(options.pollIntervalMs);
          continue;
        }
        this.#trigger = trigger;
        const records = await this.#deps.store.readStream(
          trigger.table,
          trigger.checkpoint,
          Math.min(size, trigger.batchSize),
        );
        if (records.length === 0) {
          size = trigger.batchSize;
          await this.#sleep(options.pollIntervalMs);
          continue;
        }
        const outcome = await this.#deliver(trigger, records, (r) =>
          toEventRecord(r, def, this.#deps.region, this.#deps.accountId),
        );
        const last = records[records.length - 1]!.seq;
        if (!outcome.ok && outcome.platform === true) {
          // Throttled or no capacity: the records were not processed, so neither a retry attempt
          // nor a reason to bisect; as Lambda does, retried with backoff until they expire.
          platformFailures++;
          const delay = platformBackoffMs(platformFailures, {
            baseMs: options.retryBaseMs,
            maxMs: options.retryMaxMs,
          });
          this.#deps.warn(
            `table trigger ${trigger.id}: function could not take a batch of ${records.length} (${outcome.error}); retrying in ${delay} ms`,
          );
          await this.#sleep(delay, false);
          continue;
        }
        platformFailures = 0;
        if (outcome.ok) {
          await this.#deps.store.setCheckpoint(trigger.id, last);
          attempts = 0;
          size = trigger.batchSize;
          continue;
        }
        // Partial success (batchItemFailures): keep what came before the first failed record.
        if (outcome.failedSeq !== undefined && outcome.failedSeq - 1 > trigger.checkpoint) {
          await this.#deps.store.setCheckpoint(trigger.id, outcome.failedSeq - 1);
          attempts = 0;
          continue;
        }
        if (trigger.bisectBatchOnFunctionError && records.length > 1) {
          // Halve the batch to isolate a bad record. As in Lambda, splitting does not count
          // towards maximumRetryAttempts: only failures of a single-record batch do.
          size = Math.ceil(records.length / 2);
          this.#deps.warn(
            `table trigger ${trigger.id}: batch of ${records.length} failed, retrying in halves: ${outcome.error}`,
          );
          continue;
        }
        attempts++;
        if (trigger.maximumRetryAttempts >= 0 && attempts > trigger.maximumRetryAttempts) {
          const first = records[0]!.seq;
          await this.#deps.store.setCheckpoint(trigger.id, last);
          this.#deps.warn(
            `table trigger ${trigger.id}: skipped stream records ${first}-${last} of table '${trigger.table}' after ` +
              `${attempts} failed attempts (maximumRetryAttempts ${trigger.maximumRetryAttempts}): ${outcome.error}`,
          );
          attempts = 0;
          size = trigger.batchSize;
          continue;
        }
        const delay = Math.min(options.retryMaxMs, options.retryBaseMs * 2 ** (attempts - 1));
        this.#deps.warn(
          `table trigger ${trigger.id}: batch of ${records.length} failed (attempt ${attempts}), retrying in ${delay} ms: ${outcome.error}`,
        );
        // A retry waits out its delay even if new records arrive: order is per table, so the
        // failed batch blocks the records behind it anyway.
        await this.#sleep(delay, false);
      } catch (err) {
        // A store error (connection lost, ...): report and try again after a pause.
        this.#deps.onError(err);
        await this.#sleep(options.pollIntervalMs);
      }
    }
  }

  async #deliver(
    trigger: TableTrigger,
    records: readonly StreamRecord[],
    toEvent: (r: StreamRecord) => unknown,
  ): Promise<BatchOutcome> {
    const payload = Buffer.from(JSON.stringify({ Records: records.map(toEvent) }));
    let res;
    try {
      res = await this.#deps.invoker.invoke({ functionName: trigger.functionName, payload });
    } catch (err) {
      return {
        ok: false,
        error: err instanceof Error ? err.message : String(err),
        platform: isPlatformFailure(err),
      };
    }
    if (!res.ok) {
      return { ok: false, error: res.error?.errorMessage ?? res.payload.toString('utf8').slice(0, 500) };
    }
    return batchItemFailures(res.payload, records);
  }
}

/**
 * Reads `{ batchItemFailures: [{ itemIdentifier: SequenceNumber }] }` from a function's result.
 * As Lambda does: an empty or absent list is success; an identifier that is not in the batch
 * fails the whole batch.
 */
export function batchItemFailures(payload: Buffer, records: readonly StreamRecord[]): BatchOutcome {
  let result: unknown;
  try {
    result = JSON.parse(payload.toString('utf8'));
  } catch {
    return { ok: true };
  }
  if (typeof result !== 'object' || result === null || !('batchItemFailures' in result)) return { ok: true };
  const failures = (result as { batchItemFailures: unknown }).batchItemFailures;
  if (!Array.isArray(failures) || failures.length === 0) return { ok: true };
  const seqs = new Set(records.map((r) => r.seq));
  let lowest = Infinity;
  for (const f of failures) {
    const id = (f as { itemIdentifier?: unknown } | null)?.itemIdentifier;
    const seq = typeof id === 'string' && /^\d+$/.test(id) ? Number(id) : NaN;
    if (!seqs.has(seq))
      return { ok: false, error: `batchItemFailures names an unknown itemIdentifier ${JSON.stringify(id)}` };
    lowest = Math.min(lowest, seq);
  }
  return {
    ok: false,
    error: `the function reported failed records from SequenceNumber ${lowest}`,
    failedSeq: lowest,
  };
}
