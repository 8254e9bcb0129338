// One S3 request as the operation handlers see it (bucket, key, query, verified identity) and the
// response helpers they share: XML replies, object headers, small XML request bodies.

import { createHash } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { SigV4Identity } from '../../auth/sigv4-verifier.js';
import { NimbusError } from '../../errors.js';
import type { BucketOperations, ObjectInfo, PutObjectOptions } from '../../services/buckets/bucket-types.js';
import { openUploadBody, type UploadBody } from './s3-body.js';

/** A parsed, authenticated S3 request. */
export interface S3Request {
  readonly req: IncomingMessage;
  readonly res: ServerResponse;
  readonly method: string;
  /** Bucket name from the path (path-style), undefined for `GET /`. */
  readonly bucket: string | undefined;
  /** Object key, percent-decoded, undefined for bucket-level requests. */
  readonly key: string | undefined;
  readonly query: URLSearchParams;
  readonly requestId: string;
  readonly identity: SigV4Identity;
  /** The derived signing key (for signed aws-chunked bodies). */
  readonly signingKey: Buffer | undefined;
  readonly buckets: BucketOperations;
  /** The region reported by GetBucketLocation and x-amz-bucket-region. */
  readonly region: string;
}

/** Split a path-style target into bucket and key (both percent-decoded). */
export function parseS3Path(url: string): {
  bucket: string | undefined;
  key: string | undefined;
  query: URLSearchParams;
} {
  const q = url.indexOf('?');
  const path = q < 0 ? url : url.slice(0, q);
  const query = new URLSearchParams(q < 0 ? '' : url.slice(q + 1));
  const rest = path.startsWith('/') ? path.slice(1) : path;
  const slash = rest.indexOf('/');
  const rawBucket = slash < 0 ? rest : rest.slice(0, slash);
  const rawKey = slash < 0 ? '' : rest.slice(slash + 1);
  const decode = (s: string): string => {
    try {
      return decodeURIComponent(s);
    } catch {
      throw new NimbusError(
        'InvalidParameterValueException',
        `The request path has a malformed percent-encoding: '${s.slice(0, 80)}'.`,
      );
    }
  };
  return {
    bucket: rawBucket === '' ? undefined : decode(rawBucket),
    key: rawKey === '' ? undefined : decode(rawKey),
    query,
  };
}

/** Send an XML document (or an empty body) with the common S3 headers. */
export function sendXml(
  r: S3Request,
  status: number,
  xml: string | undefined,
  headers: Record<string, string | number> = {},
): void {
  const h: Record<string, string | number> = { ...headers, 'x-amz-request-id': r.requestId };
  if (xml !== undefined) {
    h['content-type'] = 'application/xml';
    h['content-length'] = Buffer.byteLength(xml);
  } else if (status !== 204 && status !== 304) {
    h['content-length'] = 0;
  }
  r.res.writeHead(status, h);
  r.res.end(xml);
}

/** ISO 8601 with milliseconds, as S3 lists timestamps. */
export function isoTime(ms: number): string {
  return new Date(ms).toISOString();
}

/** Header values must be latin1; anything else is sent RFC 2047-encoded, as S3 does for metadata. */
function headerSafe(value: string): string {
  return /^[\x20-\x7e\t]*$/.test(value)
    ? value
    : `=?UTF-8?B?${Buffer.from(value, 'utf8').toString('base64')}?=`;
}

/** The response headers describing an object (GetObject, HeadObject). */
export function objectHeaders(info: ObjectInfo): Record<string, string | number> {
  const h: Record<string, string | number> = {
    etag: info.etag,
    'last-modified': new Date(info.lastModified).toUTCString(),
    'content-type': info.contentType,
    'accept-ranges': 'bytes',
  };
  if (info.contentEncoding !== undefined) h['content-encoding'] = info.contentEncoding;
  if (info.contentDisposition !== undefined) h['content-disposition'] = headerSafe(info.contentDisposition);
  if (info.cacheControl !== undefined) h['cache-control'] = info.cacheControl;
  for (const [name, value] of Object.entries(info.metadata)) h[`x-amz-meta-${name}`] = headerSafe(value);
  return h;
}

function header(req: IncomingMessage, name: string): string | undefined {
  const v = req.headers[name];
  return Array.isArray(v) ? v.join(',') : v;
}

/** Content-Encoding without the `aws-chunked` transport coding (which is not part of the object). */
function storedContentEncoding(req: IncomingMessage): string | undefined {
  const raw = header(req, 'content-encoding');
  if (raw === undefined) return undefined;
  const kept = raw
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '' && s.toLowerCase() !== 'aws-chunked');
  return kept.length === 0 ? undefined : kept.join(', ');
}

/** The object options a PUT or CreateMultipartUpload carries in its headers. */
export function putOptionsFromHeaders(req: IncomingMessage): PutObjectOptions {
  const metadata: Record<string, string> = {};
  for (const [name, value] of Object.entries(req.headers)) {
    if (name.startsWith('x-amz-meta-') && value !== undefined) {
      metadata[name.slice('x-amz-meta-'.length)] = Array.isArray(value) ? value.join(',') : value;
    }
  }
  return {
    contentType: header(req, 'content-type'),
    contentEncoding: storedContentEncoding(req),
    contentDisposition: header(req, 'content-disposition'),
    cacheControl: header(req, 'cache-control'),
    metadata,
    contentMd5: checkedContentMd5(req),
  };
}

/** `Content-MD5` after a format check (base64 of 16 bytes), or undefined. */
export function checkedContentMd5(req: IncomingMessage): string | undefined {
  const md5 = header(req, 'content-md5')?.trim();
  if (md5 === undefined) return undefined;
  const bytes = Buffer.from(md5, 'base64');
  if (bytes.length !== 16 || bytes.toString('base64') !== md5) {
    throw new NimbusError(
      'InvalidDigest',
      `The Content-MD5 you specified ('${md5.slice(0, 60)}') is not the base64 of a 16-byte MD5.`,
    );
  }
  return md5;
}

/** The verified upload body of this request. */
export function uploadBody(r: S3Request): UploadBody {
  return openUploadBody(r.req, r.identity, r.signingKey);
}

/**
 * Run a store operation on an upload body; on failure prefer the body's own error (a checksum or
 * signature fault) to whatever the consumer made of the stream dying under it.
 */
export async function withUpload<T>(body: UploadBody, run: () => Promise<T>): Promise<T> {
  try {
    const out = await run();
    const err = body.error();
    if (err !== undefined) throw err;
    return out;
  } catch (err) {
    throw body.error() ?? err;
  }
}

/** Read a small request body (an XML document), verified like an upload, up to `limit` bytes. */
export async function readSmallBody(r: S3Request, limit = 2 * 1024 * 1024): Promise<string> {
  const body = uploadBody(r);
  const parts: Buffer[] = [];
  let size = 0;
  try {
    for await (const chunk of body.body) {
      size += (chunk as Buffer).length;
      if (size > limit) {
        body.body.destroy();
        throw new NimbusError('MalformedXML', `The request body is larger than ${limit} bytes.`);
      }
      parts.push(chunk as Buffer);
    }
  } catch (err) {
    throw body.error() ?? err;
  }
  const err = body.error();
  if (err !== undefined) throw err;
  const whole = Buffer.concat(parts);
  // Older SDKs protect DeleteObjects with Content-MD5 instead of a flexible checksum.
  const md5 = checkedContentMd5(r.req);
  if (md5 !== undefined && createHash('md5').update(whole).digest('base64') !== md5) {
    throw new NimbusError('BadDigest', 'The Content-MD5 you specified did not match what we received.');
  }
  return whole.toString('utf8');
}
