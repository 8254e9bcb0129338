// S3 multipart uploads: Create, UploadPart, Complete, Abort, ListParts, ListMultipartUploads.

import { NimbusError } from '../../errors.js';
import { header } from '../http-io.js';
import { bucketOf, OWNER } from './s3-buckets.js';
import { keyOf } from './s3-objects.js';
import {
  checkedContentMd5,
  isoTime,
  putOptionsFromHeaders,
  readSmallBody,
  sendXml,
  uploadBody,
  withUpload,
  type S3Request,
} from './s3-request.js';
import { childText, childrenNamed, document, el, group, parseXml } from './s3-xml.js';

function uploadIdOf(r: S3Request): string {
  const id = r.query.get('uploadId');
  if (id === null || id === '')
    throw new NimbusError('InvalidParameterValueException', 'uploadId is required.');
  return id;
}

function intParam(r: S3Request, name: string, min: number, max: number, fallback: number): number {
  const raw = r.query.get(name);
  if (raw === null) return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < min || n > max) {
    throw new NimbusError(
      'InvalidParameterValueException',
      `${name} must be a whole number ${min}-${max}; got '${raw}'.`,
    );
  }
  return n;
}

/** `POST /<bucket>/<key>?uploads`. */
export async function createMultipartUpload(r: S3Request): Promise<void> {
  r.req.resume();
  const up = await r.buckets.createMultipartUpload(bucketOf(r), keyOf(r), putOptionsFromHeaders(r.req));
  sendXml(
    r,
    200,
    document('InitiateMultipartUploadResult', [
      el('Bucket', up.bucket),
      el('Key', up.key),
      el('UploadId', up.uploadId),
    ]),
  );
}

/** `PUT /<bucket>/<key>?partNumber=N&uploadId=X`. */
export async function uploadPart(r: S3Request): Promise<void> {
  if (r.req.headers['x-amz-copy-source'] !== undefined) {
    throw new NimbusError(
      'NotImplemented',
      'UploadPartCopy is not supported; upload the part bytes with UploadPart.',
    );
  }
  const partNumber = intParam(r, 'partNumber', 1, 10_000, 0);
  const contentMd5 = checkedContentMd5(r.req);
  const body = uploadBody(r);
  const part = await withUpload(body, () =>
    r.buckets.uploadPart(bucketOf(r), keyOf(r), uploadIdOf(r), partNumber, body.body, {
      contentLength: body.contentLength,
      contentMd5,
    }),
  );
  sendXml(r, 200, undefined, { etag: part.etag, ...body.checksumHeaders() });
}

/** `POST /<bucket>/<key>?uploadId=X` with the `<CompleteMultipartUpload>` part list. */
export async function completeMultipartUpload(r: S3Request): Promise<void> {
  const root = parseXml(await readSmallBody(r));
  if (root.name !== 'CompleteMultipartUpload') {
    throw new NimbusError(
      'MalformedXML',
      `The root element must be <CompleteMultipartUpload>, not <${root.name}>.`,
    );
  }
  const parts = childrenNamed(root, 'Part').map((p) => {
    const n = Number(childText(p, 'PartNumber')?.trim());
    const etag = childText(p, 'ETag')?.trim();
    if (!Number.isInteger(n) || etag === undefined) {
      throw new NimbusError('MalformedXML', 'Every <Part> needs a numeric <PartNumber> and an <ETag>.');
    }
    return { partNumber: n, etag: etag.startsWith('"') ? etag : `"${etag}"` };
  });
  if (parts.length === 0) {
    throw new NimbusError('MalformedXML', 'A CompleteMultipartUpload body must list at least one <Part>.');
  }
  const bucket = bucketOf(r);
  const key = keyOf(r);
  const info = await r.buckets.completeMultipartUpload(bucket, key, uploadIdOf(r), parts, {
    traceHeader: header(r.req, 'x-amzn-trace-id'),
  });
  const host = r.req.headers.host ?? 'localhost';
  sendXml(
    r,
    200,
    document('CompleteMultipartUploadResult', [
      el(
        'Location',
        `http://${host}/${encodeURIComponent(bucket)}/${key.split('/').map(encodeURIComponent).join('/')}`,
      ),
      el('Bucket', bucket),
      el('Key', key),
      el('ETag', info.etag),
    ]),
  );
}

/** `DELETE /<bucket>/<key>?uploadId=X`. */
export async function abortMultipartUpload(r: S3Request): Promise<void> {
  await r.buckets.abortMultipartUpload(bucketOf(r), keyOf(r), uploadIdOf(r));
  sendXml(r, 204, undefined);
}

/** `GET /<bucket>/<key>?uploadId=X`: the parts so far, paged by part-number-marker/max-parts. */
export async function listParts(r: S3Request): Promise<void> {
  const bucket = bucketOf(r);
  const key = keyOf(r);
  const uploadId = uploadIdOf(r);
  const marker = intParam(r, 'part-number-marker', 0, 10_000, 0);
  const max = intParam(r, 'max-parts', 0, 1000, 1000);
  const all = (await r.buckets.listParts(bucket, key, uploadId)).filter((p) => p.partNumber > marker);
  const shown = all.slice(0, max);
  const truncated = all.length > shown.length;
  sendXml(
    r,
    200,
    document('ListPartsResult', [
      el('Bucket', bucket),
      el('Key', key),
      el('UploadId', uploadId),
      group('Initiator', OWNER),
      group('Owner', OWNER),
      el('StorageClass', 'STANDARD'),
      el('PartNumberMarker', marker),
      el('NextPartNumberMarker', shown[shown.length - 1]?.partNumber ?? marker),
      el('MaxParts', max),
      el('IsTruncated', truncated),
      ...shown.map((p) =>
        group('Part', [
          el('PartNumber', p.partNumber),
          el('LastModified', isoTime(p.lastModified)),
          el('ETag', p.etag),
          el('Size', p.size),
        ]),
      ),
    ]),
  );
}

/** `GET /<bucket>?uploads`: uploads in progress (prefix filter; no paging beyond max-uploads). */
export async function listMultipartUploads(r: S3Request): Promise<void> {
  const bucket = bucketOf(r);
  const prefix = r.query.get('prefix') ?? undefined;
  const max = intParam(r, 'max-uploads', 0, 1000, 1000);
  const all = await r.buckets.listMultipartUploads(bucket, prefix);
  const shown = all.slice(0, max);
  sendXml(
    r,
    200,
    document('ListMultipartUploadsResult', [
      el('Bucket', bucket),
      el('KeyMarker', ''),
      el('UploadIdMarker', ''),
      el('Prefix', prefix ?? ''),
      el('MaxUploads', max),
      el('IsTruncated', all.length > shown.length),
      ...shown.map((u) =>
        group('Upload', [
          el('Key', u.key),
          el('UploadId', u.uploadId),
          group('Initiator', OWNER),
          group('Owner', OWNER),
          el('StorageClass', 'STANDARD'),
          el('Initiated', isoTime(u.initiatedAt)),
        ]),
      ),
    ]),
  );
}
