// The SDK's resource clients from inside a sandboxed function: queues, topics, buckets and tables
// declared by the app work through the app token; an undeclared resource is refused.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { installLeakGuard } from '../helpers/leak-guard.js';
import { forEachStore } from '../helpers/test-stores.js';
import { startTestServer, type TestServer } from '../helpers/test-server.js';

const APP = {
  'nimbus.yml': [
    'app: sdkres',
    'functions:',
    '  use:',
    '    handler: use.handler',
    'resources:',
    '  queues: [sdk-jobs]',
    '  topics: [sdk-news]',
    '  buckets: [sdk-files]',
    '  tables:',
    '    sdk-docs: { partitionKey: id, sortKey: { name: n, type: number } }',
    '',
  ].join('\n'),
  'use.mjs': `
import { queues, topics, buckets, tables, NimbusSdkError } from 'nimbus/sdk';
export const handler = async (event) => {
  if (event.undeclared) {
    try { await queues.send('someone-elses', 'x'); return { denied: false }; }
    catch (err) { return { denied: err instanceof NimbusSdkError && err.code === 'AccessDeniedException' }; }
  }
  const sent = await queues.send('sdk-jobs', { job: 1 }, { attributes: { kind: 'test', n: 3 } });
  const [message] = await queues.receive('sdk-jobs', { max: 1, waitSeconds: 2 });
  await queues.delete('sdk-jobs', message.receiptHandle);
  const published = await topics.publish('sdk-news', { hello: 'world' }, { attributes: { lang: 'en' } });
  const put = await buckets.put('sdk-files', 'dir/a b.txt', 'hello bytes', { metadata: { owner: 'ada' } });
  const got = await buckets.get('sdk-files', 'dir/a b.txt');
  const listed = await buckets.list('sdk-files', { prefix: 'dir/' });
  await buckets.delete('sdk-files', 'dir/a b.txt');
  let missing;
  try { await buckets.get('sdk-files', 'dir/a b.txt'); } catch (err) { missing = err.code; }
  for (const n of [3, 1, 2]) await tables.put('sdk-docs', { id: 'p', n, v: 'v' + n });
  const item = await tables.get('sdk-docs', { id: 'p', n: 2 });
  const page = await tables.query('sdk-docs', { partition: 'p', sort: { ge: 2 } });
  const updated = await tables.update('sdk-docs', { id: 'p', n: 1 }, { set: { v: 'changed' } });
  let conflict;
  try { await tables.put('sdk-docs', { id: 'p', n: 1 }, { condition: 'attribute_not_exists(id)' }); } catch (err) { conflict = err.code; }
  return {
    sent: typeof sent.messageId, received: JSON.parse(message.body), attr: message.attributes.kind,
    published: typeof published.messageId,
    put: put.size, got: got.body.toString(), meta: got.metadata.owner, listed: listed.objects.map((o) => o.key), missing,
    item, sorted: page.items.map((i) => i.n), updated: updated.v, conflict,
  };
};
`,
};

installLeakGuard();
forEachStore((_name, open) => {
  let t: TestServer;
  before(async () => {
    t = await startTestServer({ store: await open() });
    await t.deployFiles(APP);
  });
  after(() => t.close());

  test('queues, topics, buckets and tables through the SDK from a sandboxed function', async () => {
    const res = await t.client.invoke('sdkres-use', { payload: '{}' });
    assert.equal(res.kind, 'sync');
    const body = res.kind === 'sync' ? res.body : '';
    assert.equal(res.kind === 'sync' ? res.functionError : 'x', undefined, body);
    assert.deepEqual(JSON.parse(body), {
      sent: 'string',
      received: { job: 1 },
      attr: { DataType: 'String', StringValue: 'test' },
      published: 'string',
      put: 11,
      got: 'hello bytes',
      meta: 'ada',
      listed: ['dir/a b.txt'],
      missing: 'ResourceNotFoundException',
      item: { id: 'p', n: 2, v: 'v2' },
      sorted: [2, 3],
      updated: 'changed',
      conflict: 'ConditionalCheckFailedException',
    });
  });

  test('a resource the app does not declare is refused', async () => {
    const res = await t.client.invoke('sdkres-use', { payload: '{"undeclared":true}' });
    assert.deepEqual(JSON.parse(res.kind === 'sync' ? res.body : ''), { denied: true });
  });
});
