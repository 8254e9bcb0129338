// TopicStore contract, run against every store backend: topics, subscriptions replaced by
// deploys, and leased webhook deliveries.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { NewDelivery, SubscriptionRecord } from '../../src/store/ports/topics.js';
import { installLeakGuard } from '../helpers/leak-guard.js';
import { forEachStore } from '../helpers/test-stores.js';

installLeakGuard();

let n = 0;
const sub = (over: Partial<SubscriptionRecord> = {}): SubscriptionRecord => ({
  id: `sub-${++n}`,
  topic: 'updates',
  protocol: 'queue',
  endpoint: 'jobs',
  filterPolicyScope: 'MessageAttributes',
  rawMessageDelivery: false,
  createdAt: Date.now() + n,
  ...over,
});
const delivery = (over: Partial<NewDelivery> = {}): NewDelivery => ({
  id: `d-${++n}`,
  subscriptionId: 'sub-x',
  topic: 'updates',
  messageId: `m-${n}`,
  protocol: 'webhook',
  endpoint: 'http://127.0.0.1:1/hook',
  body: Buffer.from('{"a":1}'),
  maxAttempts: 3,
  ...over,
});

forEachStore((_name, open) => {
  test('topics: create is idempotent, list by prefix, delete takes subscriptions and deliveries', async () => {
    const store = await open();
    const t = store.topics;
    const first = await t.createTopic('updates', 'shop');
    assert.equal(first.created, true);
    assert.equal(first.topic.ownerApp, 'shop');
    const again = await t.createTopic('updates');
    assert.equal(again.created, false);
    assert.equal(again.topic.ownerApp, 'shop');
    await t.createTopic('orders_1');
    await t.createTopic('orders%');
    assert.deepEqual(
      (await t.listTopics()).map((x) => x.name),
      ['orders%', 'orders_1', 'updates'],
    );
    assert.deepEqual(
      (await t.listTopics('orders_')).map((x) => x.name),
      ['orders_1'],
      '_ is not a pattern',
    );
    await t.addSubscription(sub({ id: 's1' }));
    await t.addDeliveries([delivery({ subscriptionId: 's1' })]);
    assert.equal(await t.deleteTopic('updates'), true);
    assert.equal(await t.deleteTopic('updates'), false);
    assert.equal(await t.getTopic('updates'), undefined);
    assert.equal(await t.getSubscription('s1'), undefined);
    assert.deepEqual(await t.listDeliveries('updates'), []);
  });

  test('subscriptions: round trip of every field; delete drops unfinished deliveries only', async () => {
    const store = await open();
    const t = store.topics;
    const s = sub({
      id: 's-all',
      protocol: 'webhook',
      endpoint: 'https://example.com/h',
      filterPolicy: '{"a":["b"]}',
      filterPolicyScope: 'MessageBody',
      rawMessageDelivery: true,
      deliveryPolicy: '{"maxAttempts":2}',
      ownerApp: 'shop',
      ownerFunction: 'shop-work',
      secret: 'whsec_x',
    });
    await t.addSubscription(s);
    assert.deepEqual(await t.getSubscription('s-all'), s);
    await t.addDeliveries([
      delivery({ id: 'pending-1', subscriptionId: 's-all' }),
      delivery({ id: 'failed-1', subscriptionId: 's-all', failedWith: 'gone' }),
    ]);
    assert.equal(await t.deleteSubscription('s-all'), true);
    assert.equal(await t.deleteSubscription('s-all'), false);
    assert.equal(await t.getDelivery('pending-1'), undefined);
    assert.equal(
      (await t.getDelivery('failed-1'))?.status,
      'failed',
      'finished deliveries stay for the record',
    );
  });

  test('replaceAppSubscriptions keeps id and secret of the same subscription, replaces the rest', async () => {
    const store = await open();
    const t = store.topics;
    await t.addSubscription(sub({ id: 'manual', endpoint: 'other' }));
    await t.replaceAppSubscriptions(
      'shop',
      [
        sub({ id: 'w1', protocol: 'webhook', endpoint: 'https://e/h', secret: 'first-secret' }),
        sub({ id: 'f1', protocol: 'function', endpoint: 'shop-a', ownerFunction: 'shop-a' }),
        sub({ id: 'f2', protocol: 'function', endpoint: 'shop-b', ownerFunction: 'shop-b' }),
      ],
      { all: true },
    );
    await t.replaceAppSubscriptions(
      'shop',
      [
        sub({
          id: 'w1-new',
          protocol: 'webhook',
          endpoint: 'https://e/h',
          secret: undefined,
          filterPolicy: '{"x":["y"]}',
        }),
        sub({ id: 'f1-new', protocol: 'function', endpoint: 'shop-a', ownerFunction: 'shop-a' }),
      ],
      { all: true },
    );
    const all = await t.listSubscriptions('updates');
    const byEndpoint = new Map(all.map((s) => [s.endpoint, s]));
    assert.deepEqual([...byEndpoint.keys()].sort(), ['https://e/h', 'other', 'shop-a']);
    assert.equal(byEndpoint.get('https://e/h')!.id, 'w1');
    assert.equal(byEndpoint.get('https://e/h')!.secret, 'first-secret');
    assert.equal(byEndpoint.get('https://e/h')!.filterPolicy, '{"x":["y"]}');
    assert.equal(byEndpoint.get('shop-a')!.id, 'f1');
    assert.equal(byEndpoint.get('other')!.ownerApp, undefined, 'manual subscriptions are not the app’s');

    // Partial deploy: only shop-b's triggers and resources of topic 'other-topic' are in scope.
    await t.replaceAppSubscriptions(
      'shop',
      [sub({ id: 'f3', protocol: 'function', endpoint: 'shop-b', ownerFunction: 'shop-b' })],
      { all: false, functions: ['shop-b'], topics: ['other-topic'] },
    );
    assert.deepEqual((await t.listSubscriptions()).map((s) => s.id).sort(), ['f1', 'f3', 'manual', 'w1']);
    assert.equal(await t.deleteAppSubscriptions('shop', 'shop-b'), 1);
    assert.equal(await t.deleteAppSubscriptions('shop'), 2);
    assert.deepEqual(
      (await t.listSubscriptions()).map((s) => s.id),
      ['manual'],
    );
  });

  test('deliveries: claim with lease, release with backoff and refund, complete, requeue', async () => {
    const store = await open();
    const t = store.topics;
    await t.addDeliveries([
      delivery({ id: 'a' }),
      delivery({ id: 'b' }),
      delivery({ id: 'gone', failedWith: 'no queue' }),
    ]);
    const claimed = await t.claimDeliveries(10, 60_000);
    assert.deepEqual(claimed.map((d) => d.id).sort(), ['a', 'b'], 'failed ones are never claimed');
    assert.ok(claimed.every((d) => d.status === 'running' && d.attempts === 1));
    assert.equal(Buffer.compare(claimed[0]!.body, Buffer.from('{"a":1}')), 0);
    assert.deepEqual(await t.claimDeliveries(10, 60_000), [], 'leased rows are not claimed again');

    await t.releaseDelivery('a', Date.now() + 60_000, { lastStatus: 500, error: 'HTTP 500' });
    assert.deepEqual(await t.claimDeliveries(10, 60_000), [], 'not due yet');
    const a = await t.getDelivery('a');
    assert.equal(a?.status, 'pending');
    assert.equal(a?.lastStatus, 500);
    assert.equal(a?.lastError, 'HTTP 500');

    await t.releaseDelivery('b', Date.now(), { refund: true });
    const again = await t.claimDeliveries(10, 60_000);
    assert.deepEqual(
      again.map((d) => [d.id, d.attempts]),
      [['b', 1]],
      'a refunded attempt is not counted',
    );

    await t.completeDelivery('b', { status: 'delivered', lastStatus: 204 });
    const b = await t.getDelivery('b');
    assert.equal(b?.status, 'delivered');
    assert.ok(b?.finishedAt !== undefined);

    await t.addDeliveries([delivery({ id: 'c' })]);
    await t.claimDeliveries(10, 60_000);
    assert.equal(await t.requeueRunningDeliveries(), 1);
    assert.deepEqual(
      (await t.claimDeliveries(10, 60_000)).map((d) => [d.id, d.attempts]),
      [['c', 2]],
    );

    await t.addDeliveries([delivery({ id: 'expired' })]);
    await t.claimDeliveries(10, -1); // a lease that has already run out: a crashed claimer
    assert.deepEqual(
      (await t.claimDeliveries(10, 60_000)).map((d) => d.id),
      ['expired'],
    );

    assert.deepEqual(
      (await t.listDeliveries('updates', { status: 'failed' })).map((d) => d.id),
      ['gone'],
    );
    assert.equal((await t.listDeliveries('updates', { limit: 2 })).length, 2);
  });

  test('a publish with more deliveries than one statement takes stores them all', async () => {
    const store = await open();
    await store.topics.addDeliveries(
      Array.from({ length: 1203 }, (_, i) => delivery({ id: `big${i}`, topic: 'big' })),
    );
    assert.equal((await store.topics.listDeliveries('big', { limit: 2000 })).length, 1203);
  });

  test('concurrent claims never hand out the same delivery twice', async () => {
    const store = await open();
    const t = store.topics;
    await t.addDeliveries(Array.from({ length: 40 }, (_, i) => delivery({ id: `c${i}` })));
    const batches = await Promise.all(Array.from({ length: 8 }, () => t.claimDeliveries(7, 60_000)));
    const ids = batches.flat().map((d) => d.id);
    assert.equal(new Set(ids).size, ids.length, 'no duplicates');
    assert.equal(ids.length, 40);
  });
});
