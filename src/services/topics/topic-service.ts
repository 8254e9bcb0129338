// Topics: publish and fan out to subscriptions (functions, queues, webhooks) through filter policies.
// Webhook deliveries are stored; the worker that POSTs them (src/events/topics) subscribes to `deliveries`.

import { randomUUID } from 'node:crypto';
import type { AppDeployHook, AppEventSpec } from '../../deploy/app-deploy-hook.js';
import { NimbusError } from '../../errors.js';
import type { Lifecycle } from '../../lifecycle.js';
import type {
  DeliveryRecord,
  DeliveryStatus,
  NewDelivery,
  SubscriptionRecord,
  TopicRecord,
  TopicStore,
} from '../../store/ports/topics.js';
import { ChangeFeed } from '../change-feed.js';
import type { QueueOperations } from '../queues/queue-types.js';
import type { ServiceContext } from '../service-context.js';
import { compileFilterPolicy, type FilterPolicy } from './filter-policy.js';
import {
  lambdaSnsEvent,
  notificationEnvelope,
  validatePublish,
  type PublishedMessage,
} from './sns-envelope.js';
import {
  checkTopicName,
  planTopics,
  subscriptionTargetMissing,
  type WantedSubscription,
} from './topic-config.js';
import type {
  DeliveryInfo,
  PublishOptions,
  SubscribeInput,
  SubscriptionInfo,
  TopicInfo,
  TopicMessageAttribute,
} from './topic-types.js';
import { DEFAULT_WEBHOOK_POLICY, newWebhookSecret, parseDeliveryPolicy } from './topic-types.js';

export type { PublishOptions } from './topic-types.js';

/** What the topic service needs of the queue service (QueueService implements it). */
export type TopicQueueTarget = Pick<QueueOperations, 'sendMessage'> &
  Partial<Pick<QueueOperations, 'getQueue'>>;

const notFound = (topic: string): NimbusError =>
  new NimbusError(
    'ResourceNotFoundException',
    `topic '${topic}' does not exist; create it with \`nimbus topics create ${topic}\` or declare it under resources.topics in nimbus.yml`,
  );

/** Topics: publish and fan out to subscriptions (functions, queues, webhooks) through filter policies. */
export class TopicService implements Lifecycle {
  readonly #ctx: ServiceContext;
  readonly #queues: TopicQueueTarget;
  /** Compiled filter policies by scope and JSON text (bounded; cleared when full). */
  readonly #filters = new Map<string, FilterPolicy>();
  #started = false;

  /**
   * A publish stored webhook deliveries due now: the webhook worker subscribes (in src/server)
   * and wakes; this service knows no consumer.
   */
  readonly deliveries: ChangeFeed<{ readonly topic: string }>;

  constructor(ctx: ServiceContext, queues: TopicQueueTarget) {
    this.#ctx = ctx;
    this.#queues = queues;
    this.deliveries = new ChangeFeed(ctx.onError);
  }

  /** `arn:aws:sns:<region>:<account>:<topic>`. */
  topicArn(topic: string): string {
    return `arn:aws:sns:${this.#ctx.region}:${this.#ctx.accountId}:${topic}`;
  }

  /**
   * Publish one message to `topic` (a topic name) and fan it out to the matching subscriptions.
   * Resolves only after every matching delivery is durably handed over: function subscriptions
   * as async invocations, queue subscriptions as queue messages, webhooks as stored deliveries.
   * A hand-over the target refuses (function or queue deleted) is recorded as a failed delivery.
   * @throws NimbusError `ResourceNotFoundException` (naming the fix) when the topic does not exist.
   */
  async publish(
    topic: string,
    message: string,
    options: PublishOptions = {},
  ): Promise<{ messageId: string }> {
    const attributes: Readonly<Record<string, TopicMessageAttribute>> = options.attributes ?? {};
    if (typeof message !== 'string') {
      throw new NimbusError(
        'InvalidParameterValueException',
        'message: must be a string (JSON-encode objects)',
      );
    }
    validatePublish(message, options.subject, attributes);
    if ((await this.#ctx.store.topics.getTopic(topic)) === undefined) throw notFound(topic);
    const subs = await this.#ctx.store.topics.listSubscriptions(topic);
    const msg: PublishedMessage = {
      messageId: randomUUID(),
      topicArn: this.topicArn(topic),
      message,
      subject: options.subject,
      timestamp: new Date().toISOString(),
      attributes,
    };
    const input = { attributes, message };
    const matching = subs.filter((s) => {
      try {
        return this.#filterOf(s)?.matches(input) ?? true;
      } catch (err) {
        // A stored policy this version no longer accepts: skip that subscription, not the publish.
        this.#ctx.onError(err);
        return false;
      }
    });

    const deliveries: NewDelivery[] = [];
    const handovers: Array<Promise<unknown>> = [];
    for (const sub of matching) {
      const unsubscribe = `/v1/topics/${topic}/subscriptions/${sub.id}`;
      const envelope = () => Buffer.from(JSON.stringify(notificationEnvelope(msg, unsubscribe)));
      const base = {
        subscriptionId: sub.id,
        topic,
        messageId: msg.messageId,
        protocol: sub.protocol,
        endpoint: sub.endpoint,
      };
      if (sub.protocol === 'webhook') {
        deliveries.push({
          ...base,
          id: randomUUID(),
          body: sub.rawMessageDelivery ? Buffer.from(message) : envelope(),
          maxAttempts: parseDeliveryPolicy(sub.deliveryPolicy).maxAttempts,
        });
        continue;
      }
      const handover =
        sub.protocol === 'function'
          ? this.#ctx.enqueueAsync(
              sub.endpoint,
              Buffer.from(JSON.stringify(lambdaSnsEvent(msg, `${msg.topicArn}:${sub.id}`, unsubscribe))),
              { idempotencyKey: `sns:${msg.messageId}:${sub.id}`, traceHeader: options.traceHeader },
            )
          : this.#queues.sendMessage(
              sub.endpoint,
              sub.rawMessageDelivery
                ? { body: message, attributes: sqsAttributes(attributes), traceHeader: options.traceHeader }
                : { body: envelope().toString('utf8'), traceHeader: options.traceHeader },
            );
      handovers.push(
        handover.catch((err: unknown) => {
          // The target refused (deleted function or queue, FIFO queue): nothing will ever take
          // this message, so it is recorded as a failed delivery the API shows. Anything else
          // (the store is down) fails the publish, so the publisher retries.
          if (err instanceof NimbusError && err.status < 500) {
            deliveries.push({
              ...base,
              id: randomUUID(),
              body: envelope(),
              maxAttempts: 1,
              failedWith: `${err.code}: ${err.message}`,
            });
            return;
          }
          throw err;
        }),
      );
    }
    const settled = await Promise.allSettled(handovers);
    await this.#ctx.store.topics.addDeliveries(deliveries);
    if (deliveries.some((d) => d.failedWith === undefined)) void this.deliveries.publish({ topic });
    const failure = settled.find((s): s is PromiseRejectedResult => s.status === 'rejected');
    if (failure !== undefined) throw failure.reason;
    return { messageId: msg.messageId };
  }

  /** Create a topic, or return the existing one (as SNS's CreateTopic does). */
  async createTopic(name: string, ownerApp?: string): Promise<TopicInfo & { created: boolean }> {
    checkTopicName(name, 'name');
    const { topic, created } = await this.#ctx.store.topics.createTopic(name, ownerApp);
    return { ...this.#describeTopic(topic), created };
  }

  async getTopic(name: string): Promise<TopicInfo | undefined> {
    const t = await this.#ctx.store.topics.getTopic(name);
    return t === undefined ? undefined : this.#describeTopic(t);
  }

  /** Topics ordered by name, optionally those starting with `prefix`. */
  async listTopics(prefix?: string): Promise<TopicInfo[]> {
    return (await this.#ctx.store.topics.listTopics(prefix)).map((t) => this.#describeTopic(t));
  }

  /** Delete a topic with its subscriptions and deliveries. @throws ResourceNotFoundException */
  async deleteTopic(name: string): Promise<void> {
    if (!(await this.#ctx.store.topics.deleteTopic(name))) throw notFound(name);
  }

  /** Subscribe to a topic through the API (not replaced by deploys). */
  async subscribe(topic: string, input: SubscribeInput): Promise<SubscriptionInfo> {
    if ((await this.#ctx.store.topics.getTopic(topic)) === undefined) throw notFound(topic);
    await this.#checkEndpoint(input);
    const record = this.#record({ ...input, topic }, undefined);
    await this.#ctx.store.topics.addSubscription(record);
    return this.#describeSubscription(record);
  }

  /** Subscriptions of a topic, oldest first. @throws ResourceNotFoundException */
  async listSubscriptions(topic: string): Promise<SubscriptionInfo[]> {
    if ((await this.#ctx.store.topics.getTopic(topic)) === undefined) throw notFound(topic);
    return (await this.#ctx.store.topics.listSubscriptions(topic)).map((s) => this.#describeSubscription(s));
  }

  /** Remove a subscription and its unfinished deliveries. @throws ResourceNotFoundException */
  async unsubscribe(topic: string, id: string): Promise<void> {
    const sub = await this.#ctx.store.topics.getSubscription(id);
    if (sub === undefined || sub.topic !== topic) {
      throw new NimbusError(
        'ResourceNotFoundException',
        `topic '${topic}' has no subscription '${id}'; list them with \`nimbus topics subscriptions ${topic}\``,
      );
    }
    await this.#ctx.store.topics.deleteSubscription(id);
  }

  /** Webhook deliveries (and failed hand-overs) of a topic, newest first. */
  async listDeliveries(
    topic: string,
    options: { status?: DeliveryStatus; limit?: number } = {},
  ): Promise<DeliveryInfo[]> {
    if ((await this.#ctx.store.topics.getTopic(topic)) === undefined) throw notFound(topic);
    return (await this.#ctx.store.topics.listDeliveries(topic, options)).map(describeDelivery);
  }

  /** Validates and applies the app's declared topics, their subscriptions and topic triggers on deploy. */
  readonly deployHook: AppDeployHook = {
    validate: (spec) => {
      planTopics(spec);
    },
    // In the deploy's transaction, through its topic store.
    write: (spec, tx) => this.#apply(spec, tx.topics),
    apply: (spec) => this.#apply(spec),
    removeApp: async (app) => {
      await this.#ctx.store.topics.deleteAppSubscriptions(app);
    },
    removeFunction: async (app, fullName) => {
      await this.#ctx.store.topics.deleteAppSubscriptions(app, fullName);
    },
  };

  async start(): Promise<void> {
    if (this.#started) return;
    this.#started = true;
    if (!this.#ctx.store.capabilities.multipleWriters) {
      // One writer means one node: running deliveries were left by this node's crashed process.
      const n = await this.#ctx.store.topics.requeueRunningDeliveries();
      if (n > 0)
        this.#ctx.logger.info(
          `requeued ${n} webhook deliver${n === 1 ? 'y' : 'ies'} left running by a previous run`,
        );
    }
  }

  async stop(): Promise<void> {
    this.#started = false;
  }

  async #apply(spec: AppEventSpec, topics: TopicStore = this.#ctx.store.topics): Promise<void> {
    const plan = planTopics(spec);
    for (const topic of plan.topics) await topics.createTopic(topic, spec.app);
    const records = plan.subscriptions.map((w) => this.#record(w, spec.app));
    await topics.replaceAppSubscriptions(
      spec.app,
      records,
      spec.prune
        ? { all: true }
        : { all: false, functions: spec.functions.map((f) => f.fullName), topics: plan.declared },
    );
  }

  #record(w: WantedSubscription, app: string | undefined): SubscriptionRecord {
    const webhook = w.protocol === 'webhook';
    return {
      id: randomUUID(),
      topic: w.topic,
      protocol: w.protocol,
      endpoint: w.endpoint,
      filterPolicy: w.filterPolicy === undefined ? undefined : JSON.stringify(w.filterPolicy),
      filterPolicyScope: w.filterPolicyScope ?? 'MessageAttributes',
      rawMessageDelivery: w.rawMessageDelivery ?? false,
      deliveryPolicy:
        webhook && w.deliveryPolicy !== undefined ? JSON.stringify(w.deliveryPolicy) : undefined,
      ownerApp: app,
      ownerFunction: w.ownerFunction,
      // A config without `secret:` gets a random one; replaceAppSubscriptions keeps the first.
      secret: webhook ? (w.secret ?? newWebhookSecret()) : undefined,
      createdAt: Date.now(),
    };
  }

  async #checkEndpoint(input: SubscribeInput): Promise<void> {
    if (input.protocol === 'function') {
      const fn = await this.#ctx.store.functions.getVersion(input.endpoint, '$LATEST');
      if (fn === undefined) throw subscriptionTargetMissing('function', input.endpoint);
    } else if (input.protocol === 'queue' && this.#queues.getQueue !== undefined) {
      if ((await this.#queues.getQueue(input.endpoint)) === undefined) {
        throw subscriptionTargetMissing('queue', input.endpoint);
      }
    }
  }

  #filterOf(sub: SubscriptionRecord): FilterPolicy | undefined {
    if (sub.filterPolicy === undefined) return undefined;
    const key = `${sub.filterPolicyScope}\0${sub.filterPolicy}`;
    let filter = this.#filters.get(key);
    if (filter === undefined) {
      if (this.#filters.size >= 1000) this.#filters.clear();
      filter = compileFilterPolicy(
        JSON.parse(sub.filterPolicy) as unknown,
        sub.filterPolicyScope,
        `subscription ${sub.id} filterPolicy`,
      );
      this.#filters.set(key, filter);
    }
    return filter;
  }

  #describeTopic(t: TopicRecord): TopicInfo {
    return { name: t.name, arn: this.topicArn(t.name), app: t.ownerApp, createdAt: t.createdAt };
  }

  #describeSubscription(s: SubscriptionRecord): SubscriptionInfo {
    return {
      id: s.id,
      topic: s.topic,
      arn: `${this.topicArn(s.topic)}:${s.id}`,
      protocol: s.protocol,
      endpoint: s.endpoint,
      filterPolicy:
        s.filterPolicy === undefined ? undefined : (JSON.parse(s.filterPolicy) as Record<string, unknown>),
      filterPolicyScope: s.filterPolicyScope,
      rawMessageDelivery: s.rawMessageDelivery,
      deliveryPolicy:
        s.protocol === 'webhook'
          ? { ...DEFAULT_WEBHOOK_POLICY, ...parseDeliveryPolicy(s.deliveryPolicy) }
          : undefined,
      secret: s.secret,
      app: s.ownerApp,
      function: s.ownerFunction,
      createdAt: s.createdAt,
    };
  }
}

/** Raw delivery to a queue passes the attributes as SQS message attributes (String.Array as String). */
function sqsAttributes(attributes: Readonly<Record<string, TopicMessageAttribute>>) {
  const out: Record<string, { DataType: string; StringValue?: string; BinaryValue?: string }> = {};
  for (const [name, a] of Object.entries(attributes)) {
    out[name] =
      a.DataType === 'String.Array'
        ? { DataType: 'String', StringValue: a.StringValue ?? '' }
        : {
            DataType: a.DataType,
            ...(a.StringValue !== undefined ? { StringValue: a.StringValue } : {}),
            ...(a.BinaryValue !== undefined ? { BinaryValue: a.BinaryValue } : {}),
          };
  }
  return Object.keys(out).length > 0 ? out : undefined;
}

function describeDelivery(d: DeliveryRecord): DeliveryInfo {
  return {
    id: d.id,
    subscriptionId: d.subscriptionId,
    messageId: d.messageId,
    protocol: d.protocol,
    endpoint: d.endpoint,
    status: d.status,
    attempts: d.attempts,
    maxAttempts: d.maxAttempts,
    lastStatus: d.lastStatus,
    lastError: d.lastError,
    createdAt: d.createdAt,
    nextAttemptAt: d.status === 'pending' ? d.availableAt : undefined,
    finishedAt: d.finishedAt,
  };
}
