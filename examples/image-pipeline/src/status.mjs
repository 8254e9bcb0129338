// GET /images/{id}: what the pipeline knows about an upload.
import { tables } from 'nimbus/sdk';

export const handler = async (event) => {
  const item = await tables.get('photos-results', { id: event.pathParameters.id });
  if (!item)
    return {
      statusCode: 404,
      body: JSON.stringify({ message: 'No such image (yet): analysis takes a moment.' }),
    };
  return { statusCode: 200, headers: { 'content-type': 'application/json' }, body: JSON.stringify(item) };
};
