// S3 error responses: NimbusError codes mapped to S3's codes and statuses, written as S3's error XML.

import type { ServerResponse } from 'node:http';
import { isNimbusError } from '../../errors.js';
import { document, el } from './s3-xml.js';

/** An error as S3 reports it. */
export interface S3Error {
  readonly status: number;
  readonly code: string;
  readonly message: string;
  readonly headers?: Readonly<Record<string, string>> | undefined;
}

/** What the failing request was about, for the `<Key>`/`<BucketName>` fields and 404 naming. */
export interface S3ErrorContext {
  readonly bucket?: string | undefined;
  readonly key?: string | undefined;
  readonly uploadId?: string | undefined;
  /** Whether the bucket exists (asked only after a ResourceNotFoundException). */
  readonly bucketExists?: boolean | undefined;
}

/** NimbusError codes whose S3 name differs; the rest (BucketNotEmpty, InvalidRange, ...) keep theirs. */
const RENAMED: Readonly<Record<string, { code: string; status?: number }>> = {
  UnrecognizedClientException: { code: 'InvalidAccessKeyId' },
  MissingAuthenticationTokenException: { code: 'AccessDenied' },
  AccessDeniedException: { code: 'AccessDenied' },
  InvalidParameterValueException: { code: 'InvalidArgument' },
  InvalidRequestContentException: { code: 'InvalidRequest' },
  RequestEntityTooLargeException: { code: 'EntityTooLarge', status: 400 },
  TooManyRequestsException: { code: 'SlowDown', status: 503 },
  ServiceException: { code: 'InternalError' },
  ResourceConflictException: { code: 'OperationAborted' },
  // S3 itself has no storage quota; Ceph RGW, the most used S3-compatible store, answers this.
  StorageQuotaExceeded: { code: 'QuotaExceeded', status: 403 },
};

/** Map any thrown value to the S3 error the client gets. */
export function toS3Error(err: unknown, ctx: S3ErrorContext): S3Error {
  if (!isNimbusError(err)) {
    return {
      status: 500,
      code: 'InternalError',
      message: 'We encountered an internal error. Please try again.',
    };
  }
  const { code, status, message } = err;
  if (code === 'ResourceNotFoundException') {
    if (ctx.bucket !== undefined && ctx.bucketExists === false) {
      return {
        status: 404,
        code: 'NoSuchBucket',
        message: `The specified bucket does not exist: ${message}`,
      };
    }
    if (ctx.uploadId !== undefined) {
      return { status: 404, code: 'NoSuchUpload', message };
    }
    if (ctx.key !== undefined) {
      return { status: 404, code: 'NoSuchKey', message: `The specified key does not exist: ${message}` };
    }
    return { status: 404, code: 'NoSuchBucket', message };
  }
  if (code === 'InvalidSignatureException') {
    // The SDKs correct their clock on RequestTimeTooSkewed; a wrong secret is SignatureDoesNotMatch.
    const skewed = /Signature (expired|not yet current)/.test(message);
    return {
      status: 403,
      code: skewed
        ? 'RequestTimeTooSkewed'
        : /expired/.test(message)
          ? 'AccessDenied'
          : 'SignatureDoesNotMatch',
      message,
    };
  }
  const renamed = RENAMED[code];
  if (renamed !== undefined)
    return { status: renamed.status ?? status, code: renamed.code, message, headers: err.headers };
  return { status, code, message, headers: err.headers };
}

/** Write `error` as S3's error document (headers only for HEAD, as S3 does). */
export function sendS3Error(
  res: ServerResponse,
  error: S3Error,
  ctx: S3ErrorContext & { readonly requestId: string; readonly method: string },
): void {
  if (res.headersSent) {
    // The body was already under way: cutting the connection is the only honest signal left.
    res.destroy();
    return;
  }
  const body =
    ctx.method === 'HEAD'
      ? undefined
      : document(
          'Error',
          [
            el('Code', error.code),
            el('Message', error.message),
            el('BucketName', ctx.key === undefined ? ctx.bucket : undefined),
            el('Key', ctx.key),
            el('UploadId', ctx.uploadId),
            el('RequestId', ctx.requestId),
          ],
          false,
        );
  const headers: Record<string, string | number> = {
    ...error.headers,
    'x-amz-request-id': ctx.requestId,
    'content-type': 'application/xml',
  };
  if (ctx.method === 'HEAD') headers['x-amz-error-code'] = error.code;
  if (body !== undefined) headers['content-length'] = Buffer.byteLength(body);
  else headers['content-length'] = 0;
  res.writeHead(error.status, headers);
  res.end(body);
}
