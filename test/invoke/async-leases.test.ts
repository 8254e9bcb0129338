// Lease renewal: while a node runs a long async invocation its lease is renewed, so another
// node never retakes it; the lease itself is short, so a node that dies is replaced quickly.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { installLeakGuard } from '../helpers/leak-guard.js';
import { forEachStore } from '../helpers/test-stores.js';
import { startTestServer, type TestServer } from '../helpers/test-server.js';

installLeakGuard();
forEachStore((_name, open) => {
  let t: TestServer;
  before(async () => {
    // 300 ms leases, renewed every 100 ms; the function runs 1.5 s, five leases long.
    t = await startTestServer({ store: await open(), async: { leaseMs: 300 } });
    await t.deployFiles({
      'nimbus.yml': 'app: lease\nfunctions:\n  slow:\n    handler: index.handler\n    timeout: 10\n',
      'index.mjs':
        'export const handler = async () => { await new Promise((r) => setTimeout(r, 1500)); return "done"; };\n',
    });
  });
  after(() => t.close());

  test('a long invocation keeps its claim: another node claiming meanwhile gets nothing', async () => {
    const res = await t.fetchV1('/v1/functions/lease-slow/invoke?async=true', { method: 'POST', body: '{}' });
    assert.equal(res.status, 202);
    const { invocationId } = (await res.json()) as { invocationId: string };
    const queue = t.server.platform.store.invocations;
    // Compete only once the server's dispatcher holds it (before that, a claim here would simply
    // win the race for a queued event).
    while ((await queue.get(invocationId))?.status === 'queued') await new Promise((r) => setTimeout(r, 10));
    const stolen: string[] = [];
    const deadline = Date.now() + 10_000;
    let status = 'queued';
    while (Date.now() < deadline && status !== 'succeeded' && status !== 'failed') {
      // Another node polling the same store with its own id.
      for (const inv of await queue.claim(5, 60_000, 'another-node')) stolen.push(inv.id);
      await new Promise((r) => setTimeout(r, 50));
      status = (await queue.get(invocationId))?.status ?? 'missing';
    }
    assert.deepEqual(stolen, [], 'no claim was retaken while the first node worked on it');
    const inv = await queue.get(invocationId);
    assert.equal(inv?.status, 'succeeded');
    assert.equal(inv?.attempts, 1);
    assert.equal(inv?.result?.toString(), '"done"');
  });
});
