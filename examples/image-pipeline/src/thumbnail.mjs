// Table stream: for each newly analyzed image, write a thumbnail (PNG) or a JSON summary (other
// formats) to the derived bucket, and mark the row processed.
import { buckets, tables } from 'nimbus/sdk';
import { decodePng, encodePng, thumbnail } from './png.mjs';

/** Stream images are DynamoDB-typed ({ S: 'x' }, { N: '1' }, ...): turn them into plain values. */
function plain(value) {
  if ('S' in value) return value.S;
  if ('N' in value) return Number(value.N);
  if ('BOOL' in value) return value.BOOL;
  if ('NULL' in value) return null;
  if ('L' in value) return value.L.map(plain);
  if ('M' in value) return Object.fromEntries(Object.entries(value.M).map(([k, v]) => [k, plain(v)]));
  return undefined;
}

export const handler = async (event) => {
  for (const record of event.Records) {
    if (record.eventName !== 'INSERT') continue;
    const row = plain({ M: record.dynamodb.NewImage });
    if (row.status !== 'analyzed') continue;
    const { body } = await buckets.get('photos-images', row.key);
    const image = row.format === 'png' ? decodePng(body) : undefined;
    let derived;
    if (image) {
      derived = `thumbnails/${row.id}.png`;
      await buckets.put('photos-derived', derived, encodePng(thumbnail(image, 64)), {
        contentType: 'image/png',
      });
    } else {
      derived = `thumbnails/${row.id}.json`;
      const summary = { id: row.id, format: row.format, width: row.width, height: row.height };
      await buckets.put('photos-derived', derived, JSON.stringify(summary), {
        contentType: 'application/json',
      });
    }
    await tables.put('photos-results', { ...row, status: 'processed', thumbnail: derived });
  }
};
