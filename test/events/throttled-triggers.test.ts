// Throttling loses nothing, for every trigger kind, on every store: one function with
// maxConcurrency 1 is fed at once by a queue trigger (four pollers), a topic, a bucket and a
// table stream, so most invocations are throttled at first (a 1 ms acquire timeout). Every
// message, publish, upload and table write is processed; none is dead-lettered or skipped.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { installLeakGuard } from '../helpers/leak-guard.js';
import { startTestServer, type TestServer } from '../helpers/test-server.js';
import { forEachStore } from '../helpers/test-stores.js';

installLeakGuard();

const N = 15;

const APP = {
  'nimbus.yml': `app: thr
functions:
  work:
    handler: index.work
    maxConcurrency: 1
    maximumRetryAttempts: 0
    events:
      - queue: { queue: jobs, batchSize: 1, maxConcurrency: 4 }
      - topic: news
      - bucket: uploads
      - table: { table: items, batchSize: 1, maximumRetryAttempts: 0 }
resources:
  queues:
    # A throttled batch that went back to the queue would be received a second time: dead-lettered.
    jobs: { visibilityTimeout: 1, deadLetter: { queue: jobs-dlq, maxReceiveCount: 1 } }
  topics: { news: {} }
  buckets: { uploads: {} }
  tables: { items: { partitionKey: id } }
`,
  'index.mjs': `
export const work = async (event) => {
  await new Promise((r) => setTimeout(r, 10));
  for (const r of event.Records ?? []) {
    const what = r.body !== undefined ? 'queue ' + r.body
      : r.Sns !== undefined ? 'topic ' + r.Sns.Message
      : r.s3 !== undefined ? 'bucket ' + r.s3.object.key
      : 'table ' + r.dynamodb.Keys.id.S;
    console.log('GOT ' + what);
  }
  return {};
};
`,
};

async function v1(t: TestServer, method: string, path: string, body: string, type = 'application/json') {
  const res = await t.fetchV1(path, { method, headers: { 'content-type': type }, body });
  assert.ok(res.status < 300, `${method} ${path}: ${res.status} ${await res.text()}`);
}

/** The records the function logged, as `<kind> <id>`, without repeats. */
async function processed(t: TestServer): Promise<Set<string>> {
  const res = await t.fetchV1('/v1/functions/thr-work/logs?limit=10000');
  const { lines } = (await res.json()) as { lines: Array<{ message: string }> };
  return new Set(lines.flatMap((l) => /GOT (\w+ \S+)/.exec(l.message)?.[1] ?? []));
}

forEachStore((_name, open) => {
  test('queue, topic, bucket and table triggers of a throttled function lose nothing', async () => {
    const t = await startTestServer({
      store: await open(),
      acquireTimeoutMs: 1,
      async: { platformRetryBaseMs: 50, platformRetryMaxMs: 1000 },
    });
    try {
      await t.deployFiles(APP);
      const expected = new Set<string>();
      const sends: Array<Promise<void>> = [];
      for (let i = 0; i < N; i++) {
        for (const kind of ['queue', 'topic', 'bucket', 'table']) expected.add(`${kind} ${kind[0]}${i}`);
        sends.push(
          v1(t, 'POST', '/v1/queues/jobs/messages', JSON.stringify({ body: `q${i}` })),
          v1(t, 'POST', '/v1/topics/news/publish', JSON.stringify({ message: `t${i}` })),
          v1(t, 'PUT', `/v1/buckets/uploads/objects/b${i}`, 'x', 'text/plain'),
          v1(t, 'PUT', '/v1/tables/items/items', JSON.stringify({ item: { id: `t${i}` } })),
        );
      }
      await Promise.all(sends);
      const want = expected;
      let seen = new Set<string>();
      const deadline = Date.now() + 60_000;
      while (Date.now() < deadline) {
        seen = await processed(t);
        if ([...want].every((w) => seen.has(w))) break;
        await new Promise((r) => setTimeout(r, 200));
      }
      assert.deepEqual(
        [...want].filter((w) => !seen.has(w)),
        [],
        'every message, publish, upload and table write was processed',
      );
      const dlq = (await (await t.fetchV1('/v1/queues/jobs-dlq')).json()) as {
        counts: { visible: number; inFlight: number; delayed: number };
      };
      assert.deepEqual(dlq.counts, { visible: 0, inFlight: 0, delayed: 0 }, 'nothing was dead-lettered');
    } finally {
      await t.close();
    }
  });
});
