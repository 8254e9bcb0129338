// The image pipeline example end to end, on both stores: POST /images stores the upload in a
// bucket, the bucket event runs the analysis (a table row), the row's stream makes a thumbnail
// in another bucket, and the scheduled cleanup deletes old uploads.
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { after, before, test } from 'node:test';
import { GetObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { installLeakGuard } from '../helpers/leak-guard.js';
import { forEachStore } from '../helpers/test-stores.js';
import { startTestServer, type TestServer } from '../helpers/test-server.js';
// The example's own codec makes the test image and reads the thumbnail back.
// @ts-expect-error -- plain JavaScript module of the example, without type declarations
import { decodePng, encodePng } from '../../examples/image-pipeline/src/png.mjs';

interface Image {
  width: number;
  height: number;
  channels: number;
  pixels: Buffer;
}
const encode = encodePng as (image: Image) => Buffer;
const decode = decodePng as (bytes: Buffer) => Image | undefined;

const EXAMPLE = fileURLToPath(new URL('../../examples/image-pipeline', import.meta.url));

/** A 200×100 RGB gradient. */
function testImage(): Buffer {
  const width = 200;
  const height = 100;
  const pixels = Buffer.alloc(width * height * 3);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) pixels.set([x, y * 2, 128], (y * width + x) * 3);
  }
  return encode({ width, height, channels: 3, pixels });
}

/** A 3×2 GIF header is all the analysis reads. */
const GIF = Buffer.from('GIF89a\x03\x00\x02\x00\x00\x00\x00;', 'latin1');

installLeakGuard();
forEachStore((_name, open) => {
  let t: TestServer;
  let s3: S3Client;
  before(async () => {
    t = await startTestServer({ store: await open() });
    await t.deploy(EXAMPLE);
    s3 = new S3Client({
      endpoint: t.url,
      region: 'us-east-1',
      forcePathStyle: true,
      credentials: { accessKeyId: t.credentials.accessKeyId, secretAccessKey: t.credentials.secretAccessKey },
    });
  });
  after(async () => {
    s3.destroy();
    await t.close();
  });

  async function upload(body: Buffer, type: string): Promise<Response> {
    return fetch(`${t.url}/images`, { method: 'POST', headers: { 'content-type': type }, body });
  }

  async function waitFor(id: string, status: string): Promise<Record<string, unknown>> {
    const deadline = Date.now() + 30_000;
    let last: unknown;
    while (Date.now() < deadline) {
      const res = await fetch(`${t.url}/images/${id}`);
      if (res.status === 200) {
        last = await res.json();
        if ((last as { status?: string }).status === status) return last as Record<string, unknown>;
      } else {
        last = `${res.status} ${await res.text()}`;
      }
      await new Promise((r) => setTimeout(r, 100));
    }
    assert.fail(`image ${id} did not reach '${status}' in time; last answer: ${JSON.stringify(last)}`);
  }

  test('a PNG upload is analysed and gets a thumbnail', async () => {
    const res = await upload(testImage(), 'image/png');
    assert.equal(res.status, 202, await res.clone().text());
    const { id } = (await res.json()) as { id: string };
    const row = await waitFor(id, 'processed');
    assert.equal(row.format, 'png');
    assert.equal(row.width, 200);
    assert.equal(row.height, 100);
    assert.equal(row.thumbnail, `thumbnails/${id}.png`);
    const got = await s3.send(
      new GetObjectCommand({ Bucket: 'photos-derived', Key: `thumbnails/${id}.png` }),
    );
    assert.equal(got.ContentType, 'image/png');
    const thumb = decode(Buffer.from(await got.Body!.transformToByteArray()));
    assert.ok(thumb, 'the thumbnail is a PNG');
    assert.deepEqual([thumb.width, thumb.height], [64, 32]);
  });

  test('a GIF gets a JSON summary; a non-image is refused with 415', async () => {
    const res = await upload(GIF, 'image/gif');
    assert.equal(res.status, 202);
    const { id } = (await res.json()) as { id: string };
    const row = await waitFor(id, 'processed');
    assert.deepEqual([row.format, row.width, row.height], ['gif', 3, 2]);
    const got = await s3.send(
      new GetObjectCommand({ Bucket: 'photos-derived', Key: `thumbnails/${id}.json` }),
    );
    assert.deepEqual(JSON.parse(await got.Body!.transformToString()), {
      id,
      format: 'gif',
      width: 3,
      height: 2,
    });
    const refused = await upload(Buffer.from('hello'), 'text/plain');
    assert.equal(refused.status, 415);
  });

  test('the cleanup schedule is registered and deletes old uploads', async () => {
    const listed = (await (await t.fetchV1('/v1/schedules?app=photos')).json()) as {
      schedules: Array<{ id: string; expression: string; function: string; enabled: boolean }>;
    };
    assert.deepEqual(
      listed.schedules.map((s) => [s.function, s.expression, s.enabled]),
      [['photos-cleanup', 'rate(1 hour)', true]],
    );
    const uploads = async () =>
      (
        (await (await t.fetchV1('/v1/buckets/photos-images/objects?prefix=uploads/')).json()) as {
          objects: unknown[];
        }
      ).objects.length;
    assert.ok((await uploads()) >= 2, 'the earlier tests left uploads');
    // A scheduled run with the default age (24 h) keeps today's uploads...
    const run = await t.fetchV1(`/v1/schedules/${encodeURIComponent(listed.schedules[0]!.id)}/run`, {
      method: 'POST',
    });
    assert.equal(run.status, 202);
    const { invocationId } = (await run.json()) as { invocationId: string };
    const deadline = Date.now() + 20_000;
    let inv: { status: string; result?: unknown } = { status: 'queued' };
    while (Date.now() < deadline && inv.status !== 'succeeded' && inv.status !== 'failed') {
      await new Promise((r) => setTimeout(r, 100));
      inv = (await (await t.fetchV1(`/v1/invocations/${invocationId}`)).json()) as typeof inv;
    }
    assert.deepEqual(inv.result, { deleted: 0 });
    // ...and a manual run with maxAgeHours 0 deletes them all.
    const res = await t.client.invoke('photos-cleanup', { payload: '{"maxAgeHours":0}' });
    assert.equal(res.kind, 'sync');
    assert.ok(((JSON.parse(res.kind === 'sync' ? res.body : '') as { deleted: number }).deleted ?? 0) >= 2);
    assert.equal(await uploads(), 0);
  });
});
