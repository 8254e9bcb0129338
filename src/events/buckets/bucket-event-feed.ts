// Bucket triggers as a subscriber of the bucket change feed: turns object changes into outbox
// rows for the matching triggers, drains them into async invocations, and stores the triggers on deploy.

import type { AppDeployHook, AppEventSpec } from '../../deploy/app-deploy-hook.js';
import type { Lifecycle } from '../../lifecycle.js';
import type { ObjectChange, ObjectChangeSubscriber } from '../../services/buckets/bucket-changes.js';
import type { ServiceContext } from '../../services/service-context.js';
import type { BucketNotification, BucketTrigger, ObjectStore } from '../../store/ports/objects.js';
import { BucketEventDrainer } from './bucket-event-drainer.js';
import { notificationsFor, parseBucketTriggers } from './bucket-triggers.js';

/** Options of {@link BucketEventFeed}. */
export interface BucketEventFeedOptions {
  /** How often the event outbox is polled when not woken, in ms. @default 1000 */
  readonly eventPollMs?: number;
}

/** The bucket triggers: subscribe it to a BucketService (`buckets.subscribe(feed)`), start it, add its deploy hook. */
export class BucketEventFeed implements Lifecycle, ObjectChangeSubscriber {
  readonly #ctx: ServiceContext;
  readonly #drainer: BucketEventDrainer;

  constructor(ctx: ServiceContext, options: BucketEventFeedOptions = {}) {
    this.#ctx = ctx;
    this.#drainer = new BucketEventDrainer(ctx.store.objects, ctx.enqueueAsync, {
      pollMs: options.eventPollMs ?? 1000,
      onError: ctx.onError,
    });
  }

  notificationsFor(change: ObjectChange, triggers: readonly BucketTrigger[]): BucketNotification[] {
    return notificationsFor(change, triggers, this.#ctx);
  }

  committed(): void {
    this.#drainer.notify();
  }

  start(): void {
    this.#drainer.start();
  }

  stop(): Promise<void> {
    return this.#drainer.stop();
  }

  /** Validates and stores the app's bucket triggers on deploy (after the buckets' own hook). */
  readonly deployHook: AppDeployHook = {
    validate: (spec) => {
      parseBucketTriggers(spec);
    },
    // In the deploy's transaction, through its object store.
    write: (spec, tx) => this.#apply(spec, tx.objects),
    apply: (spec) => this.#apply(spec),
    removeApp: (app) => this.#ctx.store.objects.deleteTriggers(app),
    removeFunction: (app, fullName) => this.#ctx.store.objects.deleteTriggers(app, fullName),
  };

  async #apply(spec: AppEventSpec, objects: ObjectStore = this.#ctx.store.objects): Promise<void> {
    const triggers = parseBucketTriggers(spec);
    // A bucket a trigger names is created if missing (as a declared one is); never deleted here.
    for (const name of new Set(triggers.map((t) => t.bucket))) {
      await objects.createBucket(name, Date.now());
    }
    await objects.replaceTriggers(
      spec.app,
      triggers,
      spec.prune ? undefined : spec.functions.map((f) => f.fullName),
    );
  }
}
