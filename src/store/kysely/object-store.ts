// ObjectStore over Kysely (SQLite and PostgreSQL): buckets, object rows and multipart uploads;
// triggers and the event outbox are delegated to bucket-event-store.ts.

import { sql } from 'kysely';
import type { Insertable, Kysely, Selectable, Transaction } from 'kysely';
import { NimbusError } from '../../errors.js';
import type { Notifier } from '../coordination.js';
import type {
  BucketRecord,
  BucketTrigger,
  KeyRange,
  NotificationBuilder,
  ObjectStore,
  OutboxNotification,
  StoredObject,
  StoredPart,
  StoredUpload,
} from '../ports/objects.js';
import { quotaExceeded, type BucketQuota, type BucketUsage } from '../ports/quotas.js';
import type { Capabilities } from '../store.js';
import { KyselyBucketEvents } from './bucket-event-store.js';
import type { Database } from './database.js';
import { toMs } from './database.js';
import type { MultipartPartsTable, MultipartUploadsTable, ObjectsTable } from './schema/objects.js';

type Db = Kysely<Database> | Transaction<Database>;

function toObject(row: Selectable<ObjectsTable>): StoredObject {
  return {
    bucket: row.bucket,
    key: row.key,
    fileId: row.file_id,
    size: Number(row.size),
    etag: row.etag,
    contentType: row.content_type,
    contentEncoding: row.content_encoding ?? undefined,
    contentDisposition: row.content_disposition ?? undefined,
    cacheControl: row.cache_control ?? undefined,
    metadata: JSON.parse(row.metadata) as Record<string, string>,
    lastModified: toMs(row.last_modified),
  };
}

function toUpload(row: Selectable<MultipartUploadsTable>): StoredUpload {
  return {
    uploadId: row.upload_id,
    bucket: row.bucket,
    key: row.key,
    options: JSON.parse(row.options) as Record<string, unknown>,
    initiatedAt: toMs(row.initiated_at),
  };
}

function toPart(row: Selectable<MultipartPartsTable>): StoredPart {
  return {
    uploadId: row.upload_id,
    partNumber: Number(row.part_number),
    fileId: row.file_id,
    size: Number(row.size),
    etag: row.etag,
    lastModified: toMs(row.last_modified),
  };
}

function objectValues(o: StoredObject): Omit<Insertable<ObjectsTable>, 'bucket' | 'key'> {
  return {
    file_id: o.fileId,
    size: o.size,
    etag: o.etag,
    content_type: o.contentType,
    content_encoding: o.contentEncoding ?? null,
    content_disposition: o.contentDisposition ?? null,
    cache_control: o.cacheControl ?? null,
    metadata: JSON.stringify(o.metadata),
    last_modified: o.lastModified,
  };
}

function noSuchUpload(uploadId: string): NimbusError {
  return new NimbusError(
    'NoSuchUpload',
    `Multipart upload '${uploadId}' does not exist: it was completed or aborted, or never created. Start a new one.`,
  );
}

/** {@link ObjectStore} for any Kysely dialect. */
export class KyselyObjectStore implements ObjectStore {
  readonly #db: Kysely<Database>;
  readonly #capabilities: Capabilities;
  readonly #events: KyselyBucketEvents;

  constructor(db: Kysely<Database>, capabilities: Capabilities, _notifier?: Notifier) {
    // No notifier: the outbox drainer polls (and is woken in-process after each change), so a
    // cross-node wake-up would buy little.
    this.#db = db;
    this.#capabilities = capabilities;
    this.#events = new KyselyBucketEvents(db, capabilities);
  }

  async createBucket(name: string, createdAt: number): Promise<BucketRecord> {
    await this.#db
      .insertInto('buckets')
      .values({ name, created_at: createdAt })
      .onConflict((oc) => oc.column('name').doNothing())
      .execute();
    const row = await this.#db
      .selectFrom('buckets')
      .selectAll()
      .where('name', '=', name)
      .executeTakeFirstOrThrow();
    return { name: row.name, createdAt: toMs(row.created_at) };
  }

  async getBucket(name: string): Promise<BucketRecord | undefined> {
    const row = await this.#db.selectFrom('buckets').selectAll().where('name', '=', name).executeTakeFirst();
    return row && { name: row.name, createdAt: toMs(row.created_at) };
  }

  async getBucketUsage(name: string): Promise<BucketUsage | undefined> {
    const row = await this.#db
      .selectFrom('buckets')
      .select(['bytes', 'objects'])
      .where('name', '=', name)
      .executeTakeFirst();
    return row && { bytes: Number(row.bytes), objects: Number(row.objects) };
  }

  async listBuckets(): Promise<BucketRecord[]> {
    const rows = await this.#db.selectFrom('buckets').selectAll().orderBy('name').execute();
    return rows.map((row) => ({ name: row.name, createdAt: toMs(row.created_at) }));
  }

  async deleteBucket(
    name: string,
  ): Promise<{ outcome: 'deleted' | 'missing' | 'not-empty'; partFileIds: readonly string[] }> {
    return this.#db.transaction().execute(async (trx) => {
      const bucket = await this.#lockBucket(trx, name);
      if (!bucket) return { outcome: 'missing', partFileIds: [] };
      const one = await trx
        .selectFrom('objects')
        .select('key')
        .where('bucket', '=', name)
        .limit(1)
        .executeTakeFirst();
      if (one) return { outcome: 'not-empty', partFileIds: [] };
      const uploads = trx.selectFrom('multipart_uploads').select('upload_id').where('bucket', '=', name);
      const parts = await trx
        .deleteFrom('multipart_parts')
        .where('upload_id', 'in', uploads)
        .returning('file_id')
        .execute();
      await trx.deleteFrom('multipart_uploads').where('bucket', '=', name).execute();
      await trx.deleteFrom('buckets').where('name', '=', name).execute();
      return { outcome: 'deleted', partFileIds: parts.map((p) => p.file_id) };
    });
  }

  async getObject(bucket: string, key: string): Promise<StoredObject | undefined> {
    const row = await this.#db
      .selectFrom('objects')
      .selectAll()
      .where('bucket', '=', bucket)
      .where('key', '=', key)
      .executeTakeFirst();
    return row && toObject(row);
  }

  async putObject(
    object: StoredObject,
    notify?: NotificationBuilder,
    quota?: BucketQuota,
  ): Promise<{ replacedFileId?: string | undefined }> {
    return this.#db.transaction().execute(async (trx) => {
      if (!(await this.#lockBucket(trx, object.bucket))) throw bucketGone(object.bucket);
      const replaced = await this.#upsertObject(trx, object);
      await this.#charge(
        trx,
        object.bucket,
        object.size - (replaced?.size ?? 0),
        replaced === undefined ? 1 : 0,
        quota,
      );
      await this.#events.addNotifications(trx, object.bucket, notify);
      return { replacedFileId: replaced?.fileId };
    });
  }

  async deleteObject(
    bucket: string,
    key: string,
    notify?: NotificationBuilder,
  ): Promise<StoredObject | undefined> {
    return this.#db.transaction().execute(async (trx) => {
      // The bucket row first, as a put takes it: the usage counters live there, and one lock
      // order (bucket, then object) keeps a delete and a put of one key from deadlocking.
      if (!(await this.#lockBucket(trx, bucket))) return undefined;
      const row = await trx
        .deleteFrom('objects')
        .where('bucket', '=', bucket)
        .where('key', '=', key)
        .returningAll()
        .executeTakeFirst();
      if (!row) return undefined;
      await this.#charge(trx, bucket, -Number(row.size), -1);
      await this.#events.addNotifications(trx, bucket, notify);
      return toObject(row);
    });
  }

  async listObjects(bucket: string, range: KeyRange): Promise<StoredObject[]> {
    // Bounds on the (bucket, key) primary key: each page is an index range scan.
    let q = this.#db.selectFrom('objects').selectAll().where('bucket', '=', bucket);
    if (range.after !== undefined) q = q.where('key', '>', range.after);
    if (range.from !== undefined) q = q.where('key', '>=', range.from);
    if (range.below !== undefined) q = q.where('key', '<', range.below);
    const rows = await q.orderBy('key').limit(range.limit).execute();
    return rows.map(toObject);
  }

  async createUpload(upload: StoredUpload): Promise<void> {
    await this.#db.transaction().execute(async (trx) => {
      if (!(await this.#lockBucket(trx, upload.bucket))) throw bucketGone(upload.bucket);
      await trx
        .insertInto('multipart_uploads')
        .values({
          upload_id: upload.uploadId,
          bucket: upload.bucket,
          key: upload.key,
          options: JSON.stringify(upload.options),
          initiated_at: upload.initiatedAt,
        })
        .execute();
    });
  }

  async getUpload(uploadId: string): Promise<StoredUpload | undefined> {
    const row = await this.#db
      .selectFrom('multipart_uploads')
      .selectAll()
      .where('upload_id', '=', uploadId)
      .executeTakeFirst();
    return row && toUpload(row);
  }

  async listUploads(bucket: string, prefix?: string): Promise<StoredUpload[]> {
    let q = this.#db.selectFrom('multipart_uploads').selectAll().where('bucket', '=', bucket);
    if (prefix) q = q.where('key', '>=', prefix);
    const rows = await q.orderBy('key').orderBy('initiated_at').execute();
    // The prefix's upper bound is checked here: uploads in progress are few.
    return rows.filter((r) => !prefix || r.key.startsWith(prefix)).map(toUpload);
  }

  async putPart(part: StoredPart, quota?: BucketQuota): Promise<{ replacedFileId?: string | undefined }> {
    return this.#db.transaction().execute(async (trx) => {
      // Lock order bucket, then upload, as deleteBucket takes them (parts count in its bytes).
      const bucket = await this.#lockUploadBucket(trx, part.uploadId);
      let upload = trx
        .selectFrom('multipart_uploads')
        .select('upload_id')
        .where('upload_id', '=', part.uploadId);
      // Lock the upload so a concurrent complete/abort cannot miss this part's file.
      if (this.#capabilities.skipLocked) upload = upload.forUpdate();
      if (bucket === undefined || !(await upload.executeTakeFirst())) throw noSuchUpload(part.uploadId);
      let old = trx
        .selectFrom('multipart_parts')
        .select(['file_id', 'size'])
        .where('upload_id', '=', part.uploadId)
        .where('part_number', '=', part.partNumber);
      if (this.#capabilities.skipLocked) old = old.forUpdate();
      const previous = await old.executeTakeFirst();
      const values = {
        file_id: part.fileId,
        size: part.size,
        etag: part.etag,
        last_modified: part.lastModified,
      };
      await trx
        .insertInto('multipart_parts')
        .values({ upload_id: part.uploadId, part_number: part.partNumber, ...values })
        .onConflict((oc) => oc.columns(['upload_id', 'part_number']).doUpdateSet(values))
        .execute();
      await this.#charge(trx, bucket, part.size - Number(previous?.size ?? 0), 0, quota);
      return { replacedFileId: previous?.file_id };
    });
  }

  async listParts(uploadId: string): Promise<StoredPart[]> {
    const rows = await this.#db
      .selectFrom('multipart_parts')
      .selectAll()
      .where('upload_id', '=', uploadId)
      .orderBy('part_number')
      .execute();
    return rows.map(toPart);
  }

  async completeUpload(
    uploadId: string,
    object: StoredObject,
    notify?: NotificationBuilder,
    quota?: BucketQuota,
  ): Promise<{ replacedFileId?: string | undefined; partFileIds: readonly string[] }> {
    return this.#db.transaction().execute(async (trx) => {
      // The bucket first (the lock order of puts and deleteBucket); a missing bucket has no
      // uploads either, so NoSuchUpload still comes first.
      const bucketExists = await this.#lockBucket(trx, object.bucket);
      const gone = await trx
        .deleteFrom('multipart_uploads')
        .where('upload_id', '=', uploadId)
        .executeTakeFirst();
      if (Number(gone.numDeletedRows) === 0) throw noSuchUpload(uploadId);
      const parts = await trx
        .deleteFrom('multipart_parts')
        .where('upload_id', '=', uploadId)
        .returning(['file_id', 'size'])
        .execute();
      if (!bucketExists) throw bucketGone(object.bucket);
      const replaced = await this.#upsertObject(trx, object);
      // The parts' bytes become the object's (unlisted parts are dropped): bytes only shrink.
      const partBytes = parts.reduce((sum, p) => sum + Number(p.size), 0);
      await this.#charge(
        trx,
        object.bucket,
        object.size - partBytes - (replaced?.size ?? 0),
        replaced === undefined ? 1 : 0,
        quota,
      );
      await this.#events.addNotifications(trx, object.bucket, notify);
      return { replacedFileId: replaced?.fileId, partFileIds: parts.map((p) => p.file_id) };
    });
  }

  async abortUpload(uploadId: string): Promise<readonly string[] | undefined> {
    return this.#db.transaction().execute(async (trx) => {
      const bucket = await this.#lockUploadBucket(trx, uploadId);
      const gone = await trx
        .deleteFrom('multipart_uploads')
        .where('upload_id', '=', uploadId)
        .executeTakeFirst();
      const parts = await trx
        .deleteFrom('multipart_parts')
        .where('upload_id', '=', uploadId)
        .returning(['file_id', 'size'])
        .execute();
      if (bucket !== undefined) {
        await this.#charge(trx, bucket, -parts.reduce((sum, p) => sum + Number(p.size), 0), 0);
      }
      return Number(gone.numDeletedRows) === 0 ? undefined : parts.map((p) => p.file_id);
    });
  }

  async referencedFileIds(fileIds: readonly string[]): Promise<Set<string>> {
    const found = new Set<string>();
    // Chunks keep the bound parameter count far below SQLite's limit (32766).
    for (let i = 0; i < fileIds.length; i += 500) {
      const chunk = fileIds.slice(i, i + 500);
      const objects = await this.#db
        .selectFrom('objects')
        .select('file_id')
        .where('file_id', 'in', chunk)
        .execute();
      const parts = await this.#db
        .selectFrom('multipart_parts')
        .select('file_id')
        .where('file_id', 'in', chunk)
        .execute();
      for (const r of [...objects, ...parts]) found.add(r.file_id);
    }
    return found;
  }

  replaceTriggers(
    app: string,
    triggers: readonly BucketTrigger[],
    functions?: readonly string[],
  ): Promise<void> {
    return this.#events.replaceTriggers(app, triggers, functions);
  }

  deleteTriggers(app: string, functionName?: string): Promise<void> {
    return this.#events.deleteTriggers(app, functionName);
  }

  listTriggers(bucket?: string): Promise<BucketTrigger[]> {
    return this.#events.listTriggers(bucket);
  }

  claimNotifications(limit: number, leaseMs: number): Promise<OutboxNotification[]> {
    return this.#events.claimNotifications(limit, leaseMs);
  }

  deleteNotification(id: string): Promise<void> {
    return this.#events.deleteNotification(id);
  }

  releaseNotification(id: string, availableAt: number): Promise<void> {
    return this.#events.releaseNotification(id, availableAt);
  }

  countNotifications(): Promise<number> {
    return this.#events.countNotifications();
  }

  /** The bucket row, locked against a concurrent delete where rows can be locked. */
  async #lockBucket(trx: Db, name: string): Promise<boolean> {
    let q = trx.selectFrom('buckets').select('name').where('name', '=', name);
    // With one writer (SQLite) the transaction is already exclusive; with several, FOR UPDATE
    // keeps a concurrent deleteBucket from passing its emptiness check while this row is added.
    if (this.#capabilities.skipLocked) q = q.forUpdate();
    return (await q.executeTakeFirst()) !== undefined;
  }

  /** The bucket of an upload, locked as {@link #lockBucket} does; undefined if either is gone. */
  async #lockUploadBucket(trx: Db, uploadId: string): Promise<string | undefined> {
    const upload = await trx
      .selectFrom('multipart_uploads')
      .select('bucket')
      .where('upload_id', '=', uploadId)
      .executeTakeFirst();
    if (upload === undefined) return undefined;
    return (await this.#lockBucket(trx, upload.bucket)) ? upload.bucket : undefined;
  }

  /**
   * Add `bytes` and `objects` (either may be negative) to the bucket's usage, in the write's
   * transaction, with the bucket row already locked. A write that grows the bucket past `quota`
   * throws StorageQuotaExceeded, which rolls the whole write back. Why counters checked here and
   * not a cached SUM: exact under concurrency (the row lock orders writers) at the cost of one
   * indexed read and one update in a transaction that already holds that row.
   */
  async #charge(trx: Db, bucket: string, bytes: number, objects: number, quota?: BucketQuota): Promise<void> {
    if (bytes === 0 && objects === 0) return;
    if (quota !== undefined && (bytes > 0 || objects > 0)) {
      const row = await trx
        .selectFrom('buckets')
        .select(['bytes', 'objects'])
        .where('name', '=', bucket)
        .executeTakeFirstOrThrow();
      const fix = `Delete objects of bucket '${bucket}' you no longer need (or abort its unfinished multipart uploads)`;
      if (bytes > 0 && Number(row.bytes) + bytes > quota.maxBytes) {
        throw quotaExceeded(`bucket '${bucket}'`, 'bucketBytes', quota.maxBytes, Number(row.bytes), fix);
      }
      if (objects > 0 && Number(row.objects) + objects > quota.maxObjects) {
        throw quotaExceeded(
          `bucket '${bucket}'`,
          'bucketObjects',
          quota.maxObjects,
          Number(row.objects),
          fix,
        );
      }
    }
    await trx
      .updateTable('buckets')
      .set({ bytes: sql<number>`bytes + ${bytes}`, objects: sql<number>`objects + ${objects}` })
      .where('name', '=', bucket)
      .execute();
  }

  /** Insert or replace an object row; returns the replaced row's file id and size. */
  async #upsertObject(trx: Db, object: StoredObject): Promise<{ fileId: string; size: number } | undefined> {
    let old = trx
      .selectFrom('objects')
      .select(['file_id', 'size'])
      .where('bucket', '=', object.bucket)
      .where('key', '=', object.key);
    if (this.#capabilities.skipLocked) old = old.forUpdate();
    const previous = await old.executeTakeFirst();
    const values = objectValues(object);
    await trx
      .insertInto('objects')
      .values({ bucket: object.bucket, key: object.key, ...values })
      .onConflict((oc) => oc.columns(['bucket', 'key']).doUpdateSet(values))
      .execute();
    return previous && { fileId: previous.file_id, size: Number(previous.size) };
  }
}

function bucketGone(bucket: string): NimbusError {
  return new NimbusError(
    'ResourceNotFoundException',
    `Bucket '${bucket}' does not exist; create it with \`nimbus buckets create ${bucket}\` or declare it under resources.buckets in nimbus.yml.`,
  );
}
