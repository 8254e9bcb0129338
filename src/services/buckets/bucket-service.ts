// Buckets: objects as files under the data dir, metadata in the store, and a change feed of
// ObjectCreated/ObjectRemoved changes that consumers (bucket triggers) subscribe to.

import { join } from 'node:path';
import type { Readable } from 'node:stream';
import type { AppDeployHook, AppEventSpec } from '../../deploy/app-deploy-hook.js';
import { NimbusError } from '../../errors.js';
import type { Lifecycle } from '../../lifecycle.js';
import type {
  BucketTrigger,
  NotificationBuilder,
  ObjectStore,
  StoredObject,
} from '../../store/ports/objects.js';
import type { BucketQuota } from '../../store/ports/quotas.js';
import { quotaExceeded } from '../../store/ports/quotas.js';
import type { ServiceContext } from '../service-context.js';
import { DEFAULT_STORAGE_QUOTAS } from '../storage-quotas.js';
import type { BucketEventName, ObjectChange, ObjectChangeSubscriber } from './bucket-changes.js';
import { checkBucketName, checkDeclaredBuckets, checkKey, isValidBucketName } from './bucket-names.js';
import type {
  BucketInfo,
  BucketOperations,
  ChangeOrigin,
  ListObjectsOptions,
  ListObjectsPage,
  MultipartUploadInfo,
  ObjectBody,
  ObjectInfo,
  PutObjectOptions,
  UploadedPart,
} from './bucket-types.js';
import { KeyedLock } from './keyed-lock.js';
import { MultipartUploads } from './multipart-uploads.js';
import { ObjectFiles } from './object-files.js';
import { headerFields, toObjectInfo } from './object-info.js';
import { listPage } from './object-listing.js';
import { resolveRange } from './object-ranges.js';

const GiB = 1024 ** 3;
const MiB = 1024 ** 2;

/** Limits and loop timings of the bucket service. */
export interface BucketServiceOptions {
  /** Largest single put (and part). @default 5 GiB */
  readonly maxObjectSize?: number;
  /** Smallest part of a multipart upload, except the last. @default 5 MiB */
  readonly minPartSize?: number;
}

/** The fully-defaulted {@link BucketServiceOptions}. */
export type BucketLimits = Required<BucketServiceOptions>;

function noSuchBucket(bucket: string): NimbusError {
  return new NimbusError(
    'ResourceNotFoundException',
    `Bucket '${bucket}' does not exist; create it with \`nimbus buckets create ${bucket}\` or declare it under resources.buckets in nimbus.yml.`,
  );
}

/** A lookup's names: a bucket name that cannot exist is a missing bucket; a bad key is a 400. */
function checkObjectName(bucket: string, key: string): void {
  if (!isValidBucketName(bucket)) throw noSuchBucket(bucket);
  checkKey(key);
}

/** Buckets: objects as files under the data dir, metadata in the store, and a change feed for their consumers. */
export class BucketService implements Lifecycle, BucketOperations {
  readonly #ctx: ServiceContext;
  readonly #store: ObjectStore;
  readonly #files: ObjectFiles;
  readonly #limits: BucketLimits;
  readonly #quota: BucketQuota;
  readonly #locks = new KeyedLock();
  readonly #subscribers = new Set<ObjectChangeSubscriber>();
  readonly #multipart: MultipartUploads;
  /** Files older than this that no row references are leftovers of an earlier process. */
  readonly #createdAt = Date.now();
  #sweep: Promise<void> | undefined;
  readonly #stopping = new AbortController();

  constructor(ctx: ServiceContext, options: BucketServiceOptions = {}) {
    this.#ctx = ctx;
    this.#store = ctx.store.objects;
    this.#files = new ObjectFiles(join(ctx.dataDir, 'objects'));
    this.#limits = Object.freeze({
      maxObjectSize: options.maxObjectSize ?? 5 * GiB,
      minPartSize: options.minPartSize ?? 5 * MiB,
    });
    const quotas = ctx.quotas ?? DEFAULT_STORAGE_QUOTAS;
    this.#quota = Object.freeze({ maxBytes: quotas.bucketBytes, maxObjects: quotas.bucketObjects });
    this.#multipart = new MultipartUploads({
      store: this.#store,
      files: this.#files,
      locks: this.#locks,
      limits: this.#limits,
      requireBucket: (b) => this.#requireBucket(b),
      quota: this.#quota,
      precheck: (b, bytes) => this.#precheck(b, bytes),
      notify: (change) => this.#notify(change),
      committed: () => this.#committed(),
      discard: (ids) => this.#discard(ids),
    });
  }

  /** The object files (tests look for leftovers in `files.tempFiles()`). */
  get files(): ObjectFiles {
    return this.#files;
  }

  /**
   * Subscribe to object changes (rows written with each change, then `committed`); returns the
   * unsubscribe function. The bucket triggers subscribe in src/server; this service knows no
   * consumer.
   */
  subscribe(subscriber: ObjectChangeSubscriber): () => void {
    this.#subscribers.add(subscriber);
    return () => this.#subscribers.delete(subscriber);
  }

  /** Validates and creates the app's declared buckets on deploy (bucket triggers have their own hook). */
  readonly deployHook: AppDeployHook = {
    validate: (spec) => checkDeclaredBuckets(Object.keys(spec.resources.buckets)),
    // In the deploy's transaction, through its object store.
    write: (spec, tx) => this.#applyDeploy(spec, tx.objects),
    apply: (spec) => this.#applyDeploy(spec),
    // Resources and their data stay when an app or function goes.
    removeApp: () => Promise.resolve(),
  };

  start(): void {
    // Crash leftovers: temp files of interrupted writes, files whose row never committed or was
    // replaced just before a crash. In the background: a large data dir takes a while to walk.
    this.#sweep ??= this.#files
      .sweep(this.#createdAt, (ids) => this.#store.referencedFileIds(ids), this.#stopping.signal)
      .then((n) => {
        if (n > 0)
          this.#ctx.logger.info(`buckets: removed ${n} orphaned object file(s) left by a previous run`);
      })
      .catch(this.#ctx.onError);
  }

  async stop(): Promise<void> {
    this.#stopping.abort();
    await this.#sweep;
  }

  async createBucket(name: string): Promise<BucketInfo> {
    checkBucketName(name);
    return this.#store.createBucket(name, Date.now());
  }

  async getBucket(name: string): Promise<BucketInfo | undefined> {
    // A name that could never have been created is simply absent (and never reaches the store,
    // where e.g. a NUL byte would be a PostgreSQL error rather than a not-found).
    return isValidBucketName(name) ? this.#store.getBucket(name) : undefined;
  }

  listBuckets(): Promise<BucketInfo[]> {
    return this.#store.listBuckets();
  }

  async deleteBucket(name: string): Promise<boolean> {
    if (!isValidBucketName(name)) return false;
    const { outcome, partFileIds } = await this.#store.deleteBucket(name);
    if (outcome === 'not-empty') {
      throw new NimbusError(
        'BucketNotEmpty',
        `Bucket '${name}' is not empty; delete its objects first, or run \`nimbus buckets rm ${name} --force\`.`,
      );
    }
    await this.#discard(partFileIds);
    return outcome === 'deleted';
  }

  async putObject(
    bucket: string,
    key: string,
    body: Readable,
    options?: PutObjectOptions,
  ): Promise<ObjectInfo> {
    checkKey(key);
    const fields = headerFields(options);
    await this.#requireBucket(bucket);
    await this.#precheck(bucket, options?.contentLength, key);
    const written = await this.#files.write(body, {
      contentLength: options?.contentLength,
      contentMd5: options?.contentMd5,
      maxSize: this.#limits.maxObjectSize,
    });
    const object: StoredObject = {
      bucket,
      key,
      fileId: written.fileId,
      size: written.size,
      etag: `"${written.md5.toString('hex')}"`,
      ...fields,
      lastModified: Date.now(),
    };
    return this.#commit(object, 'ObjectCreated:Put', options?.traceHeader);
  }

  async headObject(bucket: string, key: string): Promise<ObjectInfo | undefined> {
    checkObjectName(bucket, key);
    const row = await this.#store.getObject(bucket, key);
    if (row) return toObjectInfo(row);
    await this.#requireBucket(bucket);
    return undefined;
  }

  async getObject(
    bucket: string,
    key: string,
    options?: { range?: { start?: number; end?: number; suffixLength?: number } | undefined },
  ): Promise<ObjectBody> {
    checkObjectName(bucket, key);
    // A replace between reading the row and opening its file unlinks the old file: read the new
    // row and try again (the open descriptor then pins the bytes for the whole read).
    for (let attempt = 0; ; attempt++) {
      const row = await this.#store.getObject(bucket, key);
      if (!row) {
        await this.#requireBucket(bucket);
        throw new NimbusError(
          'ResourceNotFoundException',
          `Object '${key}' does not exist in bucket '${bucket}'; list keys with \`nimbus buckets ls ${bucket}\`.`,
        );
      }
      const range = options?.range ? resolveRange(options.range, row.size) : undefined;
      try {
        const body = await this.#files.openRead(row.fileId, range);
        return { info: toObjectInfo(row), body, range };
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'ENOENT' || attempt >= 2) throw err;
      }
    }
  }

  async listObjects(bucket: string, options?: ListObjectsOptions): Promise<ListObjectsPage> {
    await this.#requireBucket(bucket);
    const page = await listPage(this.#store, bucket, options ?? {});
    return { ...page, objects: page.objects.map(toObjectInfo) };
  }

  async deleteObject(bucket: string, key: string, origin?: ChangeOrigin): Promise<void> {
    checkObjectName(bucket, key);
    const removed = await this.#locks.run(`${bucket}\u0000${key}`, () =>
      this.#store.deleteObject(
        bucket,
        key,
        this.#notify({
          eventName: 'ObjectRemoved:Delete',
          bucket,
          key,
          time: Date.now(),
          traceHeader: origin?.traceHeader,
        }),
      ),
    );
    if (!removed) {
      await this.#requireBucket(bucket);
      return;
    }
    this.#committed();
    await this.#discard([removed.fileId]);
  }

  async copyObject(
    source: { bucket: string; key: string },
    target: { bucket: string; key: string },
    replaceMetadata?: PutObjectOptions,
    origin?: ChangeOrigin,
  ): Promise<ObjectInfo> {
    checkKey(target.key);
    await this.#requireBucket(target.bucket);
    for (let attempt = 0; ; attempt++) {
      checkObjectName(source.bucket, source.key);
      const from = await this.#store.getObject(source.bucket, source.key);
      if (!from) {
        await this.#requireBucket(source.bucket);
        throw new NimbusError(
          'ResourceNotFoundException',
          `Copy source '${source.key}' does not exist in bucket '${source.bucket}'.`,
        );
      }
      let fileId: string;
      try {
        fileId = await this.#files.copy(from.fileId);
      } catch (err) {
        // Replaced while copying: copy the new version.
        if ((err as NodeJS.ErrnoException).code === 'ENOENT' && attempt < 2) continue;
        throw err;
      }
      const fields = replaceMetadata ? headerFields(replaceMetadata) : from;
      return this.#commit(
        {
          bucket: target.bucket,
          key: target.key,
          fileId,
          size: from.size,
          etag: from.etag,
          contentType: fields.contentType,
          contentEncoding: fields.contentEncoding,
          contentDisposition: fields.contentDisposition,
          cacheControl: fields.cacheControl,
          metadata: fields.metadata,
          lastModified: Date.now(),
        },
        'ObjectCreated:Copy',
        origin?.traceHeader ?? replaceMetadata?.traceHeader,
      );
    }
  }

  createMultipartUpload(
    bucket: string,
    key: string,
    options?: PutObjectOptions,
  ): Promise<MultipartUploadInfo> {
    return this.#multipart.create(bucket, key, options);
  }

  uploadPart(
    bucket: string,
    key: string,
    uploadId: string,
    partNumber: number,
    body: Readable,
    options?: { contentLength?: number | undefined; contentMd5?: string | undefined },
  ): Promise<UploadedPart> {
    return this.#multipart.uploadPart(bucket, key, uploadId, partNumber, body, options);
  }

  completeMultipartUpload(
    bucket: string,
    key: string,
    uploadId: string,
    parts: ReadonlyArray<{ partNumber: number; etag: string }>,
    origin?: ChangeOrigin,
  ): Promise<ObjectInfo> {
    return this.#multipart.complete(bucket, key, uploadId, parts, origin);
  }

  abortMultipartUpload(bucket: string, key: string, uploadId: string): Promise<void> {
    return this.#multipart.abort(bucket, key, uploadId);
  }

  listParts(bucket: string, key: string, uploadId: string): Promise<UploadedPart[]> {
    return this.#multipart.listParts(bucket, key, uploadId);
  }

  async listMultipartUploads(bucket: string, prefix?: string): Promise<MultipartUploadInfo[]> {
    await this.#requireBucket(bucket);
    return this.#multipart.list(bucket, prefix);
  }

  /** The bucket triggers of every app, or of one bucket (ordered by function, then position). */
  listTriggers(bucket?: string): Promise<BucketTrigger[]> {
    return this.#store.listTriggers(bucket);
  }

  /** Commit a written object's row (and its notifications), then drop the file it replaced. */
  async #commit(
    object: StoredObject,
    eventName: BucketEventName,
    traceHeader: string | undefined,
  ): Promise<ObjectInfo> {
    try {
      const { replacedFileId } = await this.#locks.run(`${object.bucket}\u0000${object.key}`, () =>
        this.#store.putObject(
          object,
          this.#notify({
            eventName,
            bucket: object.bucket,
            key: object.key,
            size: object.size,
            etag: object.etag,
            time: object.lastModified,
            traceHeader,
          }),
          this.#quota,
        ),
      );
      this.#committed();
      if (replacedFileId !== undefined) await this.#discard([replacedFileId]);
      return toObjectInfo(object);
    } catch (err) {
      // Not committed (e.g. the bucket was deleted meanwhile): the new file belongs to nothing.
      await this.#discard([object.fileId]);
      throw err;
    }
  }

  #notify(change: ObjectChange): NotificationBuilder {
    return (triggers) => {
      if (this.#subscribers.size === 0) return [];
      return [...this.#subscribers].flatMap((s) => s.notificationsFor(change, triggers));
    };
  }

  #committed(): void {
    for (const s of this.#subscribers) {
      try {
        s.committed();
      } catch (err) {
        this.#ctx.onError(err);
      }
    }
  }

  /**
   * Refuse before reading a body a write that cannot fit: `bytes` more (when the length is
   * known) past the bucket's bytes quota, or a new key when it holds its quota of objects. The
   * store checks again, exactly, in the write's transaction; this only spares writing a file
   * (up to 5 GiB) that would be thrown away.
   */
  async #precheck(bucket: string, bytes: number | undefined, newKey?: string): Promise<void> {
    const usage = await this.#store.getBucketUsage(bucket);
    if (usage === undefined) return;
    const fix = `Delete objects of bucket '${bucket}' you no longer need (or abort its unfinished multipart uploads)`;
    if (bytes !== undefined && usage.bytes + bytes > this.#quota.maxBytes) {
      throw quotaExceeded(`bucket '${bucket}'`, 'bucketBytes', this.#quota.maxBytes, usage.bytes, fix);
    }
    if (
      newKey !== undefined &&
      usage.objects >= this.#quota.maxObjects &&
      (await this.#store.getObject(bucket, newKey)) === undefined
    ) {
      throw quotaExceeded(`bucket '${bucket}'`, 'bucketObjects', this.#quota.maxObjects, usage.objects, fix);
    }
  }

  /** What a bucket holds (bytes of objects and unfinished parts, object count). */
  async usage(bucket: string): Promise<{ bytes: number; objects: number }> {
    const usage = isValidBucketName(bucket) ? await this.#store.getBucketUsage(bucket) : undefined;
    if (usage === undefined) throw noSuchBucket(bucket);
    return usage;
  }

  /** Delete files no row references any more; a failure only leaves garbage for the sweep. */
  async #discard(fileIds: readonly string[]): Promise<void> {
    for (const id of fileIds) await this.#files.remove(id).catch(this.#ctx.onError);
  }

  async #requireBucket(bucket: string): Promise<void> {
    if (!(await this.getBucket(bucket))) throw noSuchBucket(bucket);
  }

  async #applyDeploy(spec: AppEventSpec, store: ObjectStore = this.#store): Promise<void> {
    // Declared buckets are created if missing; never deleted here.
    for (const name of Object.keys(spec.resources.buckets)) await store.createBucket(name, Date.now());
  }
}
