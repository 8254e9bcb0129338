// S3 bucket operations: ListBuckets, CreateBucket, HeadBucket, DeleteBucket, GetBucketLocation.

import { NimbusError } from '../../errors.js';
import { sendXml, isoTime, type S3Request } from './s3-request.js';
import { document, el, group } from './s3-xml.js';

/** The owner S3 reports: Nimbus has one account per server. */
export const OWNER = [el('ID', 'nimbus'), el('DisplayName', 'nimbus')];

/** The bucket of a request that needs one. */
export function bucketOf(r: S3Request): string {
  if (r.bucket === undefined)
    throw new NimbusError(
      'InvalidRequestContentException',
      'This operation needs a bucket in the path (/<bucket>).',
    );
  return r.bucket;
}

/** `GET /`: every bucket. */
export async function listBuckets(r: S3Request): Promise<void> {
  const buckets = await r.buckets.listBuckets();
  const prefix = r.query.get('prefix') ?? '';
  const shown = buckets.filter((b) => b.name.startsWith(prefix)).sort((a, b) => (a.name < b.name ? -1 : 1));
  sendXml(
    r,
    200,
    document('ListAllMyBucketsResult', [
      group('Owner', OWNER),
      group(
        'Buckets',
        shown.map((b) =>
          group('Bucket', [
            el('Name', b.name),
            el('CreationDate', isoTime(b.createdAt)),
            el('BucketRegion', r.region),
          ]),
        ),
      ),
      el('Prefix', r.query.get('prefix') ?? undefined),
    ]),
  );
}

/** `PUT /<bucket>`: create (idempotent, as S3 in us-east-1 for the owner). The location body is ignored. */
export async function createBucket(r: S3Request): Promise<void> {
  r.req.resume();
  await r.buckets.createBucket(bucketOf(r));
  sendXml(r, 200, undefined, { location: `/${bucketOf(r)}` });
}

/** `HEAD /<bucket>`. */
export async function headBucket(r: S3Request): Promise<void> {
  const b = await r.buckets.getBucket(bucketOf(r));
  if (b === undefined)
    throw new NimbusError('ResourceNotFoundException', `Bucket '${bucketOf(r)}' does not exist.`);
  sendXml(r, 200, undefined, { 'x-amz-bucket-region': r.region });
}

/** `DELETE /<bucket>`: fails with BucketNotEmpty while objects remain. */
export async function deleteBucket(r: S3Request): Promise<void> {
  const existed = await r.buckets.deleteBucket(bucketOf(r));
  if (!existed) throw new NimbusError('ResourceNotFoundException', `Bucket '${bucketOf(r)}' does not exist.`);
  sendXml(r, 204, undefined);
}

/** `GET /<bucket>?location`: empty for us-east-1, as S3 answers. */
export async function getBucketLocation(r: S3Request): Promise<void> {
  const b = await r.buckets.getBucket(bucketOf(r));
  if (b === undefined)
    throw new NimbusError('ResourceNotFoundException', `Bucket '${bucketOf(r)}' does not exist.`);
  const xml = `<?xml version="1.0" encoding="UTF-8"?>\n<LocationConstraint xmlns="http://s3.amazonaws.com/doc/2006-03-01/">${
    r.region === 'us-east-1' ? '' : r.region
  }</LocationConstraint>`;
  sendXml(r, 200, xml);
}
