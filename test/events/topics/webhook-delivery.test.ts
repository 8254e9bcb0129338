// Webhook subscriptions against a real local HTTP server, per store: signed deliveries, retries
// with backoff until success, failure after the last attempt, no cross-host redirects, and a
// delivery still pending when the server restarts is delivered by the next run.
import assert from 'node:assert/strict';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, test } from 'node:test';

import { verifyWebhook } from '../../../src/events/topics/webhook-signature.js';
import { installLeakGuard } from '../../helpers/leak-guard.js';
import { startTestServer, type TestServer, startNodeOn } from '../../helpers/test-server.js';
import { forEachStore } from '../../helpers/test-stores.js';

interface Received {
  readonly path: string;
  readonly headers: IncomingHttpHeaders;
  readonly body: string;
}

/** A real HTTP endpoint on port 0 whose answer per request `respond` decides. */
async function hookServer(
  respond: (req: Received, n: number) => { status: number; headers?: Record<string, string> },
) {
  const received: Received[] = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const r = { path: req.url ?? '', headers: req.headers, body: Buffer.concat(chunks).toString('utf8') };
      received.push(r);
      const answer = respond(r, received.length);
      res.writeHead(answer.status, answer.headers).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  hooks.push(server);
  return { url, received };
}

/** The hook servers listen on loopback, which the egress policy denies unless allowed. */
const HOOKS = ['127.0.0.1'];

const servers: TestServer[] = [];
const hooks: Server[] = [];
const closers: Array<() => Promise<void>> = [];
after(async () => {
  for (const s of servers) await s.close();
  for (const c of closers) await c();
  for (const h of hooks) {
    h.closeAllConnections();
    await new Promise((r) => h.close(r));
  }
});
installLeakGuard();

interface Delivery {
  id: string;
  status: string;
  attempts: number;
  lastStatus?: number;
  lastError?: string;
}

async function until<T>(what: string, probe: () => Promise<T | undefined>, tries = 400): Promise<T> {
  for (let i = 0; i < tries; i++) {
    const v = await probe();
    if (v !== undefined) return v;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`timed out waiting for ${what}`);
}

async function deliveries(t: TestServer, topic: string, status?: string): Promise<Delivery[]> {
  const res = await t.fetchV1(`/v1/topics/${topic}/deliveries${status ? `?status=${status}` : ''}`);
  return ((await res.json()) as { deliveries: Delivery[] }).deliveries;
}

async function subscribe(
  t: TestServer,
  topic: string,
  body: unknown,
): Promise<{ id: string; secret: string }> {
  const res = await t.fetchV1(`/v1/topics/${topic}/subscriptions`, {
    method: 'POST',
    body: JSON.stringify(body),
  });
  assert.equal(res.status, 201, await res.clone().text());
  return (await res.json()) as { id: string; secret: string };
}

async function publish(t: TestServer, topic: string, body: unknown): Promise<string> {
  const res = await t.fetchV1(`/v1/topics/${topic}/publish`, { method: 'POST', body: JSON.stringify(body) });
  assert.equal(res.status, 200, await res.clone().text());
  return ((await res.json()) as { messageId: string }).messageId;
}

const FAST = { maxAttempts: 5, minDelaySeconds: 0.05, maxDelaySeconds: 0.2, timeoutSeconds: 2 };

forEachStore((_name, open, stores) => {
  test('signed deliveries; failing twice then succeeding is retried and delivered; filters skip', async () => {
    const t = await startTestServer({ store: await open(), webhookAllow: HOOKS });
    servers.push(t);
    const hook = await hookServer((_r, n) => ({ status: n <= 2 ? 500 : 204 }));
    await t.fetchV1('/v1/topics', { method: 'POST', body: '{"name":"events"}' });
    const sub = await subscribe(t, 'events', {
      webhook: `${hook.url}/hook`,
      deliveryPolicy: FAST,
      filterPolicy: { kind: [{ 'anything-but': 'noise' }] },
    });
    assert.match(sub.secret, /^whsec_/);
    await publish(t, 'events', { message: 'skip me', attributes: { kind: 'noise' } });
    const messageId = await publish(t, 'events', {
      message: { hello: 'world' },
      attributes: { kind: 'greeting' },
    });

    const done = await until('delivered', async () => {
      const [d] = await deliveries(t, 'events', 'delivered');
      return d;
    });
    assert.equal(done.attempts, 3);
    assert.equal(done.lastStatus, 204);
    assert.equal(hook.received.length, 3, 'the filtered message was never sent');
    for (const r of hook.received) {
      assert.equal(r.path, '/hook');
      assert.equal(r.headers['x-nimbus-topic'], 'events');
      assert.equal(r.headers['x-nimbus-message-id'], messageId);
      assert.equal(r.headers['content-type'], 'application/json');
      assert.match(String(r.headers['x-nimbus-signature']), /^sha256=[0-9a-f]{64}$/);
      const headers = {
        timestamp: r.headers['x-nimbus-timestamp'] as string,
        signature: r.headers['x-nimbus-signature'] as string,
      };
      assert.equal(verifyWebhook(sub.secret, headers, r.body), true, 'the signature verifies');
      assert.equal(verifyWebhook('whsec_wrong', headers, r.body), false);
      assert.equal(verifyWebhook(sub.secret, headers, `${r.body} `), false, 'a changed body does not verify');
      assert.equal(
        verifyWebhook(sub.secret, headers, r.body, { now: Date.now() + 3_600_000 }),
        false,
        'an old delivery replayed later does not verify',
      );
    }
    assert.deepEqual(
      hook.received.map((r) => r.headers['x-nimbus-attempt']),
      ['1', '2', '3'],
    );
    const envelope = JSON.parse(hook.received[2]!.body) as Record<string, unknown>;
    assert.equal(envelope.Type, 'Notification');
    assert.equal(envelope.Message, '{"hello":"world"}');
    assert.deepEqual(envelope.MessageAttributes, { kind: { Type: 'String', Value: 'greeting' } });
  });

  test('after the last attempt a delivery is failed and listed; other-host redirects are not followed', async () => {
    const t = await startTestServer({ store: await open(), webhookAllow: HOOKS });
    servers.push(t);
    const down = await hookServer(() => ({ status: 503 }));
    const redirect = await hookServer(() => ({
      status: 307,
      headers: { location: 'http://localhost:9/elsewhere' },
    }));
    const raw = await hookServer(() => ({ status: 200 }));
    await t.fetchV1('/v1/topics', { method: 'POST', body: '{"name":"alerts"}' });
    await subscribe(t, 'alerts', { webhook: down.url, deliveryPolicy: { ...FAST, maxAttempts: 2 } });
    await subscribe(t, 'alerts', { webhook: redirect.url, deliveryPolicy: { ...FAST, maxAttempts: 1 } });
    await subscribe(t, 'alerts', { webhook: raw.url, rawMessageDelivery: true });
    await publish(t, 'alerts', { message: 'disk full' });

    const failed = await until('two failed deliveries', async () => {
      const list = await deliveries(t, 'alerts', 'failed');
      return list.length === 2 ? list : undefined;
    });
    const byStatus = new Map(failed.map((d) => [d.lastStatus, d]));
    assert.equal(byStatus.get(503)?.attempts, 2);
    assert.equal(byStatus.get(503)?.lastError, 'HTTP 503');
    assert.match(byStatus.get(307)?.lastError ?? '', /redirect to http:\/\/localhost:9 not followed/);
    assert.equal(down.received.length, 2);
    assert.equal(redirect.received.length, 1);
    await until('raw delivery', async () => (raw.received.length === 1 ? true : undefined));
    assert.equal(raw.received[0]!.body, 'disk full', 'raw delivery posts the bare message');
    assert.match(String(raw.received[0]!.headers['content-type']), /^text\/plain/);
  });

  test('a delivery pending when the server stops is delivered after a restart on the same store', async () => {
    const target = stores.target();
    let up = false;
    const hook = await hookServer(() => ({ status: up ? 200 : 503 }));
    const first = await startTestServer({ store: await stores.openAt(target), webhookAllow: HOOKS });
    servers.push(first);
    await first.fetchV1('/v1/topics', { method: 'POST', body: '{"name":"durable"}' });
    await subscribe(first, 'durable', {
      webhook: hook.url,
      deliveryPolicy: { maxAttempts: 20, minDelaySeconds: 0.1, maxDelaySeconds: 0.1, timeoutSeconds: 2 },
    });
    const messageId = await publish(first, 'durable', { message: 'survive' });
    await until('a failed attempt', async () => (hook.received.length >= 1 ? true : undefined));
    await first.close();
    const [pending] = await (async () => {
      const s = await stores.openAt(target);
      return s.topics.listDeliveries('durable');
    })();
    assert.ok(pending?.status === 'pending', `pending across the restart, got ${pending?.status}`);

    up = true;
    // The same store already has root credentials, so this start prints none: use startServer
    // and the first run's token.
    const second = await startNodeOn(await stores.openAt(target), { webhookAllow: HOOKS });
    closers.unshift(() => second.close());
    const done = await until('delivered after restart', async () => {
      const res = await fetch(`${second.url}/v1/topics/durable/deliveries?status=delivered`, {
        headers: { authorization: `Bearer ${first.credentials.token}` },
      });
      return ((await res.json()) as { deliveries: Delivery[] }).deliveries[0];
    });
    assert.ok(done.attempts >= 2);
    assert.equal(hook.received.at(-1)!.headers['x-nimbus-message-id'], messageId);
  });
});
