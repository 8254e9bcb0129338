// S3 object listings: ListObjectsV2 (`list-type=2`) and ListObjects v1 (`marker`).

import { NimbusError } from '../../errors.js';
import type { ObjectInfo } from '../../services/buckets/bucket-types.js';
import { bucketOf, OWNER } from './s3-buckets.js';
import { isoTime, sendXml, type S3Request } from './s3-request.js';
import { document, el, group, type XmlChild } from './s3-xml.js';

function maxKeysOf(r: S3Request): number {
  const raw = r.query.get('max-keys');
  if (raw === null) return 1000;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 0) {
    throw new NimbusError(
      'InvalidParameterValueException',
      `max-keys must be a whole number 0-1000; got '${raw}'.`,
    );
  }
  return Math.min(n, 1000);
}

/** S3's `encoding-type=url`: keys and prefixes percent-encoded (so control characters survive XML). */
function encoder(r: S3Request): (s: string | undefined) => string | undefined {
  const type = r.query.get('encoding-type');
  if (type === null) return (s) => s;
  if (type !== 'url') {
    throw new NimbusError('InvalidParameterValueException', `encoding-type must be 'url'; got '${type}'.`);
  }
  return (s) => (s === undefined ? undefined : encodeURIComponent(s).replace(/%2F/g, '/'));
}

function contents(o: ObjectInfo, enc: (s: string) => string | undefined, withOwner: boolean): string {
  return group('Contents', [
    el('Key', enc(o.key)),
    el('LastModified', isoTime(o.lastModified)),
    el('ETag', o.etag),
    el('Size', o.size),
    withOwner ? group('Owner', OWNER) : undefined,
    el('StorageClass', 'STANDARD'),
  ]);
}

const param = (r: S3Request, name: string): string | undefined => r.query.get(name) ?? undefined;

/** `GET /<bucket>?list-type=2`. */
export async function listObjectsV2(r: S3Request): Promise<void> {
  const bucket = bucketOf(r);
  const maxKeys = maxKeysOf(r);
  const enc = encoder(r);
  const prefix = param(r, 'prefix');
  const delimiter = param(r, 'delimiter');
  const token = param(r, 'continuation-token');
  const startAfter = param(r, 'start-after');
  const page =
    maxKeys === 0
      ? { objects: [], commonPrefixes: [], isTruncated: false, nextContinuationToken: undefined }
      : await r.buckets.listObjects(bucket, {
          prefix: prefix === '' ? undefined : prefix,
          delimiter: delimiter === '' ? undefined : delimiter,
          maxKeys,
          continuationToken: token,
          startAfter,
        });
  const withOwner = r.query.get('fetch-owner') === 'true';
  const children: XmlChild[] = [
    el('Name', bucket),
    el('Prefix', enc(prefix ?? '')),
    el('Delimiter', enc(delimiter)),
    el('MaxKeys', maxKeys),
    el('EncodingType', r.query.get('encoding-type') ?? undefined),
    el('KeyCount', page.objects.length + page.commonPrefixes.length),
    el('IsTruncated', page.isTruncated),
    el('ContinuationToken', token),
    el('NextContinuationToken', page.isTruncated ? page.nextContinuationToken : undefined),
    el('StartAfter', enc(startAfter)),
    ...page.objects.map((o) => contents(o, (s) => enc(s), withOwner)),
    ...page.commonPrefixes.map((p) => group('CommonPrefixes', [el('Prefix', enc(p))])),
  ];
  sendXml(r, 200, document('ListBucketResult', children));
}

/**
 * `GET /<bucket>` (v1). `marker` is a key to list after; NextMarker is the last key or common
 * prefix returned. A marker that is a common prefix (ends with the delimiter) skips everything
 * under it, as S3 does, by listing after the prefix's last possible key.
 */
export async function listObjectsV1(r: S3Request): Promise<void> {
  const bucket = bucketOf(r);
  const maxKeys = maxKeysOf(r);
  const enc = encoder(r);
  const prefix = param(r, 'prefix');
  const delimiter = param(r, 'delimiter');
  const marker = param(r, 'marker');
  let startAfter = marker;
  if (marker !== undefined && delimiter !== undefined && delimiter !== '' && marker.endsWith(delimiter)) {
    startAfter = marker + '\u{10ffff}';
  }
  const page =
    maxKeys === 0
      ? { objects: [], commonPrefixes: [], isTruncated: false }
      : await r.buckets.listObjects(bucket, {
          prefix: prefix === '' ? undefined : prefix,
          delimiter: delimiter === '' ? undefined : delimiter,
          maxKeys,
          startAfter,
        });
  // The page interleaves keys and prefixes in key order; the later of the two last ones is the marker.
  const lastKey = page.objects[page.objects.length - 1]?.key;
  const lastPrefix = page.commonPrefixes[page.commonPrefixes.length - 1];
  const nextMarker =
    lastPrefix !== undefined && (lastKey === undefined || lastPrefix > lastKey) ? lastPrefix : lastKey;
  const children: XmlChild[] = [
    el('Name', bucket),
    el('Prefix', enc(prefix ?? '')),
    el('Marker', enc(marker ?? '')),
    el('NextMarker', page.isTruncated ? enc(nextMarker) : undefined),
    el('MaxKeys', maxKeys),
    el('Delimiter', enc(delimiter)),
    el('EncodingType', r.query.get('encoding-type') ?? undefined),
    el('IsTruncated', page.isTruncated),
    ...page.objects.map((o) => contents(o, (s) => enc(s), true)),
    ...page.commonPrefixes.map((p) => group('CommonPrefixes', [el('Prefix', enc(p))])),
  ];
  sendXml(r, 200, document('ListBucketResult', children));
}
