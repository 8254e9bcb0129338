// POST /images: store the uploaded image in the bucket; the bucket event starts the analysis.
import { randomUUID } from 'node:crypto';
import { buckets } from 'nimbus/sdk';

const EXTENSIONS = { 'image/png': 'png', 'image/jpeg': 'jpg', 'image/gif': 'gif' };
const json = (statusCode, body, headers = {}) => ({
  statusCode,
  headers: { 'content-type': 'application/json', ...headers },
  body: JSON.stringify(body),
});

export const handler = async (event) => {
  const type = (event.headers?.['content-type'] ?? '').split(';')[0].trim().toLowerCase();
  const ext = EXTENSIONS[type];
  if (!ext) {
    return json(415, {
      message: `Send the image as the body with Content-Type ${Object.keys(EXTENSIONS).join(', ')}.`,
    });
  }
  const body = Buffer.from(event.body ?? '', event.isBase64Encoded ? 'base64' : 'utf8');
  if (body.length === 0) return json(400, { message: 'The body is empty; send the image bytes.' });
  const id = randomUUID();
  await buckets.put('photos-images', `uploads/${id}.${ext}`, body, { contentType: type, metadata: { id } });
  return json(202, { id, status: `/images/${id}` }, { location: `/images/${id}` });
};
