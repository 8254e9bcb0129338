// Schedule: delete uploads older than MAX_AGE_HOURS (their thumbnails and rows stay). A manual
// invocation may pass { "maxAgeHours": n } instead.
import { buckets } from 'nimbus/sdk';

export const handler = async (event) => {
  const hours = Number(event?.maxAgeHours ?? process.env.MAX_AGE_HOURS ?? 24);
  const cutoff = Date.now() - hours * 3_600_000;
  let deleted = 0;
  let continuationToken;
  do {
    const page = await buckets.list('photos-images', { prefix: 'uploads/', continuationToken });
    for (const object of page.objects) {
      if (Date.parse(object.lastModified) <= cutoff) {
        await buckets.delete('photos-images', object.key);
        deleted++;
      }
    }
    continuationToken = page.nextContinuationToken;
  } while (continuationToken);
  console.log(`cleanup: deleted ${deleted} upload(s)`);
  return { deleted };
};
