// `nimbus topics` in-process against a real server: create, subscribe, publish, list, unsubscribe, rm.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { installLeakGuard } from '../helpers/leak-guard.js';
import { startTestServer, type TestServer } from '../helpers/test-server.js';
import { run } from './cli-test-io.js';

let t: TestServer;
let env: Record<string, string>;
before(async () => {
  t = await startTestServer();
  env = { NIMBUS_ENDPOINT: t.url, NIMBUS_TOKEN: t.credentials.token };
});
after(() => t.close());
installLeakGuard();

test('topics create, subscribe a queue with a filter, publish with attributes, list, unsubscribe, rm', async () => {
  await t.server.platform.queues.createQueue('inbox');
  const created = await run(['topics', 'create', 'news'], { env });
  assert.equal(created.code, 0, created.stderr);
  assert.match(created.stdout, /topic news \(arn:aws:sns:[^:]+:\d{12}:news\)/);

  const sub = await run(
    [
      'topics',
      'subscribe',
      'news',
      '--queue',
      'inbox',
      '--filter',
      '{"n":[{"numeric":[">",1]}]}',
      '--raw',
      '--json',
    ],
    { env },
  );
  assert.equal(sub.code, 0, sub.stderr);
  const { id } = JSON.parse(sub.stdout) as { id: string };

  assert.equal((await run(['topics', 'publish', 'news', 'one', '--attr', 'n:Number=1'], { env })).code, 0);
  const published = await run(
    ['topics', 'publish', 'news', 'two', '--attr', 'n:Number=2', '--attr', 'who=me'],
    { env },
  );
  assert.equal(published.code, 0, published.stderr);
  // Only the message id on stdout, so `id=$(nimbus topics publish …)` captures it.
  assert.match(published.stdout, /^[0-9a-f-]{36}\n$/);
  assert.match(published.stderr, /published to news/);
  const got = await t.server.platform.queues.receiveMessages('inbox', { maxMessages: 10 });
  assert.deepEqual(
    got.map((m) => m.body),
    ['two'],
    'the filter let only n > 1 through',
  );
  assert.equal(got[0]!.attributes.who?.StringValue, 'me');

  const listed = await run(['topics', 'subscriptions', 'news'], { env });
  assert.match(listed.stdout, new RegExp(`${id}\\s+queue\\s+inbox`));
  assert.match((await run(['topics', 'ls'], { env })).stdout, /^news\s/m);

  assert.equal((await run(['topics', 'unsubscribe', 'news', id], { env })).code, 0);
  assert.match((await run(['topics', 'subscriptions', 'news'], { env })).stdout, /no subscriptions/);
  assert.equal((await run(['topics', 'rm', 'news'], { env })).code, 0);
  const gone = await run(['topics', 'publish', 'news', 'x'], { env });
  assert.equal(gone.code, 1);
  assert.match(gone.stderr, /nimbus topics create news/);
});

test('topics subscribe prints only the subscription id on stdout; the signing secret on stderr', async () => {
  assert.equal((await run(['topics', 'create', 'hooks'], { env })).code, 0);
  const r = await run(['topics', 'subscribe', 'hooks', '--webhook', 'https://example.com/hook'], { env });
  assert.equal(r.code, 0, r.stderr);
  const [sub] = await t.server.platform.topics.listSubscriptions('hooks');
  assert.equal(r.stdout, `${sub!.id}\n`);
  assert.match(r.stderr, /subscribed webhook https:\/\/example\.com\/hook to hooks/);
  assert.match(r.stderr, /signing secret: whsec_/);
  assert.equal((await run(['topics', 'rm', 'hooks'], { env })).code, 0);
});

test('usage errors explain themselves', async () => {
  const none = await run(['topics', 'subscribe', 'news'], { env });
  assert.equal(none.code, 2);
  assert.match(none.stderr, /exactly one of --function, --queue or --webhook/);
  const badFilter = await run(['topics', 'subscribe', 'news', '--queue', 'q', '--filter', '{oops'], { env });
  assert.equal(badFilter.code, 2);
  assert.match(badFilter.stderr, /--filter must be JSON/);
  const missing = await run(['topics', 'publish', 'news'], { env });
  assert.equal(missing.code, 2);
  assert.match(missing.stderr, /missing argument: <topic> <message>/);
});
