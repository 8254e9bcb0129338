// Wires the resources (src/services) to the consumers of their change feeds (src/events): the
// one place that knows both. Resources never import their consumers; triggers subscribe here.

import type { AppDeployHook } from '../deploy/app-deploy-hook.js';
import { BucketEventFeed, type BucketEventFeedOptions } from '../events/buckets/bucket-event-feed.js';
import { createQueueTriggerDeployHook } from '../events/queues/queue-trigger-deploy.js';
import { QueueTriggers } from '../events/queues/queue-triggers.js';
import { Scheduler } from '../events/schedules/scheduler.js';
import { StreamDispatcher, type StreamDispatcherOptions } from '../events/tables/stream-dispatcher.js';
import { createTableTriggerDeployHook } from '../events/tables/table-trigger-deploy.js';
import { WebhookDeliverer, type WebhookDelivererOptions } from '../events/topics/webhook-deliverer.js';
import { BucketService, type BucketServiceOptions } from '../services/buckets/bucket-service.js';
import { QueueService } from '../services/queues/queue-service.js';
import type { ServiceContext } from '../services/service-context.js';
import { TableService } from '../services/tables/table-service.js';
import { TopicService } from '../services/topics/topic-service.js';
import { advisoryLocksOf, notifierOf } from '../store/coordination.js';
import type { Lifecycle } from '../lifecycle.js';

/** Tuning of the resources and their triggers (tests shorten the loops). */
export interface ResourceWiringOptions {
  readonly buckets?: BucketServiceOptions;
  readonly bucketEvents?: BucketEventFeedOptions;
  readonly streams?: StreamDispatcherOptions;
  readonly webhooks?: WebhookDelivererOptions;
}

/** The resources, their consumers, and what deploys run through. */
export interface WiredResources {
  readonly queues: QueueService;
  readonly topics: TopicService;
  readonly buckets: BucketService;
  readonly tables: TableService;
  readonly scheduler: Scheduler;
  /** Every deploy hook, in apply order: a resource's own hook before its triggers'. */
  readonly deployHooks: readonly AppDeployHook[];
  /** Resources first, then their consumers (which may read what a resource recovers at start). */
  start(): Promise<void>;
  /** Consumers first (their work in flight finishes against running resources), then resources. */
  stop(): Promise<void>;
}

/** Bucket triggers subscribed to `buckets`' change feed (also used by the bucket service tests). */
export function wireBucketEvents(
  ctx: ServiceContext,
  buckets: BucketService,
  options: BucketEventFeedOptions = {},
): BucketEventFeed {
  const feed = new BucketEventFeed(ctx, options);
  buckets.subscribe(feed);
  return feed;
}

/** Builds the resource services and subscribes their triggers, in dependency order (topics deliver to queues). */
export function wireResources(ctx: ServiceContext, options: ResourceWiringOptions = {}): WiredResources {
  const queues = new QueueService(ctx);
  const topics = new TopicService(ctx, queues);
  const buckets = new BucketService(ctx, options.buckets);
  const tables = new TableService(ctx);
  const scheduler = new Scheduler(ctx);

  const queueTriggers = new QueueTriggers(ctx, queues);
  const webhooks = new WebhookDeliverer(
    ctx.store.topics,
    { notifier: notifierOf(ctx.store), onError: ctx.onError },
    options.webhooks,
  );
  topics.deliveries.subscribe(() => webhooks.wake());
  const bucketEvents = wireBucketEvents(ctx, buckets, options.bucketEvents);
  const streams = new StreamDispatcher(
    {
      store: ctx.store.documents,
      invoker: ctx.invoker,
      region: ctx.region,
      accountId: ctx.accountId,
      locks: advisoryLocksOf(ctx.store),
      logger: ctx.logger,
      onError: ctx.onError,
    },
    options.streams,
  );
  tables.changes.subscribe((change) =>
    change.type === 'written' ? streams.wake(change.table) : streams.sync(),
  );

  const resources: Lifecycle[] = [queues, topics, buckets, tables];
  const consumers: Lifecycle[] = [queueTriggers, webhooks, bucketEvents, streams, scheduler];
  return {
    queues,
    topics,
    buckets,
    tables,
    scheduler,
    deployHooks: [
      queues.deployHook,
      createQueueTriggerDeployHook(queues, queueTriggers),
      topics.deployHook,
      buckets.deployHook,
      bucketEvents.deployHook,
      tables.deployHook,
      createTableTriggerDeployHook(ctx.store.documents, () => streams.sync()),
      scheduler.deployHook,
    ],
    async start() {
      for (const r of resources) await r.start();
      for (const c of consumers) await c.start();
    },
    async stop() {
      await Promise.all(consumers.map((c) => c.stop()));
      await Promise.all(resources.map((r) => r.stop()));
    },
  };
}
