// The S3-compatible API (path-style, SigV4 service `s3`, `aws-chunked` uploads), so
// `@aws-sdk/client-s3` works against Nimbus with `endpoint` and `forcePathStyle: true`.

import { randomBytes } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { SigningKeyCache } from '../../auth/sigv4-verifier.js';
import { NimbusError, isNimbusError } from '../../errors.js';
import type { Platform } from '../../server/platform.js';
import { discardRequestBody } from '../http-io.js';
import type { BucketOperations } from '../../services/buckets/bucket-types.js';
import { createBucket, deleteBucket, getBucketLocation, headBucket, listBuckets } from './s3-buckets.js';
import { sendS3Error, toS3Error } from './s3-errors.js';
import { listObjectsV1, listObjectsV2 } from './s3-list.js';
import {
  abortMultipartUpload,
  completeMultipartUpload,
  createMultipartUpload,
  listMultipartUploads,
  listParts,
  uploadPart,
} from './s3-multipart.js';
import { copyObject, deleteObject, deleteObjects, getObject, headObject, putObject } from './s3-objects.js';
import { parseS3Path, type S3Request } from './s3-request.js';

/** The S3 operations served, named in NotImplemented messages. */
export const SUPPORTED_OPERATIONS = [
  'ListBuckets',
  'CreateBucket',
  'HeadBucket',
  'DeleteBucket',
  'GetBucketLocation',
  'ListObjects',
  'ListObjectsV2',
  'PutObject',
  'GetObject',
  'HeadObject',
  'DeleteObject',
  'DeleteObjects',
  'CopyObject',
  'CreateMultipartUpload',
  'UploadPart',
  'CompleteMultipartUpload',
  'AbortMultipartUpload',
  'ListParts',
  'ListMultipartUploads',
] as const;

/** Sub-resources S3 has and Nimbus does not (ACLs, tagging, versioning, policies, ...). */
const UNSUPPORTED_SUBRESOURCES = [
  'acl',
  'tagging',
  'versioning',
  'versions',
  'policy',
  'policyStatus',
  'cors',
  'lifecycle',
  'website',
  'encryption',
  'notification',
  'logging',
  'replication',
  'object-lock',
  'retention',
  'legal-hold',
  'torrent',
  'restore',
  'select',
  'attributes',
  'accelerate',
  'requestPayment',
  'analytics',
  'inventory',
  'metrics',
  'ownershipControls',
  'publicAccessBlock',
  'intelligent-tiering',
  'session',
  'website',
];

function notImplemented(what: string): NimbusError {
  return new NimbusError(
    'NotImplemented',
    `${what} is not supported by the Nimbus S3 API. Supported: ${SUPPORTED_OPERATIONS.join(', ')} (path-style addressing).`,
  );
}

/**
 * A signing key cache that remembers the key it handed out, so the signed-chunk verifier can use
 * the very key the header signature was checked with (AuthService exposes no secrets). One per
 * request over a shared cache: the derivation stays cached across requests.
 */
class CapturingKeyCache extends SigningKeyCache {
  key: Buffer | undefined;
  readonly #shared: SigningKeyCache;
  constructor(shared: SigningKeyCache) {
    super(1);
    this.#shared = shared;
  }
  override get(secret: string, date: string, region: string, service: string): Buffer {
    this.key = this.#shared.get(secret, date, region, service);
    return this.key;
  }
}

const sharedKeys = new SigningKeyCache();

type Handler = (r: S3Request) => Promise<void>;

/** Pick the operation for a method, path shape and query (S3's REST routing). */
function route(
  method: string,
  bucket: string | undefined,
  key: string | undefined,
  query: URLSearchParams,
  req: IncomingMessage,
): Handler {
  for (const sub of UNSUPPORTED_SUBRESOURCES) {
    if (query.has(sub)) throw notImplemented(`The '?${sub}' sub-resource`);
  }
  if (bucket === undefined) {
    if (method === 'GET') return listBuckets;
    throw notImplemented(`${method} /`);
  }
  if (key === undefined) {
    switch (method) {
      case 'PUT':
        return createBucket;
      case 'HEAD':
        return headBucket;
      case 'DELETE':
        return deleteBucket;
      case 'POST':
        if (query.has('delete')) return deleteObjects;
        throw notImplemented('POST on a bucket without ?delete (browser form uploads)');
      case 'GET':
        if (query.has('location')) return getBucketLocation;
        if (query.has('uploads')) return listMultipartUploads;
        if (query.get('list-type') === '2') return listObjectsV2;
        return listObjectsV1;
    }
    throw notImplemented(`${method} on a bucket`);
  }
  switch (method) {
    case 'PUT':
      if (query.has('uploadId')) return uploadPart;
      if (req.headers['x-amz-copy-source'] !== undefined) return copyObject;
      return putObject;
    case 'GET':
      if (query.has('uploadId')) return listParts;
      return getObject;
    case 'HEAD':
      return headObject;
    case 'DELETE':
      if (query.has('uploadId')) return abortMultipartUpload;
      return deleteObject;
    case 'POST':
      if (query.has('uploads')) return createMultipartUpload;
      if (query.has('uploadId')) return completeMultipartUpload;
      throw notImplemented('POST on an object without ?uploads or ?uploadId');
  }
  throw notImplemented(`${method} on an object`);
}

/** S3-style request id: 16 uppercase hex characters. */
function requestId(): string {
  return randomBytes(8).toString('hex').toUpperCase();
}

/** Serve one S3 request (every request signed for service `s3`). Never throws. */
export async function handleS3(platform: Platform, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const id = requestId();
  const method = (req.method ?? 'GET').toUpperCase();
  let bucket: string | undefined;
  let key: string | undefined;
  let uploadId: string | undefined;
  const buckets: BucketOperations = platform.buckets;
  try {
    const parsed = parseS3Path(req.url ?? '/');
    bucket = parsed.bucket;
    key = parsed.key;
    uploadId = parsed.query.get('uploadId') ?? undefined;
    const keys = new CapturingKeyCache(sharedKeys);
    const identity = await platform.auth.verifySigV4(
      { method, path: req.url ?? '/', headers: req.headers, body: undefined },
      { signingKeyCache: keys, expectedScope: { service: 's3', region: platform.region } },
    );
    const handler = route(method, bucket, key, parsed.query, req);
    await handler({
      req,
      res,
      method,
      bucket,
      key,
      query: parsed.query,
      requestId: id,
      identity,
      signingKey: keys.key,
      buckets,
      region: platform.region,
    });
  } catch (err) {
    if (!isExpected(err))
      platform.services.logger.error(`S3 ${method} ${req.url}: ${(err as Error)?.stack ?? String(err)}`);
    let bucketExists: boolean | undefined;
    if ((err as { code?: string })?.code === 'ResourceNotFoundException' && bucket !== undefined) {
      bucketExists = await buckets.getBucket(bucket).then(
        (b) => b !== undefined,
        () => undefined,
      );
    }
    const ctx = { bucket, key, uploadId, bucketExists };
    // Drain what is left of an upload (or close after answering) so the keep-alive connection
    // stays usable and the SDK reads the error.
    discardRequestBody(req, res);
    sendS3Error(res, toS3Error(err, ctx), { ...ctx, requestId: id, method });
  }
}

/** Client faults and known refusals are answered, not logged; anything else is a bug worth a stack. */
function isExpected(err: unknown): boolean {
  return isNimbusError(err) && err.code !== 'ServiceException';
}
