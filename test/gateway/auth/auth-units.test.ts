// In-process units of gateway auth: token bucket arithmetic, quota periods, and the JWKS cache
// refetching on an unknown kid from a real local JWKS server (key rotation), rate-limited.
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { test } from 'node:test';
import { SignJWT, exportJWK, generateKeyPair, jwtVerify, type JWK } from 'jose';
import { JwksCache } from '../../../src/gateway/auth/jwks-cache.js';
import { TokenBucket } from '../../../src/gateway/auth/token-bucket.js';
import { periodOf, secondsLeft } from '../../../src/gateway/auth/usage-plans.js';
import { installLeakGuard } from '../../helpers/leak-guard.js';

test('token bucket: burst, then refill at the rate, with the wait in whole seconds', () => {
  const b = new TokenBucket(2, 3, 0);
  assert.deepEqual([b.take(0), b.take(0), b.take(0)], [0, 0, 0]);
  assert.equal(b.take(0), 1);
  assert.equal(b.take(500), 0, 'half a second at 2/s refills one token');
  assert.equal(b.take(500), 1);
});

test('quota periods are UTC days and months; seconds left to their end', () => {
  const t = Date.UTC(2026, 10, 30, 23, 59, 30);
  assert.equal(periodOf('day', t), '2026-11-30');
  assert.equal(periodOf('month', t), '2026-11');
  assert.equal(secondsLeft('day', t), 30);
  assert.equal(secondsLeft('month', t), 30);
});

test('JWKS cache: a rotated key (unknown kid) is fetched again; the cooldown limits refetches', async () => {
  const one = await generateKeyPair('RS256');
  const two = await generateKeyPair('ES256');
  let keys: JWK[] = [{ ...(await exportJWK(one.publicKey)), kid: 'one', alg: 'RS256' }];
  let fetches = 0;
  const server = createServer((_req, res) => {
    fetches++;
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ keys }));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  try {
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/jwks`;
    const sign = (alg: string, kid: string, key: Awaited<ReturnType<typeof generateKeyPair>>['privateKey']) =>
      new SignJWT({}).setProtectedHeader({ alg, kid }).setExpirationTime('1m').sign(key);
    const cache = new JwksCache({ cooldownMs: 0 });
    await jwtVerify(await sign('RS256', 'one', one.privateKey), cache.getter(url));
    await jwtVerify(await sign('RS256', 'one', one.privateKey), cache.getter(url));
    assert.equal(fetches, 1, 'cached');
    keys = [...keys, { ...(await exportJWK(two.publicKey)), kid: 'two', alg: 'ES256' }];
    await jwtVerify(await sign('ES256', 'two', two.privateKey), cache.getter(url));
    assert.equal(fetches, 2, 'refetched for the unknown kid');

    const limited = new JwksCache({ cooldownMs: 60_000 });
    await jwtVerify(await sign('RS256', 'one', one.privateKey), limited.getter(url));
    const before = fetches;
    const stranger = await generateKeyPair('RS256');
    for (let i = 0; i < 3; i++) {
      await assert.rejects(jwtVerify(await sign('RS256', 'nope', stranger.privateKey), limited.getter(url)));
    }
    assert.equal(fetches, before, 'unknown kids within the cooldown do not refetch');
  } finally {
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
  }
});

installLeakGuard();
