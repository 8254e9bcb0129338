// Bucket events end to end on a real server, per store: nimbus.yml triggers (bucket: and s3:
// forms, prefix/suffix filters) invoke deployed functions with S3 event records.
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import type { Store } from '../../../src/store/store.js';
import { installLeakGuard } from '../../helpers/leak-guard.js';
import { startTestServer, type TestServer } from '../../helpers/test-server.js';
import { forEachStore } from '../../helpers/test-stores.js';

const servers: TestServer[] = [];
after(async () => {
  for (const s of servers) await s.close();
});
installLeakGuard();

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const APP = {
  'nimbus.yml': `app: photos
functions:
  thumbs:
    handler: index.thumbs
    runtime: nodejs
    events:
      - bucket: { bucket: images, on: created, prefix: uploads/, suffix: .jpg }
  cleanup:
    handler: index.cleanup
    runtime: nodejs
    events:
      - s3:
          bucket: images
          event: s3:ObjectRemoved:*
          rules:
            - prefix: uploads/
resources:
  buckets: [images, archive]
`,
  'index.js': `
exports.thumbs = async (event) => { console.log('THUMB ' + JSON.stringify(event)); return 'ok'; };
exports.cleanup = async (event) => { console.log('CLEAN ' + JSON.stringify(event)); return 'ok'; };
`,
};

interface S3Event {
  Records: Array<{
    eventSource: string;
    eventName: string;
    s3: { bucket: { name: string }; object: { key: string; size?: number; eTag?: string } };
  }>;
}

/** Events a function logged with `tag`, waiting until there are at least `count`. */
async function logged(store: Store, fn: string, tag: string, count: number): Promise<S3Event[]> {
  let events: S3Event[] = [];
  for (let i = 0; i < 500; i++) {
    const lines = await store.logs.query({ functionName: fn });
    events = lines
      .filter((l) => l.message.includes(`${tag} {`))
      .map((l) => JSON.parse(l.message.slice(l.message.indexOf(`${tag} `) + tag.length + 1)) as S3Event);
    if (events.length >= count) return events;
    await sleep(20);
  }
  return events;
}

forEachStore((_name, open) => {
  test('deployed bucket triggers invoke functions with S3 records, filtered by prefix, suffix and event', async () => {
    const store = await open();
    const t = await startTestServer({ store });
    servers.push(t);
    await t.deployFiles(APP);
    const buckets = ((await (await t.fetchV1('/v1/buckets')).json()) as { buckets: Array<{ name: string }> })
      .buckets;
    assert.deepEqual(
      buckets.map((b) => b.name),
      ['archive', 'images'],
    );
    const put = async (key: string, text: string) => {
      const res = await t.fetchV1(`/v1/buckets/images/objects/${encodeURIComponent(key)}`, {
        method: 'PUT',
        body: text,
      });
      assert.equal(res.status, 200);
      return ((await res.json()) as { etag: string }).etag;
    };
    const etag = await put('uploads/cat.jpg', 'meow');
    await put('uploads/readme.txt', 'no');
    await put('elsewhere/dog.jpg', 'no');
    const del = await t.fetchV1(`/v1/buckets/images/objects/${encodeURIComponent('uploads/readme.txt')}`, {
      method: 'DELETE',
    });
    assert.equal(del.status, 204);

    const thumbs = await logged(store, 'photos-thumbs', 'THUMB', 1);
    const cleanups = await logged(store, 'photos-cleanup', 'CLEAN', 1);
    await sleep(300); // anything unexpected would arrive by now
    const thumbsAfter = await logged(store, 'photos-thumbs', 'THUMB', 1);
    assert.equal(thumbsAfter.length, 1, 'only uploads/*.jpg reaches thumbs');
    const r = thumbs[0]!.Records[0]!;
    assert.equal(r.eventSource, 'aws:s3');
    assert.equal(r.eventName, 'ObjectCreated:Put');
    assert.equal(r.s3.bucket.name, 'images');
    assert.equal(r.s3.object.key, 'uploads/cat.jpg');
    assert.equal(r.s3.object.size, 4);
    assert.equal(r.s3.object.eTag, etag.replace(/"/g, ''));
    assert.equal(cleanups.length, 1);
    assert.equal(cleanups[0]!.Records[0]!.eventName, 'ObjectRemoved:Delete');
    assert.equal(cleanups[0]!.Records[0]!.s3.object.key, 'uploads/readme.txt');
  });

  test('a trigger with a bad event type refuses the deploy and names the fix', async () => {
    const t = await startTestServer({ store: await open() });
    servers.push(t);
    await assert.rejects(
      t.deployFiles({
        'nimbus.yml': `app: bad
functions:
  f:
    handler: index.f
    runtime: nodejs
    events:
      - bucket: { bucket: images, on: changed }
`,
        'index.js': 'exports.f = async () => 1;',
      }),
      /functions\.f\.events\[0\]\.bucket\.on: 'changed' is not a bucket event/,
    );
    const buckets = ((await (await t.fetchV1('/v1/buckets')).json()) as { buckets: unknown[] }).buckets;
    assert.deepEqual(buckets, []);
  });
});
