// Topics end to end on a real server, per store: fan-out to functions (SNS event shape), queues
// (envelope and raw) and filter policies; deploy-declared subscriptions; 404s and bad policies.
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

const APP = {
  'nimbus.yml': `app: shop
functions:
  audit:
    handler: index.audit
    runtime: nodejs
    events:
      - topic: orders
  big:
    handler: index.big
    runtime: nodejs
    events:
      - sns:
          topicName: orders
          filterPolicyScope: MessageBody
          filterPolicy:
            total: [{ numeric: ['>', 100] }]
resources:
  queues:
    paid: {}
  topics:
    orders:
      subscriptions:
        - queue: paid
          rawMessageDelivery: true
          filterPolicy:
            kind: [paid]
`,
  'index.js': `
exports.audit = async (event) => { console.log('AUDIT ' + JSON.stringify(event)); return 'ok'; };
exports.big = async (event) => { console.log('BIG ' + JSON.stringify(event)); return 'ok'; };
`,
};

interface SnsRecord {
  EventSource: string;
  EventVersion: string;
  EventSubscriptionArn: string;
  Sns: {
    Type: string;
    MessageId: string;
    TopicArn: string;
    Subject: string | null;
    Message: string;
    Timestamp: string;
    MessageAttributes: Record<string, { Type: string; Value: string }>;
  };
}

/** The events a function logged with `tag`, waiting until there are `count`. */
async function loggedEvents(
  store: Store,
  fn: string,
  tag: string,
  count: number,
): Promise<Array<{ Records: SnsRecord[] }>> {
  for (let i = 0; i < 400; i++) {
    const lines = await store.logs.query({ functionName: fn });
    const events = lines
      .filter((l) => l.message.includes(`${tag} {`))
      .map(
        (l) =>
          JSON.parse(l.message.slice(l.message.indexOf(`${tag} `) + tag.length + 1)) as {
            Records: SnsRecord[];
          },
      );
    if (events.length >= count) return events;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`${fn} did not log ${count} ${tag} event(s)`);
}

forEachStore((_name, open) => {
  test('publish fans out to functions and queues through filter policies', async () => {
    const t = await startTestServer({ store: await open() });
    servers.push(t);
    await t.deployFiles(APP);
    const store = t.server.platform.store;
    const queues = t.server.platform.queues;

    // An API subscription with the SNS envelope, next to the deploy's raw one.
    await queues.createQueue('envelopes');
    const subRes = await t.fetchV1('/v1/topics/orders/subscriptions', {
      method: 'POST',
      body: JSON.stringify({ queue: 'envelopes' }),
    });
    assert.equal(subRes.status, 201);

    const publish = async (body: unknown) => {
      const res = await t.fetchV1('/v1/topics/orders/publish', {
        method: 'POST',
        body: JSON.stringify(body),
      });
      assert.equal(res.status, 200, await res.clone().text());
      return ((await res.json()) as { messageId: string }).messageId;
    };
    // total 50, kind paid: audit and the paid queue, not big.
    const m1 = await publish({
      message: { total: 50 },
      subject: 'small',
      attributes: { kind: 'paid', n: 3 },
    });
    // total 500, kind open: audit and big, not the paid queue.
    const m2 = await publish({ message: '{"total":500}', attributes: { kind: 'open' } });

    const audit = await loggedEvents(store, 'shop-audit', 'AUDIT', 2);
    const big = await loggedEvents(store, 'shop-big', 'BIG', 1);
    const rec = audit.map((e) => e.Records[0]!).find((r) => r.Sns.MessageId === m1)!;
    assert.ok(rec, 'audit got the first message');
    assert.equal(
      audit.every((e) => e.Records.length === 1),
      true,
    );
    assert.equal(rec.EventSource, 'aws:sns');
    assert.equal(rec.EventVersion, '1.0');
    assert.match(rec.EventSubscriptionArn, /^arn:aws:sns:[^:]+:\d{12}:orders:[0-9a-f-]{36}$/);
    assert.equal(rec.Sns.Type, 'Notification');
    assert.match(rec.Sns.TopicArn, /^arn:aws:sns:[^:]+:\d{12}:orders$/);
    assert.equal(rec.Sns.Subject, 'small');
    assert.equal(rec.Sns.Message, '{"total":50}');
    assert.ok(!Number.isNaN(Date.parse(rec.Sns.Timestamp)));
    assert.deepEqual(rec.Sns.MessageAttributes, {
      kind: { Type: 'String', Value: 'paid' },
      n: { Type: 'Number', Value: '3' },
    });
    assert.deepEqual(
      big.map((e) => e.Records[0]!.Sns.MessageId),
      [m2],
      'the body filter let only total > 100 through',
    );

    const raw = await queues.receiveMessages('paid', { maxMessages: 10 });
    assert.deepEqual(
      raw.map((m) => m.body),
      ['{"total":50}'],
      'raw delivery: the bare message, paid only',
    );
    assert.equal(raw[0]!.attributes.kind?.StringValue, 'paid', 'raw delivery keeps the attributes');

    const env = await queues.receiveMessages('envelopes', { maxMessages: 10 });
    const bodies = env.map((m) => JSON.parse(m.body) as Record<string, unknown>);
    assert.deepEqual(bodies.map((b) => b.MessageId).sort(), [m1, m2].sort());
    const first = bodies.find((b) => b.MessageId === m1)!;
    assert.equal(first.Type, 'Notification');
    assert.equal(first.Message, '{"total":50}');
    assert.equal(first.Subject, 'small');
    assert.deepEqual(first.MessageAttributes, {
      kind: { Type: 'String', Value: 'paid' },
      n: { Type: 'Number', Value: '3' },
    });

    // Listing shows the deploy's subscriptions with their owners.
    const subs = (await (await t.fetchV1('/v1/topics/orders/subscriptions')).json()) as {
      subscriptions: Array<{ protocol: string; endpoint: string; app?: string; function?: string }>;
    };
    assert.deepEqual(subs.subscriptions.map((s) => `${s.protocol}:${s.endpoint}:${s.app ?? '-'}`).sort(), [
      'function:shop-audit:shop',
      'function:shop-big:shop',
      'queue:envelopes:-',
      'queue:paid:shop',
    ]);
  });

  test('redeploy replaces the app’s subscriptions; removing the app drops them', async () => {
    const t = await startTestServer({ store: await open() });
    servers.push(t);
    await t.deployFiles(APP);
    await t.deployFiles({
      ...APP,
      'nimbus.yml': `app: shop
functions:
  audit:
    handler: index.audit
    runtime: nodejs
    events:
      - sns: arn:aws:sns:us-east-1:000000000000:audit-log
`,
    });
    const topics = (await (await t.fetchV1('/v1/topics')).json()) as { topics: Array<{ name: string }> };
    assert.deepEqual(
      topics.topics.map((x) => x.name),
      ['audit-log', 'orders'],
      'topics stay; the trigger made audit-log',
    );
    const orders = (await (await t.fetchV1('/v1/topics/orders/subscriptions')).json()) as {
      subscriptions: unknown[];
    };
    assert.deepEqual(orders.subscriptions, []);
    const audit = (await (await t.fetchV1('/v1/topics/audit-log/subscriptions')).json()) as {
      subscriptions: Array<{ endpoint: string }>;
    };
    assert.deepEqual(
      audit.subscriptions.map((s) => s.endpoint),
      ['shop-audit'],
    );
    assert.equal((await t.fetchV1('/v1/apps/shop', { method: 'DELETE' })).status, 200);
    const after = (await (await t.fetchV1('/v1/topics/audit-log/subscriptions')).json()) as {
      subscriptions: unknown[];
    };
    assert.deepEqual(after.subscriptions, []);
  });

  test('errors: missing topic 404, bad policy 400 naming the path, bad attributes, failed hand-overs recorded', async () => {
    const t = await startTestServer({ store: await open() });
    servers.push(t);
    const missing = await t.fetchV1('/v1/topics/nope/publish', { method: 'POST', body: '{"message":"x"}' });
    assert.equal(missing.status, 404);
    const body = (await missing.json()) as { code: string; message: string };
    assert.equal(body.code, 'ResourceNotFoundException');
    assert.match(body.message, /nimbus topics create nope/);

    await assert.rejects(
      t.deployFiles({
        'nimbus.yml': `app: bad
functions:
  f:
    handler: index.f
    runtime: nodejs
    events:
      - topic: { topic: t1, filterPolicy: { price: [{ numeric: ['>', 'ten'] }] } }
`,
        'index.js': 'exports.f = async () => 1;',
      }),
      /functions\.f\.events\[0\]\.topic\.filterPolicy\.price\[0\]\.numeric\[1\]: numeric needs a number/,
    );
    assert.equal((await t.fetchV1('/v1/topics/t1')).status, 404, 'a refused deploy creates nothing');

    assert.equal((await t.fetchV1('/v1/topics', { method: 'POST', body: '{"name":"t1"}' })).status, 201);
    assert.equal((await t.fetchV1('/v1/topics', { method: 'POST', body: '{"name":"t1"}' })).status, 200);
    const badName = await t.fetchV1('/v1/topics', { method: 'POST', body: '{"name":"a b"}' });
    assert.equal(badName.status, 400);
    const badSub = await t.fetchV1('/v1/topics/t1/subscriptions', {
      method: 'POST',
      body: JSON.stringify({ webhook: 'ftp://x', filterPolicy: {} }),
    });
    assert.equal(badSub.status, 400);
    assert.match(
      ((await badSub.json()) as { message: string }).message,
      /subscription\.webhook: must be an http/,
    );
    const noFn = await t.fetchV1('/v1/topics/t1/subscriptions', {
      method: 'POST',
      body: '{"function":"x-y"}',
    });
    assert.equal(noFn.status, 404);
    const badAttr = await t.fetchV1('/v1/topics/t1/publish', {
      method: 'POST',
      body: JSON.stringify({ message: 'x', attributes: { n: { DataType: 'Number', StringValue: 'ten' } } }),
    });
    assert.equal(badAttr.status, 400);
    assert.match(
      ((await badAttr.json()) as { message: string }).message,
      /attributes\.n: "ten" is not a number/,
    );

    // A queue deleted after subscribing: the publish succeeds, the hand-over is a failed delivery.
    await t.server.platform.queues.createQueue('short-lived');
    const sub = await t.fetchV1('/v1/topics/t1/subscriptions', {
      method: 'POST',
      body: '{"queue":"short-lived"}',
    });
    assert.equal(sub.status, 201);
    await t.server.platform.queues.deleteQueue('short-lived');
    const pub = await t.fetchV1('/v1/topics/t1/publish', { method: 'POST', body: '{"message":"hello"}' });
    assert.equal(pub.status, 200);
    const failed = (await (await t.fetchV1('/v1/topics/t1/deliveries?status=failed')).json()) as {
      deliveries: Array<{ endpoint: string; lastError: string }>;
    };
    assert.equal(failed.deliveries.length, 1);
    assert.equal(failed.deliveries[0]!.endpoint, 'short-lived');
    assert.match(failed.deliveries[0]!.lastError, /ResourceNotFoundException/);

    assert.equal((await t.fetchV1('/v1/topics/t1', { method: 'DELETE' })).status, 200);
    assert.equal((await t.fetchV1('/v1/topics/t1', { method: 'DELETE' })).status, 404);
  });
});
