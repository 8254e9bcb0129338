// The queue service's public types: what the /v1 routes, the SQS facade, topic subscriptions,
// async destinations and the SDK program against. Names are camelCase; the SQS facade maps them
// to SQS's attribute names.

/** Settings of a queue, fully defaulted (SQS's defaults). */
export interface QueueSettings {
  /** Seconds a received message stays invisible. 0-43200. @default 30 */
  readonly visibilityTimeout: number;
  /** Seconds every new message is delayed. 0-900. @default 0 */
  readonly delaySeconds: number;
  /** Seconds a message is kept before it is dropped. 60-1209600. @default 345600 (4 days) */
  readonly messageRetentionPeriod: number;
  /** Largest message body in bytes. 1024-262144. @default 262144 */
  readonly maximumMessageSize: number;
  /** Default long-poll wait of ReceiveMessage, seconds. 0-20. @default 0 */
  readonly receiveMessageWaitTime: number;
  /** FIFO queue (name must end in `.fifo`). @default false */
  readonly fifo: boolean;
  /** FIFO: a sha256 of the body is the deduplication id when none is given. @default false */
  readonly contentBasedDeduplication: boolean;
  /** Redrive: after `maxReceiveCount` receives a message moves to `queue`. */
  readonly deadLetter?: { readonly queue: string; readonly maxReceiveCount: number } | undefined;
}

/** Settings as given (nimbus.yml `resources.queues.<name>`, /v1 body, SQS attributes mapped). */
export type QueueSettingsInput = Partial<QueueSettings>;

/** A queue as listed. */
export interface QueueInfo {
  readonly name: string;
  /** `arn:aws:sqs:<region>:<account>:<name>`. */
  readonly arn: string;
  readonly settings: QueueSettings;
  /** Epoch ms. */
  readonly createdAt: number;
}

/** Approximate counts, as SQS's GetQueueAttributes reports them. */
export interface QueueCounts {
  /** Visible now. */
  readonly visible: number;
  /** Received and not yet deleted or timed out (in flight). */
  readonly inFlight: number;
  /** Sent with a delay that has not passed. */
  readonly delayed: number;
}

/** A message attribute, in SQS's shape (`DataType` is `String`, `Number` or `Binary[.suffix]`). */
export interface MessageAttributeValue {
  readonly DataType: string;
  readonly StringValue?: string | undefined;
  /** Base64. */
  readonly BinaryValue?: string | undefined;
}

/** User message attributes by name. */
export type MessageAttributes = Readonly<Record<string, MessageAttributeValue>>;

/** One message to send. */
export interface SendMessageInput {
  readonly body: string;
  /** Overrides the queue's delay (not allowed per message on FIFO queues, as on SQS). */
  readonly delaySeconds?: number | undefined;
  readonly attributes?: MessageAttributes | undefined;
  /** FIFO: required. */
  readonly groupId?: string | undefined;
  /** FIFO: required unless the queue has content-based deduplication. */
  readonly deduplicationId?: string | undefined;
  /**
   * SQS's `AWSTraceHeader` system attribute: the sender's X-Ray header. Sends made by function
   * code carry their invocation's (with its recursion lineage), so a queue trigger that feeds
   * the queue it reads from is stopped after 16 rounds (src/invoke/recursion-guard.ts).
   */
  readonly traceHeader?: string | undefined;
}

/** The outcome of a send. */
export interface SendMessageResult {
  readonly messageId: string;
  /** FIFO: increasing per queue, as a decimal string. */
  readonly sequenceNumber?: string | undefined;
}

/** One entry of a batch call, and its outcome. */
export type BatchResult<T> =
  | ({ readonly id: string; readonly ok: true } & T)
  | {
      readonly id: string;
      readonly ok: false;
      readonly code: string;
      readonly message: string;
      /** True when the caller is at fault (SQS `SenderFault`). */
      readonly senderFault: boolean;
    };

/** Options of a receive. */
export interface ReceiveOptions {
  /** 1-10. @default 1 */
  readonly maxMessages?: number | undefined;
  /** Overrides the queue's visibility timeout for these messages, seconds. */
  readonly visibilityTimeout?: number | undefined;
  /** Long polling: wait up to this many seconds for a message (0-20). @default the queue's */
  readonly waitTimeSeconds?: number | undefined;
  /** Ends a long poll early (client gone, server stopping); resolves with what there is. */
  readonly signal?: AbortSignal | undefined;
}

/** A received message. */
export interface ReceivedMessage {
  readonly messageId: string;
  /** Opaque; names this receive of the message (a later receive gets a new one). */
  readonly receiptHandle: string;
  readonly body: string;
  readonly attributes: MessageAttributes;
  /** 1 on the first receive. */
  readonly receiveCount: number;
  /** Epoch ms. */
  readonly sentAt: number;
  /** Epoch ms of the first receive. */
  readonly firstReceivedAt: number;
  readonly groupId?: string | undefined;
  readonly deduplicationId?: string | undefined;
  readonly sequenceNumber?: string | undefined;
  /** The `AWSTraceHeader` system attribute, when the sender had one. */
  readonly traceHeader?: string | undefined;
}

/**
 * The queue operations (implemented by QueueService). Errors are NimbusErrors with stable codes:
 * `ResourceNotFoundException` for an unknown queue (message names how to create it),
 * `InvalidParameterValueException` for bad input, plus the queue codes in src/errors.ts.
 */
export interface QueueOperations {
  /** Create, or return the existing queue when its settings are the same; differing settings conflict. */
  createQueue(name: string, settings?: QueueSettingsInput): Promise<QueueInfo>;
  getQueue(name: string): Promise<QueueInfo | undefined>;
  /** Queues ordered by name, optionally those whose name starts with `prefix`. */
  listQueues(prefix?: string): Promise<QueueInfo[]>;
  /** Change settings of an existing queue (SetQueueAttributes). */
  updateQueue(name: string, settings: QueueSettingsInput): Promise<QueueInfo>;
  /** False when it did not exist. Its messages go with it. */
  deleteQueue(name: string): Promise<boolean>;
  purgeQueue(name: string): Promise<void>;
  counts(name: string): Promise<QueueCounts>;
  sendMessage(queue: string, input: SendMessageInput): Promise<SendMessageResult>;
  /** Up to 10 entries; each fails or succeeds on its own. */
  sendMessageBatch(
    queue: string,
    entries: ReadonlyArray<SendMessageInput & { readonly id: string }>,
  ): Promise<Array<BatchResult<SendMessageResult>>>;
  receiveMessages(queue: string, options?: ReceiveOptions): Promise<ReceivedMessage[]>;
  /** Deleting with a handle of a message already deleted succeeds (as on SQS). */
  deleteMessage(queue: string, receiptHandle: string): Promise<void>;
  deleteMessageBatch(
    queue: string,
    entries: ReadonlyArray<{ readonly id: string; readonly receiptHandle: string }>,
  ): Promise<Array<BatchResult<object>>>;
  changeMessageVisibility(queue: string, receiptHandle: string, visibilityTimeout: number): Promise<void>;
  /** Move every message of dead-letter queue `dlq` back to `toQueue` (default: its source queues). Returns how many moved. */
  redriveBack(dlq: string, toQueue?: string): Promise<number>;
}
