// The topics port: topics, their subscriptions, and durable webhook deliveries claimed with a
// lease. One implementation per backend family (kysely/topic-store.ts), one contract suite
// (test/store/topic-store.contract.test.ts).

/** How a subscription receives messages. */
export type SubscriptionProtocol = 'function' | 'queue' | 'webhook';

/** A topic as stored. */
export interface TopicRecord {
  readonly name: string;
  /** The app that declared it (or whose trigger named it); undefined when made by hand. */
  readonly ownerApp?: string | undefined;
  /** Epoch ms. */
  readonly createdAt: number;
}

/** A subscription as stored. Policies are JSON text; the service parses them. */
export interface SubscriptionRecord {
  readonly id: string;
  readonly topic: string;
  readonly protocol: SubscriptionProtocol;
  /** Function full name, queue name or URL. */
  readonly endpoint: string;
  /** Filter policy JSON, or undefined (everything matches). */
  readonly filterPolicy?: string | undefined;
  readonly filterPolicyScope: 'MessageAttributes' | 'MessageBody';
  readonly rawMessageDelivery: boolean;
  /** Webhook retry settings as JSON, or undefined for the defaults. */
  readonly deliveryPolicy?: string | undefined;
  /** The app whose deploy made it; undefined for subscriptions made through the API. */
  readonly ownerApp?: string | undefined;
  /** The function (full name) whose trigger made it. */
  readonly ownerFunction?: string | undefined;
  /** Webhook HMAC key. */
  readonly secret?: string | undefined;
  /** Epoch ms. */
  readonly createdAt: number;
}

/** Which of an app's subscriptions a deploy replaces. */
export type SubscriptionReplaceScope =
  | { readonly all: true }
  /** Triggers of these functions, and resource-declared subscriptions of these topics. */
  | { readonly all: false; readonly functions: readonly string[]; readonly topics: readonly string[] };

/** Status of a delivery. */
export type DeliveryStatus = 'pending' | 'running' | 'delivered' | 'failed';

/** A delivery to store. */
export interface NewDelivery {
  readonly id: string;
  readonly subscriptionId: string;
  readonly topic: string;
  readonly messageId: string;
  readonly protocol: SubscriptionProtocol;
  readonly endpoint: string;
  readonly body: Buffer;
  readonly maxAttempts: number;
  /** Store it already failed (a hand-over that could not be made), with this error. */
  readonly failedWith?: string | undefined;
}

/** A delivery as stored. */
export interface DeliveryRecord extends Omit<NewDelivery, 'failedWith'> {
  readonly status: DeliveryStatus;
  readonly attempts: number;
  /** Epoch ms. */
  readonly createdAt: number;
  readonly availableAt: number;
  readonly lastStatus?: number | undefined;
  readonly lastError?: string | undefined;
  readonly finishedAt?: number | undefined;
}

/** Storage of topics, their subscriptions and webhook deliveries. */
export interface TopicStore {
  /** Create the topic unless it exists; `created` says which. */
  createTopic(name: string, ownerApp?: string): Promise<{ topic: TopicRecord; created: boolean }>;
  getTopic(name: string): Promise<TopicRecord | undefined>;
  /** Ordered by name, optionally those starting with `prefix`. */
  listTopics(prefix?: string): Promise<TopicRecord[]>;
  /** Delete a topic with its subscriptions and deliveries, in one transaction. False when missing. */
  deleteTopic(name: string): Promise<boolean>;

  addSubscription(sub: SubscriptionRecord): Promise<void>;
  getSubscription(id: string): Promise<SubscriptionRecord | undefined>;
  /** Subscriptions of a topic (or of every topic), oldest first. */
  listSubscriptions(topic?: string): Promise<SubscriptionRecord[]>;
  /** Delete a subscription and its unfinished deliveries. False when missing. */
  deleteSubscription(id: string): Promise<boolean>;
  /**
   * In one transaction, make the app's subscriptions within `scope` equal to `subs`: a wanted
   * subscription with the same topic, protocol, endpoint and owner function as an existing one
   * keeps its id, secret and creation time (its other fields are updated); the rest are inserted;
   * existing ones in scope that are not wanted are deleted with their unfinished deliveries.
   */
  replaceAppSubscriptions(
    app: string,
    subs: readonly SubscriptionRecord[],
    scope: SubscriptionReplaceScope,
  ): Promise<void>;
  /** Delete the app's subscriptions (only those of `ownerFunction` when given). Returns how many. */
  deleteAppSubscriptions(app: string, ownerFunction?: string): Promise<number>;

  /** Store deliveries (one transaction); resolves once committed. */
  addDeliveries(deliveries: readonly NewDelivery[]): Promise<void>;
  /**
   * Claim up to `limit` pending deliveries that are due, or running ones whose lease expired,
   * marking them running with a lease of `leaseMs` and counting an attempt. Two concurrent
   * claimers never get the same delivery.
   */
  claimDeliveries(limit: number, leaseMs: number): Promise<DeliveryRecord[]>;
  /** Record the final outcome of a claimed delivery. */
  completeDelivery(
    id: string,
    outcome: { status: 'delivered' | 'failed'; lastStatus?: number | undefined; error?: string | undefined },
  ): Promise<void>;
  /**
   * Put a claimed delivery back, due at `availableAt`. `refund` takes back the attempt the claim
   * counted (the attempt was interrupted by a shutdown, not answered).
   */
  releaseDelivery(
    id: string,
    availableAt: number,
    info: { lastStatus?: number | undefined; error?: string | undefined; refund?: boolean | undefined },
  ): Promise<void>;
  /** Return every running delivery to pending (single-writer node at start). Returns how many. */
  requeueRunningDeliveries(): Promise<number>;
  /** Delete up to `limit` deliveries that finished (delivered or failed) before `before` (epoch ms). @returns how many. */
  purgeFinishedDeliveries(before: number, limit: number): Promise<number>;
  getDelivery(id: string): Promise<DeliveryRecord | undefined>;
  /** Deliveries of a topic, newest first, optionally of one status. */
  listDeliveries(
    topic: string,
    options?: { status?: DeliveryStatus; limit?: number },
  ): Promise<DeliveryRecord[]>;
}
