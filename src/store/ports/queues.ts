// The queues and their messages port: what the queues service needs from storage. One
// implementation per backend family (kysely/queue-store.ts), one contract suite
// (test/store/queue-store.contract.test.ts), plus the service-level suites in test/services/queues/.

/** A queue row: settings are the service's QueueSettings as JSON text. */
export interface QueueRecord {
  readonly name: string;
  readonly settings: string;
  /** Epoch ms. */
  readonly createdAt: number;
  readonly updatedAt: number;
}

/** One message to store. Times are epoch ms. */
export interface NewQueueMessage {
  readonly messageId: string;
  readonly body: string;
  /** User attributes as JSON, or undefined. */
  readonly attributes?: string | undefined;
  readonly groupId?: string | undefined;
  readonly dedupId?: string | undefined;
  readonly visibleAt: number;
  readonly expiresAt: number;
}

/** A FIFO send: the message plus its deduplication window. */
export interface FifoSend {
  readonly message: NewQueueMessage & { readonly dedupId: string };
  /** Until when (epoch ms) the deduplication id suppresses duplicates. */
  readonly dedupUntil: number;
}

/** The outcome of a stored send. */
export interface StoredSend {
  readonly messageId: string;
  /** The message's `seq` (a FIFO queue's sequence number). */
  readonly seq: number;
  /** True when a FIFO deduplication id matched an earlier send (nothing was stored). */
  readonly duplicate: boolean;
}

/** A claimed message, as the receive returns it. */
export interface ClaimedMessage {
  readonly seq: number;
  readonly messageId: string;
  readonly body: string;
  readonly attributes: string | null;
  readonly groupId: string | null;
  readonly dedupId: string | null;
  readonly sentAt: number;
  readonly receiveCount: number;
  readonly firstReceivedAt: number;
  /** The token of this receive (with `seq`, the receipt handle). */
  readonly receipt: string;
}

/** What a claim needs to know about the queue. */
export interface ClaimOptions {
  /** 1-10 (the store does not cap). */
  readonly max: number;
  /** The in-flight period of the claimed messages, ms. */
  readonly visibilityMs: number;
  /** FIFO: per group strict order (no message of a group with one in flight). */
  readonly fifo: boolean;
  /** The token written on every claimed message (a new one per claim). */
  readonly receipt: string;
  /** Redrive: messages whose receive count would exceed `maxReceiveCount` move to `queue`. */
  readonly deadLetter?: { readonly queue: string; readonly maxReceiveCount: number } | undefined;
}

/** A queue's message counts at one instant. */
export interface StoredQueueCounts {
  readonly visible: number;
  readonly inFlight: number;
  readonly delayed: number;
}

/** A stored queue trigger (event source mapping). */
export interface QueueTriggerRecord {
  readonly id: string;
  readonly app: string;
  /** Lambda full name of the function. */
  readonly functionName: string;
  readonly queue: string;
  /** The trigger's settings as JSON. */
  readonly settings: string;
  readonly createdAt: number;
}

/** Storage of queues, their messages and queue triggers. */
export interface QueueStore {
  /** Insert a queue; false when one of that name exists (nothing changes). */
  createQueue(record: QueueRecord): Promise<boolean>;
  getQueue(name: string): Promise<QueueRecord | undefined>;
  /** Ordered by name. */
  listQueues(prefix?: string): Promise<QueueRecord[]>;
  /** False when the queue does not exist. */
  updateQueue(name: string, settings: string, updatedAt: number): Promise<boolean>;
  /** Deletes the queue, its messages and deduplication ids; false when it did not exist. */
  deleteQueue(name: string): Promise<boolean>;

  /** Store messages of a standard queue (one statement); returns their seqs in input order. */
  send(queue: string, messages: readonly NewQueueMessage[], now: number): Promise<StoredSend[]>;
  /** Store one FIFO message unless its deduplication id was used within the window. */
  sendFifo(queue: string, send: FifoSend, now: number): Promise<StoredSend>;
  /**
   * Atomically claim up to `max` visible messages: no two claims get the same message. Messages
   * past their receive limit move to the dead-letter queue in the same transaction.
   */
  claim(queue: string, options: ClaimOptions, now: number): Promise<ClaimedMessage[]>;
  /** Delete the message if `receipt` is its latest receive's token; false otherwise. */
  deleteMessage(queue: string, seq: number, receipt: string): Promise<boolean>;
  /** {@link deleteMessage} for several messages in one statement; returns how many were deleted. */
  deleteMessages(
    queue: string,
    items: ReadonlyArray<{ readonly seq: number; readonly receipt: string }>,
  ): Promise<number>;
  /**
   * Set when an in-flight message becomes visible again; false unless the message exists, is in
   * flight, and `receipt` is its latest receive's token.
   */
  changeVisibility(
    queue: string,
    seq: number,
    receipt: string,
    visibleAt: number,
    now: number,
  ): Promise<boolean>;
  /** Delete every message of the queue; returns how many. */
  purge(queue: string): Promise<number>;
  counts(queue: string, now: number): Promise<StoredQueueCounts>;
  /** How many messages the queue holds (expired ones not yet swept included), counting at most `limit`. */
  countMessages(queue: string, limit: number): Promise<number>;
  /**
   * Move the messages of `dlq` back, made visible with a fresh receive count: to `toQueue`, or
   * (undefined) each to the queue it came from. Returns how many moved.
   */
  redrive(dlq: string, toQueue: string | undefined, now: number): Promise<number>;
  /** Drop expired messages and deduplication ids; returns how many messages. */
  sweep(now: number): Promise<number>;

  /** Every stored trigger. */
  listTriggers(): Promise<QueueTriggerRecord[]>;
  /**
   * Replace triggers: delete the app's triggers (only those of `functionNames` when given), then
   * insert `triggers`, in one transaction.
   */
  replaceTriggers(
    app: string,
    functionNames: readonly string[] | undefined,
    triggers: readonly QueueTriggerRecord[],
  ): Promise<void>;
}

/** Channel the queue store notifies on after a send (payload: the queue name). */
export const QUEUE_MESSAGES_CHANNEL = 'nimbus_queue_messages';
