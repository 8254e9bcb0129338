// Webhook SSRF (issue 8, item 3): the egress policy denies loopback, private, link-local, metadata,
// IPv6 and IPv4-mapped targets, names resolving to them (localhost), and a redirect whose
// re-resolution lands on a denied address; the allow-list lets a test server through; only
// principals allowed to use the network may create webhook subscriptions. Real HTTP servers that
// record what reaches them; per store where a store is involved.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import type { LookupAddress } from 'node:dns';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, test } from 'node:test';
import { EgressPolicy, deniedRangeOf } from '../../src/events/topics/egress-policy.js';
import { WebhookDeliverer } from '../../src/events/topics/webhook-deliverer.js';
import type { Store } from '../../src/store/store.js';
import { installLeakGuard } from '../helpers/leak-guard.js';
import { forEachStore } from '../helpers/test-stores.js';
import { startTestServer, type TestServer } from '../helpers/test-server.js';

/** An HTTP server on `host`:`port` (0: any) that records request paths and answers `respond`. */
async function hook(
  host: string,
  port = 0,
  respond: (path: string) => { status: number; headers?: Record<string, string> } = () => ({ status: 200 }),
): Promise<{ server: Server; port: number; paths: string[] }> {
  const paths: string[] = [];
  const server = createServer((req, res) => {
    paths.push(req.url ?? '');
    req.resume();
    req.on('end', () => {
      const a = respond(req.url ?? '');
      res.writeHead(a.status, a.headers).end();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, resolve);
  });
  hooks.push(server);
  return { server, port: (server.address() as AddressInfo).port, paths };
}

const hooks: Server[] = [];
after(async () => {
  for (const h of hooks) {
    h.closeAllConnections();
    await new Promise((r) => h.close(r));
  }
});
installLeakGuard();

async function until<T>(what: string, probe: () => Promise<T | undefined>, tries = 400): Promise<T> {
  for (let i = 0; i < tries; i++) {
    const v = await probe();
    if (v !== undefined) return v;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`timed out waiting for ${what}`);
}

test('the policy: denied ranges, IPv4-mapped, NAT64 and 6to4 forms; public addresses pass; the allow-list', () => {
  const denied = [
    '127.0.0.1',
    '127.255.0.9',
    '10.0.0.1',
    '172.16.5.4',
    '172.31.255.255',
    '192.168.1.1',
    '100.64.0.1',
    '100.100.100.200',
    '169.254.169.254',
    '169.254.0.1',
    '192.0.0.192',
    '0.0.0.0',
    '224.0.0.1',
    '255.255.255.255',
    '::1',
    '::',
    'fe80::1',
    'fe80::1%eth0',
    'fd00:ec2::254',
    'fc00::1',
    'ff02::1',
    '::ffff:127.0.0.1',
    '::ffff:7f00:1',
    '::ffff:a9fe:a9fe',
    '::ffff:10.0.0.1',
    '0:0:0:0:0:ffff:c0a8:0101',
    '::127.0.0.1',
    '64:ff9b::7f00:1',
    '64:ff9b::169.254.169.254',
    '2002:7f00:1::',
    '2002:a9fe:a9fe::1',
  ];
  for (const ip of denied) assert.ok(deniedRangeOf(ip), `${ip} must be denied`);
  const allowed = [
    '8.8.8.8',
    '93.184.215.14',
    '172.32.0.1',
    '100.128.0.1',
    '2606:4700::1111',
    '64:ff9b::808:808',
    '2002:808:808::1',
  ];
  for (const ip of allowed) assert.equal(deniedRangeOf(ip), undefined, `${ip} must pass`);

  const policy = new EgressPolicy({ allow: ['127.0.0.1', '10.1.0.0/16', 'hooks.internal', '::1'] });
  assert.equal(policy.deny('127.0.0.1', '127.0.0.1'), undefined);
  assert.equal(policy.deny('x', '::ffff:127.0.0.1'), undefined, 'the mapped form of an allowed address');
  assert.equal(policy.deny('x', '10.1.2.3'), undefined);
  assert.equal(
    policy.deny('hooks.internal', '192.168.0.9'),
    undefined,
    'an allowed name, whatever it resolves to',
  );
  assert.equal(policy.deny('x', '::1'), undefined);
  const refused = policy.deny('other.internal', '127.0.0.2');
  assert.equal(refused?.code, 'WebhookTargetDeniedException');
  assert.match(
    refused?.message ?? '',
    /other\.internal \(127\.0\.0\.2\) is loopback .*--webhook-allow other\.internal/,
  );
  assert.equal(policy.deny('x', '10.2.0.1')?.code, 'WebhookTargetDeniedException');
  assert.throws(() => new EgressPolicy({ allow: ['10.0.0.0/33'] }), /InvalidConfigError|prefix length/);
  assert.throws(() => new EgressPolicy({ allow: ['http://x'] }), /give a CIDR/);
});

forEachStore((name, open) => {
  let t: TestServer;
  before(async () => {
    // Only 127.0.0.2 is allowed: the hook servers on 127.0.0.1 and ::1 stand for what must stay unreachable.
    t = await startTestServer({ store: await open(), webhookAllow: ['127.0.0.2'] });
    await t.deployFiles({
      'nimbus.yml':
        'app: nonet\nfunctions:\n  fn:\n    handler: fn.handler\nresources:\n  topics: [nonet-t]\n',
      'fn.mjs': 'export const handler = async () => 1;\n',
    });
    await t.deployFiles({
      'nimbus.yml':
        'app: withnet\nfunctions:\n  fn:\n    handler: fn.handler\n    network: true\nresources:\n  topics: [withnet-t]\n',
      'fn.mjs': 'export const handler = async () => 1;\n',
    });
  });
  after(() => t.close());

  const subscribe = (token: string, topic: string, webhook: string) =>
    fetch(`${t.url}/v1/topics/${topic}/subscriptions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}` },
      body: JSON.stringify({ webhook }),
    });

  test(`${name}: subscribing to loopback, private, link-local, metadata or IPv6-special targets is refused`, async () => {
    const v4 = await hook('127.0.0.1');
    const v6 = await hook('::1');
    const targets = [
      `http://127.0.0.1:${v4.port}/`,
      `http://localhost:${v4.port}/`,
      `http://0x7f.1:${v4.port}/`,
      `http://2130706433:${v4.port}/`,
      `http://[::ffff:127.0.0.1]:${v4.port}/`,
      `http://[::1]:${v6.port}/`,
      'http://10.0.0.1/',
      'http://172.16.5.4/',
      'http://192.168.1.1/',
      'http://100.100.100.200/',
      'http://169.254.169.254/latest/meta-data/',
      'http://[::ffff:a9fe:a9fe]/latest/meta-data/',
      'http://[fd00:ec2::254]/latest/meta-data/',
      'http://[fe80::1]/',
      'http://[64:ff9b::7f00:1]/',
      'http://0.0.0.0:80/',
      'https://127.0.0.1/',
    ];
    for (const url of targets) {
      const res = await subscribe(t.credentials.token, 'withnet-t', url);
      const body = (await res.json()) as { code: string; message: string };
      assert.equal(res.status, 403, `${url}: ${JSON.stringify(body)}`);
      assert.equal(body.code, 'WebhookTargetDeniedException', url);
      assert.match(body.message, /--webhook-allow/);
    }
    const subs = (await (await t.fetchV1('/v1/topics/withnet-t/subscriptions')).json()) as {
      subscriptions: unknown[];
    };
    assert.equal(subs.subscriptions.length, 0);
    assert.deepEqual([...v4.paths, ...v6.paths], []);
  });

  test(`${name}: deployed webhook subscriptions to denied targets fail at delivery without a connection; the allowed one is delivered`, async () => {
    const v4 = await hook('127.0.0.1');
    const v6 = await hook('::1');
    const ok = await hook('127.0.0.2');
    const urls = [
      `http://127.0.0.1:${v4.port}/literal`,
      `http://localhost:${v4.port}/name`,
      `http://[::1]:${v6.port}/v6`,
      `http://127.0.0.2:${ok.port}/ok`,
    ];
    await t.deployFiles({
      'nimbus.yml': [
        'app: deployed',
        'functions:',
        '  fn:',
        '    handler: fn.handler',
        'resources:',
        '  topics:',
        '    alerts:',
        '      subscriptions:',
        ...urls.map(
          (u) =>
            `        - { webhook: '${u}', deliveryPolicy: { maxAttempts: 5, minDelaySeconds: 0.05, maxDelaySeconds: 0.1 } }`,
        ),
        '',
      ].join('\n'),
      'fn.mjs': 'export const handler = async () => 1;\n',
    });
    const published = await t.fetchV1('/v1/topics/alerts/publish', {
      method: 'POST',
      body: '{"message":"m"}',
    });
    assert.equal(published.status, 200);
    type D = { endpoint: string; status: string; attempts: number; lastError?: string };
    const all = await until('every delivery finished', async () => {
      const res = await t.fetchV1('/v1/topics/alerts/deliveries');
      const list = ((await res.json()) as { deliveries: D[] }).deliveries;
      return list.length === 4 && list.every((d) => d.status === 'delivered' || d.status === 'failed')
        ? list
        : undefined;
    });
    for (const d of all) {
      if (d.endpoint === urls[3]) {
        assert.equal(d.status, 'delivered', JSON.stringify(d));
        continue;
      }
      assert.equal(d.status, 'failed', JSON.stringify(d));
      assert.equal(d.attempts, 1, 'a denied target is not retried');
      assert.match(d.lastError ?? '', /^WebhookTargetDeniedException: .*--webhook-allow/);
    }
    assert.deepEqual(ok.paths, ['/ok']);
    assert.deepEqual([...v4.paths, ...v6.paths], [], 'nothing reached the denied servers');
  });

  test(`${name}: only principals allowed to use the network create webhook subscriptions`, async () => {
    const publicUrl = 'http://93.184.215.14/hook';
    const nonet = await t.server.platform.auth.appToken('nonet');
    const refused = await subscribe(nonet, 'nonet-t', publicUrl);
    const body = (await refused.json()) as { code: string; message: string };
    assert.equal(refused.status, 403);
    assert.equal(body.code, 'NetworkNotAllowedException');
    assert.match(body.message, /network: true/);

    const withnet = await t.server.platform.auth.appToken('withnet');
    const created = await subscribe(withnet, 'withnet-t', publicUrl);
    assert.equal(created.status, 201, await created.clone().text());
    const denied = await subscribe(withnet, 'withnet-t', 'http://127.0.0.1:1/');
    assert.equal(((await denied.json()) as { code: string }).code, 'WebhookTargetDeniedException');
    const asRoot = await subscribe(t.credentials.token, 'nonet-t', publicUrl);
    assert.equal(asRoot.status, 201);
    // No publish: nothing is sent to the public address. Clean up the subscriptions.
    for (const topic of ['withnet-t', 'nonet-t']) {
      const list = (await (await t.fetchV1(`/v1/topics/${topic}/subscriptions`)).json()) as {
        subscriptions: Array<{ id: string }>;
      };
      for (const s of list.subscriptions) {
        await t.fetchV1(`/v1/topics/${topic}/subscriptions/${s.id}`, { method: 'DELETE' });
      }
    }
  });

  test(`${name}: a redirect is checked again: a name re-resolving to a denied address is not followed (DNS rebinding)`, async () => {
    const store: Store = await open();
    // The allowed first hop redirects (same origin); the second hop's lookup of the same name
    // answers 127.0.0.3, which is denied. The server on 127.0.0.3 must get nothing.
    const first = await hook('127.0.0.2', 0, () => ({ status: 307, headers: { location: '/next' } }));
    const rebound = await hook('127.0.0.3', first.port);
    const run = async (allow: string[]) => {
      let lookups = 0;
      const resolve = async (): Promise<LookupAddress[]> => [
        { address: lookups++ === 0 ? '127.0.0.2' : '127.0.0.3', family: 4 },
      ];
      const topic = `rebind-${randomUUID().slice(0, 8)}`;
      await store.topics.createTopic(topic);
      const subscriptionId = randomUUID();
      const endpoint = `http://hooks.test:${first.port}/start`;
      await store.topics.addSubscription({
        id: subscriptionId,
        topic,
        protocol: 'webhook',
        endpoint,
        filterPolicyScope: 'MessageAttributes',
        rawMessageDelivery: true,
        deliveryPolicy: JSON.stringify({ maxAttempts: 1 }),
        createdAt: Date.now(),
      });
      const id = randomUUID();
      await store.topics.addDeliveries([
        {
          id,
          subscriptionId,
          topic,
          messageId: randomUUID(),
          protocol: 'webhook',
          endpoint,
          body: Buffer.from('x'),
          maxAttempts: 1,
        },
      ]);
      const errors: unknown[] = [];
      const deliverer = new WebhookDeliverer(
        store.topics,
        { onError: (e) => errors.push(e) },
        { pollIntervalMs: 20, egress: new EgressPolicy({ allow, resolve }) },
      );
      deliverer.start();
      try {
        return await until('the delivery finished', async () => {
          const d = await store.topics.getDelivery(id);
          return d?.status === 'delivered' || d?.status === 'failed' ? d : undefined;
        });
      } finally {
        await deliverer.stop();
        assert.deepEqual(errors, []);
      }
    };
    const denied = await run(['127.0.0.2']);
    assert.equal(denied.status, 'failed');
    assert.match(
      denied.lastError ?? '',
      /WebhookTargetDeniedException: .*hooks\.test \(127\.0\.0\.3\) is loopback/,
    );
    assert.deepEqual(first.paths, ['/start']);
    assert.deepEqual(rebound.paths, [], 'the rebound address got nothing');
    // Control: with 127.0.0.3 allowed too the same delivery follows the redirect to it.
    const followed = await run(['127.0.0.2', '127.0.0.3']);
    assert.equal(followed.status, 'delivered', followed.lastError);
    assert.deepEqual(rebound.paths, ['/next']);
  });
});
