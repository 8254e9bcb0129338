// Bucket event (ObjectCreated under uploads/): read the image, record what it is in the table.
import { createHash } from 'node:crypto';
import { buckets, tables } from 'nimbus/sdk';
import { imageInfo } from './image-info.mjs';

export const handler = async (event) => {
  for (const record of event.Records) {
    const bucket = record.s3.bucket.name;
    // S3 event keys are URL-encoded with '+' for spaces.
    const key = decodeURIComponent(record.s3.object.key.replace(/\+/g, ' '));
    const id = key.slice(key.lastIndexOf('/') + 1).replace(/\.[^.]+$/, '');
    const { body } = await buckets.get(bucket, key);
    const info = imageInfo(body);
    await tables.put('photos-results', {
      id,
      key,
      bytes: body.length,
      sha256: createHash('sha256').update(body).digest('hex'),
      format: info?.format ?? 'unknown',
      width: info?.width ?? 0,
      height: info?.height ?? 0,
      status: info ? 'analyzed' : 'rejected',
      analyzedAt: new Date().toISOString(),
    });
    console.log(`analyzed ${key}: ${info ? `${info.format} ${info.width}x${info.height}` : 'not an image'}`);
  }
};
