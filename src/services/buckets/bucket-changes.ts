// The change feed of buckets: what changed about an object, and the seam through which consumers
// (bucket triggers today, workflows tomorrow) add outbox rows in the transaction of the change.

import type { BucketNotification, BucketTrigger } from '../../store/ports/objects.js';

/** The event names Nimbus emits (S3's, without the `s3:` prefix). */
export type BucketEventName =
  | 'ObjectCreated:Put'
  | 'ObjectCreated:Copy'
  | 'ObjectCreated:CompleteMultipartUpload'
  | 'ObjectRemoved:Delete';

/** What happened to which object. */
export interface ObjectChange {
  readonly eventName: BucketEventName;
  readonly bucket: string;
  readonly key: string;
  /** Absent for removals (S3 sends neither size nor eTag then). */
  readonly size?: number | undefined;
  /** Quoted or not; sent unquoted. */
  readonly etag?: string | undefined;
  /** Epoch ms. */
  readonly time: number;
  readonly principal?: string | undefined;
  /** The writer's X-Ray header: its recursion Lineage goes on with the change's events. */
  readonly traceHeader?: string | undefined;
}

/**
 * A consumer of object changes. Why not a plain after-commit event: a change and "tell the
 * consumers about it" must not come apart in a crash, so a subscriber's rows are written in the
 * same transaction as the object row (an outbox), and it is told when they committed.
 */
export interface ObjectChangeSubscriber {
  /** The outbox rows for `change` given the bucket's stored triggers (called inside the write's transaction: pure, fast). */
  notificationsFor(change: ObjectChange, triggers: readonly BucketTrigger[]): BucketNotification[];
  /** A change that may have written rows committed: deliver them now. */
  committed(): void;
}
