// The buckets and object metadata port: what the bucket service needs from storage (object
// bytes live in files, see src/services/buckets/object-files.ts). One implementation per backend
// family (kysely/object-store.ts), one contract suite (test/store/objects-store.contract.test.ts).

import type { BucketQuota, BucketUsage } from './quotas.js';

/** A bucket as stored. */
export interface BucketRecord {
  readonly name: string;
  /** Epoch ms. */
  readonly createdAt: number;
}

/** An object's metadata as stored; its bytes are the file named `fileId`. */
export interface StoredObject {
  readonly bucket: string;
  readonly key: string;
  readonly fileId: string;
  readonly size: number;
  /** Quoted, as S3 sends it: `"<md5 hex>"`, or `"<md5 of part md5s>-<parts>"` after a multipart upload. */
  readonly etag: string;
  /** @default 'application/octet-stream' */
  readonly contentType: string;
  readonly contentEncoding?: string | undefined;
  readonly contentDisposition?: string | undefined;
  readonly cacheControl?: string | undefined;
  /** User metadata (`x-amz-meta-*` without the prefix), lowercase names. */
  readonly metadata: Readonly<Record<string, string>>;
  /** Epoch ms. */
  readonly lastModified: number;
}

/** A multipart upload as stored. */
export interface StoredUpload {
  readonly uploadId: string;
  readonly bucket: string;
  readonly key: string;
  /** The options given at creation (content type, metadata, ...), as the service wrote them. */
  readonly options: Readonly<Record<string, unknown>>;
  /** Epoch ms. */
  readonly initiatedAt: number;
}

/** One uploaded part as stored; its bytes are the file named `fileId`. */
export interface StoredPart {
  readonly uploadId: string;
  readonly partNumber: number;
  readonly fileId: string;
  readonly size: number;
  /** Quoted. */
  readonly etag: string;
  /** Epoch ms. */
  readonly lastModified: number;
}

/** A function's bucket trigger (one `events:` entry). */
export interface BucketTrigger {
  readonly app: string;
  /** Lambda full name. */
  readonly functionName: string;
  /** Index of the entry in the function's `events` list. */
  readonly position: number;
  readonly bucket: string;
  /** Event name patterns: `s3:ObjectCreated:*`, `s3:ObjectCreated:Put`, `s3:ObjectRemoved:*`. */
  readonly events: readonly string[];
  /** '' matches every key. */
  readonly prefix: string;
  /** '' matches every key. */
  readonly suffix: string;
}

/** A notification to deliver: an async invocation of `functionName` with `payload`. */
export interface BucketNotification {
  readonly functionName: string;
  readonly payload: Buffer;
  /** The X-Ray header of the change's writer: the invocation continues its chain (recursion Lineage). */
  readonly traceHeader?: string | undefined;
}

/** A notification claimed from the outbox. */
export interface OutboxNotification extends BucketNotification {
  /** Stable id: also the idempotency key of its async invocation. */
  readonly id: string;
  /** Claims so far, this one included. */
  readonly attempts: number;
}

/**
 * Builds the notifications of one object change from the bucket's triggers. It runs inside the
 * change's transaction, so the change and its notifications commit together (or neither does).
 */
export type NotificationBuilder = (triggers: readonly BucketTrigger[]) => BucketNotification[];

/** Page bounds of {@link ObjectStore.listObjects}: keys in bytewise (UTF-8) order. */
export interface KeyRange {
  /** Only keys strictly greater. */
  readonly after?: string | undefined;
  /** Only keys greater or equal. */
  readonly from?: string | undefined;
  /** Only keys strictly smaller. */
  readonly below?: string | undefined;
  readonly limit: number;
}

/** Storage of buckets, object metadata, multipart uploads, bucket triggers and their outbox. */
export interface ObjectStore {
  /** Create the bucket unless it exists; returns the stored one either way. */
  createBucket(name: string, createdAt: number): Promise<BucketRecord>;
  getBucket(name: string): Promise<BucketRecord | undefined>;
  /** What the bucket holds (counters kept by every write), or undefined if it does not exist. */
  getBucketUsage(name: string): Promise<BucketUsage | undefined>;
  /** Ordered by name. */
  listBuckets(): Promise<BucketRecord[]>;
  /**
   * Delete an empty bucket with its multipart uploads in progress (whose part files the caller
   * then deletes). `not-empty` when it still holds objects: nothing changes.
   */
  deleteBucket(
    name: string,
  ): Promise<{ outcome: 'deleted' | 'missing' | 'not-empty'; partFileIds: readonly string[] }>;

  getObject(bucket: string, key: string): Promise<StoredObject | undefined>;
  /**
   * Insert or replace the object row, plus `notify`'s notifications, in one transaction. Throws
   * `ResourceNotFoundException` if the bucket does not exist, `StorageQuotaExceeded` (nothing
   * written) if the bucket would pass `quota`. Returns the replaced row's file, for the caller to
   * delete after the commit.
   */
  putObject(
    object: StoredObject,
    notify?: NotificationBuilder,
    quota?: BucketQuota,
  ): Promise<{ replacedFileId?: string | undefined }>;
  /** Delete the row (plus notifications, in one transaction); returns it, or undefined if absent. */
  deleteObject(bucket: string, key: string, notify?: NotificationBuilder): Promise<StoredObject | undefined>;
  /** Objects of a bucket within `range`, ascending bytewise key order. */
  listObjects(bucket: string, range: KeyRange): Promise<StoredObject[]>;

  /** Throws `ResourceNotFoundException` if the bucket does not exist. */
  createUpload(upload: StoredUpload): Promise<void>;
  getUpload(uploadId: string): Promise<StoredUpload | undefined>;
  /** Uploads of a bucket whose key starts with `prefix`, by key then initiation. */
  listUploads(bucket: string, prefix?: string): Promise<StoredUpload[]>;
  /**
   * Insert or replace a part. Throws `NoSuchUpload` if the upload is gone. Returns the replaced
   * part's file, for the caller to delete. Parts count in their bucket's bytes: `StorageQuotaExceeded`
   * (nothing written) if the bucket would pass `quota`.
   */
  putPart(part: StoredPart, quota?: BucketQuota): Promise<{ replacedFileId?: string | undefined }>;
  /** Parts by ascending number. */
  listParts(uploadId: string): Promise<StoredPart[]>;
  /**
   * Turn an upload into `object` in one transaction: delete the upload and its parts, insert or
   * replace the object row, add the notifications. Throws `NoSuchUpload` if the upload is gone,
   * `StorageQuotaExceeded` if a new object would pass `quota`'s object count.
   * Returns the files that are no longer referenced (the parts', the replaced object's).
   */
  completeUpload(
    uploadId: string,
    object: StoredObject,
    notify?: NotificationBuilder,
    quota?: BucketQuota,
  ): Promise<{ replacedFileId?: string | undefined; partFileIds: readonly string[] }>;
  /** Delete an upload and its parts; returns the part files, or undefined if it did not exist. */
  abortUpload(uploadId: string): Promise<readonly string[] | undefined>;

  /** Which of `fileIds` an object or part row references (for the orphan-file sweep). */
  referencedFileIds(fileIds: readonly string[]): Promise<Set<string>>;

  /**
   * Replace bucket triggers of `app` in one transaction: those of the functions in `functions`
   * (or, without it, of the whole app) are deleted, then `triggers` inserted.
   */
  replaceTriggers(
    app: string,
    triggers: readonly BucketTrigger[],
    functions?: readonly string[],
  ): Promise<void>;
  /** Delete the triggers of an app, or of one of its functions. */
  deleteTriggers(app: string, functionName?: string): Promise<void>;
  /** Triggers on a bucket, or all; ordered by function and position. */
  listTriggers(bucket?: string): Promise<BucketTrigger[]>;

  /**
   * Claim up to `limit` notifications that are due, hiding them for `leaseMs` (a crashed drainer's
   * claims come back when the lease runs out). Concurrent claimers never get the same one.
   */
  claimNotifications(limit: number, leaseMs: number): Promise<OutboxNotification[]>;
  /** Delivered: forget it. */
  deleteNotification(id: string): Promise<void>;
  /** Not delivered: retry at `availableAt`. */
  releaseNotification(id: string, availableAt: number): Promise<void>;
  /** Number of notifications waiting (tests and metrics). */
  countNotifications(): Promise<number>;
}
