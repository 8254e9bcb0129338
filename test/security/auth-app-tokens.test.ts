// App tokens (`nbt_app_…`): forged, expired and revoked tokens are refused with stable codes on
// both stores; `nimbus tokens ls|revoke` (root only) list and revoke them one by one.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AuthService } from '../../src/auth/auth-service.js';
import { APP_TOKEN_TTL_MS } from '../../src/auth/app-tokens.js';
import { isNimbusError } from '../../src/errors.js';
import { run } from '../cli/cli-test-io.js';
import { installLeakGuard } from '../helpers/leak-guard.js';
import { startTestServer } from '../helpers/test-server.js';
import { forEachStore } from '../helpers/test-stores.js';

installLeakGuard();

const dirs: string[] = [];
after(async () => {
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

async function rejectsWith(p: Promise<unknown>, code: string, message?: RegExp): Promise<void> {
  await assert.rejects(p, (err: unknown) => {
    assert.ok(isNimbusError(err), String(err));
    assert.equal(err.code, code, err.message);
    if (message) assert.match(err.message, message);
    return true;
  });
}

forEachStore((_name, open) => {
  test('forged and expired app tokens are refused; a fresh one carries the app scope', async () => {
    const store = await open();
    const dataDir = await mkdtemp(join(tmpdir(), 'nimbus-apptok-'));
    dirs.push(dataDir);
    let now = Date.UTC(2030, 0, 1);
    const auth = new AuthService(store.credentials, { dataDir, env: {}, now: () => now });
    await auth.bootstrap();

    const token = await auth.appToken('shop');
    assert.match(token, /^nbt_app_shop\.[A-Za-z0-9_-]{22}\.[0-9a-z]+\.[0-9a-z]+\.[A-Za-z0-9_-]+$/);
    const who = await auth.verifyBearer(`Bearer ${token}`);
    assert.deepEqual(who, { kind: 'token', name: 'app:shop', scopes: ['app:shop'] });
    assert.equal(await auth.appToken('shop'), token, 'the same token is handed out until refreshed');

    // Forged: another app's name, a changed expiry, a changed MAC, the old unexpiring format.
    const [, id, iat, exp, mac] = /^nbt_app_shop\.([^.]+)\.([^.]+)\.([^.]+)\.(.+)$/.exec(token)!;
    const forged = [
      `nbt_app_blog.${id}.${iat}.${exp}.${mac}`,
      `nbt_app_shop.${id}.${iat}.${(parseInt(exp!, 36) + 1e9).toString(36)}.${mac}`,
      `nbt_app_shop.${id}.${iat}.${exp}.${mac!.slice(0, -2)}AA`,
      `nbt_app_shop.${mac}`,
      'nbt_app_',
    ];
    for (const f of forged)
      await rejectsWith(auth.verifyBearer(`Bearer ${f}`), 'UnrecognizedClientException');

    // Expired: 12 h after issue, whatever the cache says.
    now += APP_TOKEN_TTL_MS;
    await rejectsWith(auth.verifyBearer(`Bearer ${token}`), 'ExpiredTokenException', /expired at/);
    const fresh = await auth.appToken('shop');
    assert.notEqual(fresh, token);
    assert.equal((await auth.verifyBearer(`Bearer ${fresh}`)).name, 'app:shop');
  });

  test('a revoked app token is refused with TokenRevokedException by every node sharing the store', async () => {
    const store = await open();
    const dataDir = await mkdtemp(join(tmpdir(), 'nimbus-apptok-'));
    dirs.push(dataDir);
    const nodeA = new AuthService(store.credentials, { dataDir, env: {} });
    await nodeA.bootstrap();
    const nodeB = new AuthService(store.credentials, { dataDir, env: {}, cacheTtlMs: 0 });
    const token = await nodeA.appToken('shop');
    await nodeB.verifyBearer(`Bearer ${token}`);
    const [record] = await nodeA.listAppTokens('shop');
    assert.ok(record);
    await nodeA.revokeAppToken(record.id);
    await rejectsWith(nodeA.verifyBearer(`Bearer ${token}`), 'TokenRevokedException', /was revoked/);
    await rejectsWith(nodeB.verifyBearer(`Bearer ${token}`), 'TokenRevokedException');
    // The app gets a new token at once; unknown ids answer 404.
    const next = await nodeA.appToken('shop');
    assert.notEqual(next, token);
    await nodeA.verifyBearer(`Bearer ${next}`);
    await rejectsWith(nodeA.revokeAppToken('A'.repeat(22)), 'ResourceNotFoundException');
  });

  test('nimbus tokens ls|revoke over /v1/tokens: root only, one token at a time', async () => {
    const t = await startTestServer({ store: await open() });
    try {
      const env = { NIMBUS_ENDPOINT: t.url, NIMBUS_TOKEN: t.credentials.token };
      const shop = await t.server.platform.auth.appToken('shop');
      const blog = await t.server.platform.auth.appToken('blog');

      const ls = await run(['tokens', 'ls', '--json'], { env });
      assert.equal(ls.code, 0, ls.stderr);
      const listed = (JSON.parse(ls.stdout) as { tokens: Array<{ id: string; app: string; status: string }> })
        .tokens;
      assert.deepEqual(listed.map((x) => x.app).sort(), ['blog', 'shop']);
      assert.ok(listed.every((x) => x.status === 'active'));
      assert.ok(!ls.stdout.includes(shop), 'tokens themselves are never shown');
      const shopId = listed.find((x) => x.app === 'shop')!.id;

      // An app token (scoped) may neither list nor revoke.
      const denied = await run(['tokens', 'revoke', shopId], { env: { ...env, NIMBUS_TOKEN: blog } });
      assert.notEqual(denied.code, 0);
      assert.match(denied.stderr, /AccessDeniedException/);
      const deniedLs = await t.fetchV1('/v1/tokens', { headers: { authorization: `Bearer ${shop}` } });
      assert.equal(deniedLs.status, 403);

      const revoked = await run(['tokens', 'revoke', shopId], { env });
      assert.equal(revoked.code, 0, revoked.stderr);
      assert.match(revoked.stdout, new RegExp(`revoked app token ${shopId} of app shop`));

      const useRevoked = await fetch(`${t.url}/v1/functions/shop-x`, {
        headers: { authorization: `Bearer ${shop}` },
      });
      assert.equal(useRevoked.status, 403);
      assert.equal(((await useRevoked.json()) as { code: string }).code, 'TokenRevokedException');
      // The other app's token is untouched.
      const useBlog = await fetch(`${t.url}/v1/functions/blog-x`, {
        headers: { authorization: `Bearer ${blog}` },
      });
      assert.notEqual(((await useBlog.json()) as { code?: string }).code, 'TokenRevokedException');

      const after = await run(['tokens', 'ls', '--app', 'shop'], { env });
      assert.match(after.stdout, new RegExp(`${shopId}.*revoked`));
    } finally {
      await t.close();
    }
  });
});
