// S3 object operations: PutObject, GetObject (ranges, conditions, response overrides), HeadObject,
// DeleteObject, DeleteObjects and CopyObject.

import { pipeline } from 'node:stream';
import { NimbusError } from '../../errors.js';
import type { ObjectInfo } from '../../services/buckets/bucket-types.js';
import { bucketOf } from './s3-buckets.js';
import {
  isoTime,
  objectHeaders,
  putOptionsFromHeaders,
  readSmallBody,
  sendXml,
  uploadBody,
  withUpload,
  type S3Request,
} from './s3-request.js';
import { childText, childrenNamed, document, el, group, parseXml } from './s3-xml.js';
import { header } from '../http-io.js';
import { etagListMatches, parseRangeHeader } from '../object-headers.js';

/** The writer's X-Ray header (the AWS SDK's recursion-detection middleware sends it from a function): bucket events carry it on. */
const origin = (r: S3Request) => ({ traceHeader: header(r.req, 'x-amzn-trace-id') });

/** The key of an object-level request. */
export function keyOf(r: S3Request): string {
  if (r.key === undefined)
    throw new NimbusError(
      'InvalidRequestContentException',
      'This operation needs an object key in the path (/<bucket>/<key>).',
    );
  return r.key;
}

/** `PUT /<bucket>/<key>`: stream the (verified) body into the bucket service. */
export async function putObject(r: S3Request): Promise<void> {
  const bucket = bucketOf(r);
  const key = keyOf(r);
  const options = putOptionsFromHeaders(r.req);
  const body = uploadBody(r);
  const info = await withUpload(body, () =>
    r.buckets.putObject(bucket, key, body.body, {
      ...options,
      ...origin(r),
      contentLength: body.contentLength,
    }),
  );
  sendXml(r, 200, undefined, { etag: info.etag, ...body.checksumHeaders() });
}

/** Evaluate If-Match / If-None-Match / If-(Un)Modified-Since as S3 does: 412, 304 or go on. */
function checkConditions(r: S3Request, info: ObjectInfo): 304 | undefined {
  const h = r.req.headers;
  const modifiedS = Math.floor(info.lastModified / 1000) * 1000;
  const ifMatch = h['if-match'];
  const ifUnmodified = h['if-unmodified-since'];
  if (ifMatch !== undefined) {
    if (!etagListMatches(ifMatch, info.etag)) {
      throw new NimbusError(
        'PreconditionFailed',
        `At least one of the pre-conditions you specified did not hold: If-Match ${ifMatch} vs ETag ${info.etag}.`,
      );
    }
  } else if (ifUnmodified !== undefined) {
    const t = Date.parse(ifUnmodified);
    if (!Number.isNaN(t) && modifiedS > t) {
      throw new NimbusError(
        'PreconditionFailed',
        `At least one of the pre-conditions you specified did not hold: modified since ${ifUnmodified}.`,
      );
    }
  }
  const ifNoneMatch = h['if-none-match'];
  const ifModified = h['if-modified-since'];
  if (ifNoneMatch !== undefined) {
    if (etagListMatches(ifNoneMatch, info.etag)) return 304;
  } else if (ifModified !== undefined) {
    const t = Date.parse(ifModified);
    if (!Number.isNaN(t) && modifiedS <= t) return 304;
  }
  return undefined;
}

const OVERRIDES: ReadonlyArray<[string, string]> = [
  ['response-content-type', 'content-type'],
  ['response-content-language', 'content-language'],
  ['response-expires', 'expires'],
  ['response-cache-control', 'cache-control'],
  ['response-content-disposition', 'content-disposition'],
  ['response-content-encoding', 'content-encoding'],
];

function withOverrides(
  r: S3Request,
  headers: Record<string, string | number>,
): Record<string, string | number> {
  for (const [param, name] of OVERRIDES) {
    const v = r.query.get(param);
    if (v !== null) headers[name] = v;
  }
  return headers;
}

/** `GET /<bucket>/<key>`: the object's bytes (or range) streamed from the service. */
export async function getObject(r: S3Request): Promise<void> {
  const bucket = bucketOf(r);
  const key = keyOf(r);
  if (r.query.has('partNumber')) {
    throw new NimbusError(
      'NotImplemented',
      'GetObject with partNumber is not supported; use a Range header instead.',
    );
  }
  const rangeHeader = r.req.headers.range;
  const range = parseRangeHeader(rangeHeader);
  const got = await r.buckets.getObject(bucket, key, { range });
  const status = checkConditions(r, got.info);
  const headers = withOverrides(r, { ...objectHeaders(got.info), 'x-amz-request-id': r.requestId });
  if (status === 304) {
    got.body.destroy();
    delete headers['content-type'];
    r.res.writeHead(304, headers);
    r.res.end();
    return;
  }
  if (got.range !== undefined) {
    headers['content-range'] = `bytes ${got.range.start}-${got.range.end}/${got.info.size}`;
    headers['content-length'] = got.range.end - got.range.start + 1;
  } else {
    headers['content-length'] = got.info.size;
  }
  r.res.writeHead(got.range !== undefined ? 206 : 200, headers);
  // A read failure after the headers went out can only be signalled by cutting the connection.
  pipeline(got.body, r.res, () => undefined);
}

/** `HEAD /<bucket>/<key>`. */
export async function headObject(r: S3Request): Promise<void> {
  const bucket = bucketOf(r);
  const key = keyOf(r);
  const info = await r.buckets.headObject(bucket, key);
  if (info === undefined)
    throw new NimbusError('ResourceNotFoundException', `Key '${key}' does not exist in bucket '${bucket}'.`);
  const status = checkConditions(r, info);
  const headers = withOverrides(r, { ...objectHeaders(info), 'x-amz-request-id': r.requestId });
  const range = parseRangeHeader(r.req.headers.range);
  let code = status ?? 200;
  if (status === undefined && range !== undefined && info.size > 0) {
    const start =
      range.suffixLength !== undefined ? Math.max(0, info.size - range.suffixLength) : (range.start ?? 0);
    const end = Math.min(range.end ?? info.size - 1, info.size - 1);
    if (start >= info.size)
      throw new NimbusError(
        'InvalidRange',
        `The requested range is not satisfiable: the object has ${info.size} bytes.`,
      );
    headers['content-range'] = `bytes ${start}-${end}/${info.size}`;
    headers['content-length'] = end - start + 1;
    code = 206;
  } else if (status === undefined) {
    headers['content-length'] = info.size;
  }
  r.res.writeHead(code, headers);
  r.res.end();
}

/** `DELETE /<bucket>/<key>`: 204 whether or not the key existed (as S3). */
export async function deleteObject(r: S3Request): Promise<void> {
  await r.buckets.deleteObject(bucketOf(r), keyOf(r), origin(r));
  sendXml(r, 204, undefined);
}

/** `POST /<bucket>?delete`: up to 1000 keys; Quiet reports only failures. */
export async function deleteObjects(r: S3Request): Promise<void> {
  const bucket = bucketOf(r);
  const root = parseXml(await readSmallBody(r));
  if (root.name !== 'Delete')
    throw new NimbusError('MalformedXML', `The root element must be <Delete>, not <${root.name}>.`);
  const quiet = childText(root, 'Quiet')?.trim().toLowerCase() === 'true';
  const keys = childrenNamed(root, 'Object').map((o) => childText(o, 'Key'));
  if (keys.length === 0 || keys.length > 1000) {
    throw new NimbusError(
      'MalformedXML',
      `A Delete request names 1 to 1000 <Object>s; this one has ${keys.length}.`,
    );
  }
  if (keys.some((k) => k === undefined || k === ''))
    throw new NimbusError('MalformedXML', 'Every <Object> needs a non-empty <Key>.');
  if ((await r.buckets.getBucket(bucket)) === undefined) {
    throw new NimbusError('ResourceNotFoundException', `Bucket '${bucket}' does not exist.`);
  }
  const results: string[] = [];
  for (const key of keys as string[]) {
    try {
      await r.buckets.deleteObject(bucket, key, origin(r));
      if (!quiet) results.push(group('Deleted', [el('Key', key)]));
    } catch (err) {
      const e = err as { code?: string; message?: string };
      results.push(
        group('Error', [
          el('Key', key),
          el('Code', e.code ?? 'InternalError'),
          el('Message', e.message ?? String(err)),
        ]),
      );
    }
  }
  sendXml(r, 200, document('DeleteResult', results));
}

/** `x-amz-copy-source`: `[/]<bucket>/<key>`, URL-encoded, optionally `?versionId=` (refused). */
export function parseCopySource(raw: string): { bucket: string; key: string } {
  let s = raw.trim();
  const q = s.indexOf('?');
  if (q >= 0) {
    if (s.slice(q + 1).startsWith('versionId=') && !s.slice(q).includes('versionId=null')) {
      throw new NimbusError(
        'NotImplemented',
        'Buckets are not versioned: x-amz-copy-source cannot name a versionId.',
      );
    }
    s = s.slice(0, q);
  }
  let decoded: string;
  try {
    decoded = decodeURIComponent(s);
  } catch {
    throw new NimbusError(
      'InvalidParameterValueException',
      `x-amz-copy-source '${raw.slice(0, 100)}' has a malformed percent-encoding.`,
    );
  }
  if (decoded.startsWith('/')) decoded = decoded.slice(1);
  const slash = decoded.indexOf('/');
  if (slash <= 0 || slash === decoded.length - 1) {
    throw new NimbusError(
      'InvalidParameterValueException',
      `x-amz-copy-source must be <bucket>/<key>; got '${raw.slice(0, 100)}'.`,
    );
  }
  return { bucket: decoded.slice(0, slash), key: decoded.slice(slash + 1) };
}

/** `PUT /<bucket>/<key>` with `x-amz-copy-source`. */
export async function copyObject(r: S3Request): Promise<void> {
  const target = { bucket: bucketOf(r), key: keyOf(r) };
  r.req.resume();
  const source = parseCopySource(String(r.req.headers['x-amz-copy-source']));
  const directive = String(r.req.headers['x-amz-metadata-directive'] ?? 'COPY').toUpperCase();
  if (directive !== 'COPY' && directive !== 'REPLACE') {
    throw new NimbusError(
      'InvalidParameterValueException',
      `x-amz-metadata-directive must be COPY or REPLACE; got '${directive}'.`,
    );
  }
  if (directive === 'COPY' && source.bucket === target.bucket && source.key === target.key) {
    throw new NimbusError(
      'InvalidRequestContentException',
      'This copy request is illegal because it is trying to copy an object to itself without changing the metadata; use x-amz-metadata-directive: REPLACE.',
    );
  }
  await checkCopyConditions(r, source);
  const replace = directive === 'REPLACE' ? putOptionsFromHeaders(r.req) : undefined;
  const info = await r.buckets.copyObject(source, target, replace, origin(r));
  sendXml(
    r,
    200,
    document('CopyObjectResult', [el('LastModified', isoTime(info.lastModified)), el('ETag', info.etag)]),
  );
}

/** `x-amz-copy-source-if-*`: every failed condition is 412 PreconditionFailed for a copy (never 304). */
async function checkCopyConditions(r: S3Request, source: { bucket: string; key: string }): Promise<void> {
  const h = r.req.headers;
  const ifMatch = h['x-amz-copy-source-if-match'];
  const ifNoneMatch = h['x-amz-copy-source-if-none-match'];
  const ifModified = h['x-amz-copy-source-if-modified-since'];
  const ifUnmodified = h['x-amz-copy-source-if-unmodified-since'];
  if ([ifMatch, ifNoneMatch, ifModified, ifUnmodified].every((v) => v === undefined)) return;
  const info = await r.buckets.headObject(source.bucket, source.key);
  if (info === undefined) {
    throw new NimbusError(
      'ResourceNotFoundException',
      `Copy source '${source.bucket}/${source.key}' does not exist.`,
    );
  }
  const modifiedS = Math.floor(info.lastModified / 1000) * 1000;
  const since = (v: unknown): number => Date.parse(String(v));
  const failed =
    (typeof ifMatch === 'string' && !etagListMatches(ifMatch, info.etag)) ||
    (typeof ifNoneMatch === 'string' && etagListMatches(ifNoneMatch, info.etag)) ||
    (ifMatch === undefined && ifUnmodified !== undefined && modifiedS > since(ifUnmodified)) ||
    (ifNoneMatch === undefined && ifModified !== undefined && modifiedS <= since(ifModified));
  if (failed) {
    throw new NimbusError(
      'PreconditionFailed',
      `At least one of the x-amz-copy-source-if-* conditions did not hold for ${source.bucket}/${source.key} (ETag ${info.etag}).`,
    );
  }
}
