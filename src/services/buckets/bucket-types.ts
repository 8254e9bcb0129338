// The bucket service's public types: what the /v1 routes, the S3 facade and the SDK program
// against. Bodies are streams both ways: an object is never held whole in memory.

import type { Readable } from 'node:stream';
import type { StoredObject } from '../../store/ports/objects.js';

/** A bucket. */
export interface BucketInfo {
  readonly name: string;
  /** Epoch ms. */
  readonly createdAt: number;
}

/** Metadata of a stored object: the store's record without the name of its file. */
export type ObjectInfo = Omit<StoredObject, 'fileId'>;

/** Who made an object change, as far as its bucket events carry it on. */
export interface ChangeOrigin {
  /**
   * The writer's X-Ray header (`X-Amzn-Trace-Id`; function code sends its invocation's): the
   * bucket events of the change carry its recursion Lineage to the triggered functions, so a
   * function writing to the bucket that triggers it is stopped as a loop (recursion-guard.ts).
   */
  readonly traceHeader?: string | undefined;
}

/** Headers-like options of a put (and of a multipart upload's creation). */
export interface PutObjectOptions extends ChangeOrigin {
  readonly contentType?: string | undefined;
  readonly contentEncoding?: string | undefined;
  readonly contentDisposition?: string | undefined;
  readonly cacheControl?: string | undefined;
  readonly metadata?: Readonly<Record<string, string>> | undefined;
  /** When known, a body of another length fails the put (`IncompleteBody`-style) and stores nothing. */
  readonly contentLength?: number | undefined;
  /** Base64 MD5 the body must have (`Content-MD5`); a mismatch stores nothing. */
  readonly contentMd5?: string | undefined;
}

/** An inclusive byte range, already resolved against the object size. */
export interface ByteRange {
  readonly start: number;
  readonly end: number;
}

/** A read object: its metadata and a stream of (the range of) its bytes. */
export interface ObjectBody {
  readonly info: ObjectInfo;
  readonly body: Readable;
  /** Set when a range was asked for. */
  readonly range?: ByteRange | undefined;
}

/** Options of a list (S3 ListObjectsV2 semantics). */
export interface ListObjectsOptions {
  readonly prefix?: string | undefined;
  /** Group keys sharing a prefix up to the next delimiter into `commonPrefixes`. */
  readonly delimiter?: string | undefined;
  /** 1-1000. @default 1000 */
  readonly maxKeys?: number | undefined;
  /** Opaque token from a previous page. */
  readonly continuationToken?: string | undefined;
  /** List keys after this one. */
  readonly startAfter?: string | undefined;
}

/** One page of a list. */
export interface ListObjectsPage {
  readonly objects: readonly ObjectInfo[];
  readonly commonPrefixes: readonly string[];
  readonly isTruncated: boolean;
  readonly nextContinuationToken?: string | undefined;
}

/** A part of a multipart upload. */
export interface UploadedPart {
  readonly partNumber: number;
  readonly etag: string;
  readonly size: number;
  readonly lastModified: number;
}

/** A multipart upload in progress. */
export interface MultipartUploadInfo {
  readonly uploadId: string;
  readonly bucket: string;
  readonly key: string;
  readonly initiatedAt: number;
}

/**
 * The bucket operations (implemented by BucketService). Errors are NimbusErrors with stable codes:
 * `ResourceNotFoundException` for an unknown bucket or key (the S3 facade maps to NoSuchBucket /
 * NoSuchKey), the bucket codes in src/errors.ts for the rest (BucketNotEmpty, InvalidRange, ...).
 */
export interface BucketOperations {
  /** Create, or return the existing bucket (idempotent). */
  createBucket(name: string): Promise<BucketInfo>;
  getBucket(name: string): Promise<BucketInfo | undefined>;
  listBuckets(): Promise<BucketInfo[]>;
  /** Fails when the bucket still has objects. False when it did not exist. */
  deleteBucket(name: string): Promise<boolean>;

  /**
   * Store `body` as `key`, streaming it to a temporary file and switching the object over only
   * when the whole body arrived and checked out: a cut-off or failed body leaves no trace.
   */
  putObject(bucket: string, key: string, body: Readable, options?: PutObjectOptions): Promise<ObjectInfo>;
  headObject(bucket: string, key: string): Promise<ObjectInfo | undefined>;
  /** `range` as in an HTTP Range header's single range: `{ start?, end? }`, `end` inclusive; suffix form with only `suffixLength`. */
  getObject(
    bucket: string,
    key: string,
    options?: { range?: { start?: number; end?: number; suffixLength?: number } | undefined },
  ): Promise<ObjectBody>;
  listObjects(bucket: string, options?: ListObjectsOptions): Promise<ListObjectsPage>;
  /** Idempotent: deleting a missing key succeeds. Emits ObjectRemoved:Delete when something was deleted. */
  deleteObject(bucket: string, key: string, origin?: ChangeOrigin): Promise<void>;
  /** Copy server-side; `replaceMetadata` set means use its fields instead of the source's (MetadataDirective REPLACE). */
  copyObject(
    source: { bucket: string; key: string },
    target: { bucket: string; key: string },
    replaceMetadata?: PutObjectOptions,
    origin?: ChangeOrigin,
  ): Promise<ObjectInfo>;

  createMultipartUpload(
    bucket: string,
    key: string,
    options?: PutObjectOptions,
  ): Promise<MultipartUploadInfo>;
  /** Parts are 1-10000; re-uploading a part number replaces it. */
  uploadPart(
    bucket: string,
    key: string,
    uploadId: string,
    partNumber: number,
    body: Readable,
    options?: { contentLength?: number | undefined; contentMd5?: string | undefined },
  ): Promise<UploadedPart>;
  /** Parts in ascending order with the ETags the uploads returned; all but the last ≥ 5 MiB (as S3). */
  completeMultipartUpload(
    bucket: string,
    key: string,
    uploadId: string,
    parts: ReadonlyArray<{ partNumber: number; etag: string }>,
    origin?: ChangeOrigin,
  ): Promise<ObjectInfo>;
  abortMultipartUpload(bucket: string, key: string, uploadId: string): Promise<void>;
  listParts(bucket: string, key: string, uploadId: string): Promise<UploadedPart[]>;
  listMultipartUploads(bucket: string, prefix?: string): Promise<MultipartUploadInfo[]>;
}
