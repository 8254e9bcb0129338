// Kysely table types of buckets, object metadata, multipart uploads, bucket triggers and the
// bucket event outbox (see migrations 007 of both backends).

import type { ColumnType } from 'kysely';
import type { Bytes, EpochMs } from '../database.js';

/** A byte count: `bigint` on PostgreSQL (a string from `pg`), read through Number(). */
type ByteCount = ColumnType<number | string, number, number>;

/** A bucket. */
export interface BucketsTable {
  name: string;
  created_at: EpochMs;
  /** Bytes of its objects and unfinished multipart parts (migration 011), kept by each write. */
  bytes: ColumnType<number | string, number | undefined, number>;
  /** Its object count (migration 011), kept by each write. */
  objects: ColumnType<number | string, number | undefined, number>;
}

/** One object's metadata; its bytes are the file `file_id` under `<dataDir>/objects/data`. */
export interface ObjectsTable {
  bucket: string;
  key: string;
  file_id: string;
  size: ByteCount;
  /** Quoted, as S3 sends it. */
  etag: string;
  content_type: string;
  content_encoding: string | null;
  content_disposition: string | null;
  cache_control: string | null;
  /** User metadata as a JSON object. */
  metadata: string;
  last_modified: EpochMs;
}

/** A multipart upload in progress. */
export interface MultipartUploadsTable {
  upload_id: string;
  bucket: string;
  key: string;
  /** The upload's PutObjectOptions (content type, metadata, ...) as JSON. */
  options: string;
  initiated_at: EpochMs;
}

/** One uploaded part (a file like an object's). */
export interface MultipartPartsTable {
  upload_id: string;
  part_number: number;
  file_id: string;
  size: ByteCount;
  etag: string;
  last_modified: EpochMs;
}

/** One bucket trigger of a function (`events: - bucket: ...` in nimbus.yml). */
export interface BucketTriggersTable {
  app: string;
  function_name: string;
  /** Index of the entry in the function's `events` list. */
  position: number;
  bucket: string;
  /** JSON array of event name patterns (`s3:ObjectCreated:*`, `s3:ObjectRemoved:Delete`). */
  events: string;
  prefix: string;
  suffix: string;
}

/** A bucket notification waiting to be enqueued as an async invocation. */
export interface BucketEventOutboxTable {
  id: string;
  function_name: string;
  payload: Bytes;
  created_at: EpochMs;
  /** Epoch ms before which the drainer leaves it alone (a claim's lease, or a retry's backoff). */
  available_at: EpochMs;
  attempts: number;
  /** X-Ray header of the change's writer, with its recursion Lineage (migration 014). */
  trace_header: ColumnType<string | null, string | null | undefined, string | null>;
}

/** The tables of buckets and object metadata, merged into {@link Database}. */
export interface ObjectTables {
  buckets: BucketsTable;
  objects: ObjectsTable;
  multipart_uploads: MultipartUploadsTable;
  multipart_parts: MultipartPartsTable;
  bucket_triggers: BucketTriggersTable;
  bucket_event_outbox: BucketEventOutboxTable;
}
