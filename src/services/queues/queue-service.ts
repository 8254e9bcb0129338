// Queues: create, send, receive with visibility timeouts, FIFO groups, redrive. Queue triggers
// (src/events/queues) consume them through QueueOperations; this service knows no consumer.

import { randomUUID } from 'node:crypto';
import type { AppDeployHook } from '../../deploy/app-deploy-hook.js';
import { NimbusError } from '../../errors.js';
import type { Lifecycle } from '../../lifecycle.js';
import { notifierOf } from '../../store/coordination.js';
import type { Subscription } from '../../store/coordination.js';
import { QUEUE_MESSAGES_CHANNEL } from '../../store/ports/queues.js';
import type { QueueRecord, QueueStore } from '../../store/ports/queues.js';
import { quotaExceeded } from '../../store/ports/quotas.js';
import type { ServiceContext } from '../service-context.js';
import { DEFAULT_STORAGE_QUOTAS } from '../storage-quotas.js';
import { createQueueDeployHook } from './queue-deploy.js';
import {
  DEDUP_WINDOW_MS,
  checkBatch,
  sequenceNumber,
  toReceivedMessage,
  validateSend,
} from './queue-messages.js';
import type { ValidatedSend } from './queue-messages.js';
import {
  canonicalSettings,
  checkQueueName,
  parseStoredSettings,
  resolveQueueSettings,
  sameSettings,
} from './queue-settings.js';
import type {
  BatchResult,
  QueueCounts,
  QueueInfo,
  QueueOperations,
  QueueSettings,
  QueueSettingsInput,
  ReceiveOptions,
  ReceivedMessage,
  SendMessageInput,
  SendMessageResult,
} from './queue-types.js';
import { QueueWaiters } from './queue-waiters.js';
import { decodeReceiptHandle, newReceiptToken } from './receipt-handle.js';

/** How long queue settings are cached: a change made on another node is seen within this. */
const SETTINGS_TTL_MS = 2000;
/** While long polling, re-check at least this often (delays and visibility timeouts expiring, lost wake-ups). */
const LONG_POLL_RECHECK_MS = 1000;
/** How often expired messages and deduplication ids are swept. */
const SWEEP_INTERVAL_MS = 60_000;
/**
 * The queue quota's count. Why a cached, bounded count rather than a counter kept by every
 * write: sends, receives and deletes are the hot path, and a counter row per queue would be
 * updated by every one of them (on PostgreSQL a row lock every sender and deleter of a queue
 * waits on; on SQLite one more write per message). The count stops at the quota (an index range
 * of at most quota + 1 rows), measured at 1M messages: 123 ms on SQLite (on the event loop: the
 * driver is synchronous), 323 ms on PostgreSQL (on the server); 12 ms and 83 ms at 100k. So it
 * runs rarely: with one writer (SQLite) the last count plus this node's sends is an upper bound
 * (deletes and expiry only lower it), recounted only when that bound would refuse a send, at
 * most once a second; with several writers (PostgreSQL) other nodes' sends are unseen, so the
 * count is refreshed every 10 s below half the quota and every second above it, and before a
 * refusal. The price: nodes together may pass a queue's quota by what they accept in that time.
 */
const USAGE_TTL_MS = 1000;
/** Refresh interval of a queue's count below half its quota, with several writers. */
const USAGE_TTL_LOW_MS = 10_000;

function invalid(message: string): NimbusError {
  return new NimbusError('InvalidParameterValueException', message);
}

function checkSeconds(what: string, value: unknown, max: number): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0 || value > max) {
    throw invalid(
      `${what} ${JSON.stringify(value)} is not valid; use a whole number of seconds from 0 to ${max}.`,
    );
  }
  return value;
}

/** Queues: create, send, receive with visibility timeouts, FIFO groups, redrive. */
export class QueueService implements Lifecycle, QueueOperations {
  readonly #ctx: ServiceContext;
  readonly #store: QueueStore;
  readonly #settings = new Map<string, { settings: QueueSettings; record: QueueRecord; at: number }>();
  readonly #waiters = new QueueWaiters();
  /** Messages per queue as last counted, plus what this node sent since. */
  readonly #usage = new Map<string, { count: number; at: number }>();
  readonly #maxMessages: number;
  #started = false;
  #stopping: AbortController | undefined;
  #sweepTimer: NodeJS.Timeout | undefined;
  #listening: Promise<void> | undefined;
  #subscription: Subscription | undefined;

  constructor(ctx: ServiceContext) {
    this.#ctx = ctx;
    this.#store = ctx.store.queues;
    this.#maxMessages = (ctx.quotas ?? DEFAULT_STORAGE_QUOTAS).queueMessages;
    this.deployHook = createQueueDeployHook(this);
  }

  /** Validates and applies the app's declared queues on deploy (queue triggers have their own hook). */
  readonly deployHook: AppDeployHook;

  // ---- queues -------------------------------------------------------------------------------

  async createQueue(name: string, settings?: QueueSettingsInput): Promise<QueueInfo> {
    checkQueueName(name);
    const resolved = resolveQueueSettings(name, settings);
    if (resolved.deadLetter !== undefined) await this.#requireDeadLetter(name, resolved.deadLetter.queue);
    const now = Date.now();
    const record: QueueRecord = {
      name,
      settings: canonicalSettings(resolved),
      createdAt: now,
      updatedAt: now,
    };
    if (await this.#store.createQueue(record)) {
      this.#settings.delete(name);
      return this.#info(record, resolved);
    }
    const existing = await this.#requireQueue(name);
    if (!sameSettings(existing.settings, resolved)) {
      throw new NimbusError(
        'ResourceConflictException',
        `Queue '${name}' already exists with different settings; change them with \`nimbus queues update\` (PATCH /v1/queues/${name}) or delete it first.`,
      );
    }
    return this.#info(existing.record, existing.settings);
  }

  async getQueue(name: string): Promise<QueueInfo | undefined> {
    const record = await this.#store.getQueue(name);
    if (record === undefined) return undefined;
    return this.#info(record, parseStoredSettings(record.settings));
  }

  async listQueues(prefix?: string): Promise<QueueInfo[]> {
    const records = await this.#store.listQueues(prefix);
    return records.map((r) => this.#info(r, parseStoredSettings(r.settings)));
  }

  async updateQueue(name: string, settings: QueueSettingsInput): Promise<QueueInfo> {
    const current = await this.#requireQueue(name, 'queue', true);
    const resolved = resolveQueueSettings(name, settings, current.settings);
    if (resolved.deadLetter !== undefined) await this.#requireDeadLetter(name, resolved.deadLetter.queue);
    const now = Date.now();
    if (!(await this.#store.updateQueue(name, canonicalSettings(resolved), now))) throw this.#notFound(name);
    this.#settings.delete(name);
    return this.#info({ ...current.record, settings: canonicalSettings(resolved), updatedAt: now }, resolved);
  }

  async deleteQueue(name: string): Promise<boolean> {
    const deleted = await this.#store.deleteQueue(name);
    this.#settings.delete(name);
    this.#waiters.wake(name);
    return deleted;
  }

  async purgeQueue(name: string): Promise<void> {
    await this.#requireQueue(name);
    await this.#store.purge(name);
    this.#usage.delete(name);
  }

  async counts(name: string): Promise<QueueCounts> {
    await this.#requireQueue(name);
    return this.#store.counts(name, Date.now());
  }

  // ---- messages -----------------------------------------------------------------------------

  async sendMessage(queue: string, input: SendMessageInput): Promise<SendMessageResult> {
    const { settings } = await this.#requireQueue(queue);
    const send = validateSend(queue, settings, input);
    const result = await this.#storeSends(queue, settings, [send]);
    return result[0]!;
  }

  async sendMessageBatch(
    queue: string,
    entries: ReadonlyArray<SendMessageInput & { readonly id: string }>,
  ): Promise<Array<BatchResult<SendMessageResult>>> {
    checkBatch(entries);
    const { settings } = await this.#requireQueue(queue);
    const results: Array<BatchResult<SendMessageResult> | undefined> = entries.map(() => undefined);
    const valid: Array<{ index: number; send: ValidatedSend }> = [];
    entries.forEach((entry, index) => {
      try {
        valid.push({ index, send: validateSend(queue, settings, entry) });
      } catch (err) {
        results[index] = failure(entry.id, err);
      }
    });
    if (valid.length > 0) {
      const stored = await this.#storeSends(
        queue,
        settings,
        valid.map((v) => v.send),
      );
      valid.forEach((v, i) => (results[v.index] = { id: entries[v.index]!.id, ok: true, ...stored[i]! }));
    }
    return results as Array<BatchResult<SendMessageResult>>;
  }

  /** Stores validated sends (standard: one INSERT; FIFO: one transaction each, in order). */
  async #storeSends(
    queue: string,
    settings: QueueSettings,
    sends: ValidatedSend[],
  ): Promise<SendMessageResult[]> {
    await this.#reserve(queue, sends.length);
    const now = Date.now();
    const expiresAt = now + settings.messageRetentionPeriod * 1000;
    const messages = sends.map((s) => ({
      messageId: randomUUID(),
      body: s.body,
      attributes: s.attributesJson,
      groupId: s.groupId,
      dedupId: s.dedupId,
      visibleAt: now + s.delaySeconds * 1000,
      expiresAt,
    }));
    let out: SendMessageResult[];
    if (!settings.fifo) {
      const stored = await this.#store.send(queue, messages, now);
      out = stored.map((s) => ({ messageId: s.messageId }));
    } else {
      out = [];
      for (const m of messages) {
        const s = await this.#store.sendFifo(
          queue,
          { message: { ...m, dedupId: m.dedupId! }, dedupUntil: now + DEDUP_WINDOW_MS },
          now,
        );
        out.push({ messageId: s.messageId, ...(s.seq > 0 ? { sequenceNumber: sequenceNumber(s.seq) } : {}) });
      }
    }
    if (sends.some((s) => s.delaySeconds === 0)) this.#waiters.wake(queue);
    return out;
  }

  async receiveMessages(queue: string, options: ReceiveOptions = {}): Promise<ReceivedMessage[]> {
    const max = options.maxMessages ?? 1;
    if (!Number.isInteger(max) || max < 1 || max > 10) {
      throw invalid(`maxMessages ${JSON.stringify(max)} is not valid; use 1 to 10.`);
    }
    if (options.visibilityTimeout !== undefined)
      checkSeconds('visibilityTimeout', options.visibilityTimeout, 43_200);
    if (options.waitTimeSeconds !== undefined) checkSeconds('waitTimeSeconds', options.waitTimeSeconds, 20);
    let { settings } = await this.#requireQueue(queue);
    const deadline = Date.now() + (options.waitTimeSeconds ?? settings.receiveMessageWaitTime) * 1000;
    for (;;) {
      const claimed = await this.#store.claim(
        queue,
        {
          max,
          visibilityMs: (options.visibilityTimeout ?? settings.visibilityTimeout) * 1000,
          fifo: settings.fifo,
          receipt: newReceiptToken(),
          deadLetter: settings.deadLetter,
        },
        Date.now(),
      );
      if (claimed.length > 0) return claimed.map((m) => toReceivedMessage(m, settings.fifo));
      const left = deadline - Date.now();
      if (left <= 0 || options.signal?.aborted === true || this.#stopping?.signal.aborted === true) return [];
      await this.#waiters.wait(queue, Math.min(left, LONG_POLL_RECHECK_MS), options.signal);
      // The queue may have been deleted or changed meanwhile.
      ({ settings } = await this.#requireQueue(queue));
    }
  }

  async deleteMessage(queue: string, receiptHandle: string): Promise<void> {
    const { seq, token } = decodeReceiptHandle(receiptHandle);
    await this.#requireQueue(queue);
    // A handle of a message already deleted, or of an earlier receive, succeeds without deleting
    // (SQS: "the request succeeds, but the message will not be deleted").
    await this.#store.deleteMessage(queue, seq, token);
  }

  async deleteMessageBatch(
    queue: string,
    entries: ReadonlyArray<{ readonly id: string; readonly receiptHandle: string }>,
  ): Promise<Array<BatchResult<object>>> {
    checkBatch(entries);
    await this.#requireQueue(queue);
    const results: Array<BatchResult<object>> = [];
    const valid: Array<{ seq: number; receipt: string }> = [];
    for (const e of entries) {
      try {
        const { seq, token } = decodeReceiptHandle(e.receiptHandle);
        valid.push({ seq, receipt: token });
        results.push({ id: e.id, ok: true });
      } catch (err) {
        results.push(failure(e.id, err));
      }
    }
    // One statement for the whole batch; stale handles succeed without deleting (as one by one).
    await this.#store.deleteMessages(queue, valid);
    return results;
  }

  async changeMessageVisibility(
    queue: string,
    receiptHandle: string,
    visibilityTimeout: number,
  ): Promise<void> {
    const { seq, token } = decodeReceiptHandle(receiptHandle);
    checkSeconds('visibilityTimeout', visibilityTimeout, 43_200);
    await this.#requireQueue(queue);
    const now = Date.now();
    if (!(await this.#store.changeVisibility(queue, seq, token, now + visibilityTimeout * 1000, now))) {
      throw new NimbusError(
        'MessageNotInflight',
        `The message of this receipt handle is not in flight in queue '${queue}' (deleted, visible again, or received again with a newer handle); receive it again.`,
      );
    }
    if (visibilityTimeout === 0) this.#waiters.wake(queue);
  }

  async redriveBack(dlq: string, toQueue?: string): Promise<number> {
    await this.#requireQueue(dlq, 'dead-letter queue', true);
    if (toQueue !== undefined) await this.#requireQueue(toQueue, 'queue', true);
    const moved = await this.#store.redrive(dlq, toQueue, Date.now());
    if (moved > 0) {
      // Wake receivers of every queue the messages may have gone to.
      if (toQueue !== undefined) this.#waiters.wake(toQueue);
      else this.#waiters.wakeAll();
    }
    return moved;
  }

  // ---- lifecycle ----------------------------------------------------------------------------

  start(): void {
    if (this.#started) return;
    this.#started = true;
    this.#stopping = new AbortController();
    this.#sweepTimer = setInterval(() => {
      this.#store.sweep(Date.now()).catch((err: unknown) => this.#ctx.onError(err));
    }, SWEEP_INTERVAL_MS);
    this.#sweepTimer.unref();
    this.#listen();
  }

  async stop(): Promise<void> {
    if (!this.#started) return;
    this.#started = false;
    this.#stopping?.abort();
    this.#waiters.wakeAll();
    clearInterval(this.#sweepTimer);
    this.#sweepTimer = undefined;
    await this.#listening?.catch(() => undefined);
    await this.#subscription?.close().catch(() => undefined);
    this.#subscription = undefined;
  }

  /** Drop expired messages and deduplication ids now (the service also does it every minute). */
  sweep(): Promise<number> {
    return this.#store.sweep(Date.now());
  }

  /** LISTEN for sends on other nodes (when the store can), re-listening if the connection drops. */
  #listen(): void {
    const notifier = notifierOf(this.#ctx.store);
    if (notifier === undefined) return;
    const signal = this.#stopping!.signal;
    this.#listening = notifier
      .listen(QUEUE_MESSAGES_CHANNEL, (queue) => this.#waiters.wake(queue))
      .then(async (sub) => {
        if (signal.aborted) return void (await sub.close());
        this.#subscription = sub;
        void sub.lost.then(() => {
          if (signal.aborted || this.#subscription !== sub) return;
          this.#subscription = undefined;
          const timer = setTimeout(() => !signal.aborted && this.#listen(), 1000);
          signal.addEventListener('abort', () => clearTimeout(timer), { once: true });
        });
      })
      .catch((err: unknown) => this.#ctx.onError(err));
  }

  // ---- helpers ------------------------------------------------------------------------------

  /**
   * Counts `n` more messages against the queue's quota, or throws StorageQuotaExceeded (before
   * anything is stored: a batch is refused whole). See USAGE_TTL_MS for why a cached count.
   */
  async #reserve(queue: string, n: number): Promise<void> {
    const max = this.#maxMessages;
    const now = Date.now();
    const count = () => this.#store.countMessages(queue, max + 1);
    let entry = this.#usage.get(queue);
    if (entry === undefined) {
      entry = { count: await count(), at: now };
      if (this.#usage.size >= 10_000) this.#usage.clear();
      this.#usage.set(queue, entry);
    } else if (this.#ctx.store.capabilities.multipleWriters) {
      const ttl = entry.count < max / 2 ? USAGE_TTL_LOW_MS : USAGE_TTL_MS;
      if (now - entry.at > ttl) Object.assign(entry, { count: await count(), at: now });
    }
    if (entry.count + n > max && now - entry.at > USAGE_TTL_MS) {
      // Messages may have been received and deleted since the count: count again before refusing.
      Object.assign(entry, { count: await count(), at: now });
    }
    if (entry.count + n > max) {
      throw quotaExceeded(
        `queue '${queue}'`,
        'queueMessages',
        max,
        Math.min(entry.count, max),
        `Receive and delete its messages (is its consumer running?) or purge it (\`nimbus queues purge ${queue}\`)`,
      );
    }
    entry.count += n;
  }

  /** The queue's settings (cached briefly); throws ResourceNotFoundException naming the fix. */
  async #requireQueue(
    name: string,
    what = 'queue',
    fresh = false,
  ): Promise<{ settings: QueueSettings; record: QueueRecord }> {
    const cached = this.#settings.get(name);
    const now = Date.now();
    if (!fresh && cached !== undefined && now - cached.at < SETTINGS_TTL_MS) return cached;
    const record = typeof name === 'string' ? await this.#store.getQueue(name) : undefined;
    if (record === undefined) {
      this.#settings.delete(name);
      throw this.#notFound(name, what);
    }
    const entry = { settings: parseStoredSettings(record.settings), record, at: now };
    this.#settings.set(name, entry);
    return entry;
  }

  /** A redrive policy's target must exist: a bad parameter of the queue, not a missing resource. */
  async #requireDeadLetter(queue: string, dlq: string): Promise<void> {
    if ((await this.#store.getQueue(dlq)) !== undefined) return;
    throw invalid(
      `queue '${queue}': deadLetter.queue '${dlq}' does not exist; create it first (\`nimbus queues create ${dlq}\`) or declare it under resources.queues in nimbus.yml.`,
    );
  }

  #notFound(name: string, what = 'queue'): NimbusError {
    return new NimbusError(
      'ResourceNotFoundException',
      `The ${what} '${name}' does not exist; create it with \`nimbus queues create ${name}\` or declare it under resources.queues in nimbus.yml.`,
    );
  }

  #info(record: QueueRecord, settings: QueueSettings): QueueInfo {
    return {
      name: record.name,
      arn: `arn:aws:sqs:${this.#ctx.region}:${this.#ctx.accountId}:${record.name}`,
      settings,
      createdAt: record.createdAt,
    };
  }
}

function failure(id: string, err: unknown): BatchResult<never> {
  const e = err as { code?: unknown; message?: unknown; status?: unknown };
  const code = typeof e.code === 'string' ? e.code : 'ServiceException';
  return {
    id,
    ok: false,
    code,
    message: typeof e.message === 'string' ? e.message : String(err),
    senderFault: typeof e.status === 'number' ? e.status < 500 : false,
  };
}
