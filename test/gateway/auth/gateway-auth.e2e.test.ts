// End to end over a real socket: per-route auth — API keys with usage plans (rate, quota,
// revocation), JWT authorizers (HS256 secret, RS256/ES256 from a JWKS served by a local server)
// and a custom function authorizer with its cache; refusals in API Gateway's words.
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { SignJWT, exportJWK, generateKeyPair, type JWK } from 'jose';
import { installLeakGuard } from '../../helpers/leak-guard.js';
import { startTestServer, type TestServer } from '../../helpers/test-server.js';

type KeyPair = Awaited<ReturnType<typeof generateKeyPair>>;
type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any -- test reads loose JSON

const SECRET = 'a-test-secret-that-is-long-enough-32b';
const ISSUER = 'https://issuer.test/';

function app(jwksUrl: string): Record<string, string> {
  return {
    'nimbus.yml': `
app: authy
gateway:
  usagePlans:
    tiny: { rate: 1, burst: 2 }
    three: { quota: { limit: 3, period: day } }
  authorizers:
    hs: { type: jwt, issuer: "${ISSUER}", audience: [api], secret: "${SECRET}" }
    pk: { type: jwt, issuer: "${ISSUER}", audience: api, jwksUrl: "${jwksUrl}" }
    custom: { type: function, function: authz, identitySource: [$request.header.x-token], ttl: 300 }
functions:
  echo:
    handler: fns.echo
    events:
      - http: GET /open
      - http: { method: get, path: /keyed, auth: apiKey }
      - http: { method: get, path: /keyed1, auth: apiKey, payload: '1.0' }
      - http: { method: get, path: /hs, auth: hs }
      - http: { method: get, path: /hs1, auth: hs, payload: '1.0' }
      - http: { method: get, path: /scoped, auth: { authorizer: hs, scopes: [admin] } }
      - http: { method: get, path: /pk, auth: pk }
      - http: { method: get, path: /custom, auth: custom }
  authz:
    handler: fns.authz
`,
    'fns.js': `
exports.echo = async (event) => ({ statusCode: 200, body: JSON.stringify({ rc: event.requestContext }) });
exports.authz = async (event) => {
  const token = event.identitySource[0];
  if (token === 'boom') throw new Error('authorizer broke');
  return { isAuthorized: token === 'allow', context: { user: 'u1', nonce: Math.random(), type: event.type, routeArn: event.routeArn } };
};
`,
  };
}

describe('gateway auth over a socket', () => {
  let t: TestServer;
  let jwks: Server;
  let rsa: KeyPair;
  let ec: KeyPair;
  const published: JWK[] = [];
  before(async () => {
    rsa = await generateKeyPair('RS256');
    ec = await generateKeyPair('ES256');
    published.push({ ...(await exportJWK(rsa.publicKey)), kid: 'rsa-1', alg: 'RS256' });
    published.push({ ...(await exportJWK(ec.publicKey)), kid: 'ec-1', alg: 'ES256' });
    jwks = createServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ keys: published }));
    });
    await new Promise<void>((r) => jwks.listen(0, '127.0.0.1', r));
    const url = `http://127.0.0.1:${(jwks.address() as AddressInfo).port}/jwks.json`;
    t = await startTestServer();
    await t.deployFiles(app(url));
  });
  after(async () => {
    await t.close();
    jwks.closeAllConnections();
    await new Promise((r) => jwks.close(r));
  });

  const get = (path: string, headers: Record<string, string> = {}) => fetch(t.url + path, { headers });
  const createKey = async (name: string, plan: string): Promise<string> => {
    const res = await t.fetchV1('/v1/keys', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ name, plan }),
    });
    const body = (await res.json()) as Json;
    assert.equal(res.status, 201, JSON.stringify(body));
    assert.match(body.key, /^nbk_/);
    assert.equal(body.app, 'authy');
    return body.key as string;
  };
  const hs = (claims: Record<string, unknown> = {}, setup?: (j: SignJWT) => SignJWT) => {
    let j = new SignJWT({ sub: 'user-1', ...claims })
      .setProtectedHeader({ alg: 'HS256' })
      .setIssuer(ISSUER)
      .setAudience('api')
      .setIssuedAt()
      .setExpirationTime('5m');
    if (setup) j = setup(j);
    return j.sign(new TextEncoder().encode(SECRET));
  };

  test('open routes stay open; a keyed route without a valid key → 403 Forbidden', async () => {
    assert.equal((await get('/open')).status, 200);
    for (const headers of [{}, { 'x-api-key': 'nbk_not-a-key' }] as Array<Record<string, string>>) {
      const res = await get('/keyed', headers);
      assert.equal(res.status, 403);
      assert.deepEqual(await res.json(), { message: 'Forbidden' });
    }
  });

  test('API key: accepted, rate limited with Retry-After, revoked → 403', async () => {
    const key = await createKey('rated', 'tiny');
    const statuses: number[] = [];
    let limited: Response | undefined;
    for (let i = 0; i < 4; i++) {
      const res = await get('/keyed', { 'x-api-key': key });
      statuses.push(res.status);
      if (res.status === 429) limited = res;
      else await res.body?.cancel();
    }
    assert.deepEqual(statuses.slice(0, 2), [200, 200], 'the burst of 2 passes');
    assert.ok(limited, `expected a 429 after the burst: ${statuses.join(',')}`);
    assert.deepEqual(await limited.json(), { message: 'Too Many Requests' });
    assert.ok(Number(limited.headers.get('retry-after')) >= 1);
    const revoke = await t.fetchV1('/v1/keys/rated', { method: 'DELETE' });
    assert.equal(((await revoke.json()) as Json).status, 'revoked');
    await new Promise((r) => setTimeout(r, 1100));
    const after = await get('/keyed', { 'x-api-key': key });
    assert.equal(after.status, 403);
    await after.body?.cancel();
  });

  test('quota runs out → 429 Limit Exceeded; usage is stored and reported', async () => {
    const key = await createKey('quoted', 'three');
    for (let i = 0; i < 3; i++) {
      const res = await get('/keyed', { 'x-api-key': key });
      assert.equal(res.status, 200);
      await res.body?.cancel();
    }
    const over = await get('/keyed', { 'x-api-key': key });
    assert.equal(over.status, 429);
    assert.deepEqual(await over.json(), { message: 'Limit Exceeded' });
    assert.ok(Number(over.headers.get('retry-after')) > 0);
    const usage = (await (await t.fetchV1('/v1/keys/quoted/usage')).json()) as Json;
    assert.equal(usage.quota.used, 3);
    assert.equal(usage.quota.limit, 3);
    const stored = await t.server.platform.store.apiKeys.getUsage(usage.id);
    assert.equal(stored[0]?.count, 3, 'counts reached the store');
    const list = (await (await t.fetchV1('/v1/keys')).json()) as Json;
    assert.ok(
      list.keys.some((k: Json) => k.name === 'quoted' && k.key === undefined && k.prefix.startsWith('nbk_')),
    );
  });

  test('1.0 events carry the API key in identity', async () => {
    const key = await createKey('v1key', 'three');
    const { rc } = (await (await get('/keyed1', { 'x-api-key': key })).json()) as Json;
    assert.equal(rc.identity.apiKey, key);
    assert.match(rc.identity.apiKeyId, /^key_/);
  });

  test('JWT HS256: claims in the 2.0 and 1.0 events; bad tokens → 401 with WWW-Authenticate', async () => {
    const token = await hs({ scope: 'read write' });
    const ok = await get('/hs', { authorization: `Bearer ${token}` });
    assert.equal(ok.status, 200);
    const { rc } = (await ok.json()) as Json;
    assert.equal(rc.authorizer.jwt.claims.sub, 'user-1');
    assert.deepEqual(rc.authorizer.jwt.scopes, ['read', 'write']);
    const v1 = (await (await get('/hs1', { authorization: `Bearer ${token}` })).json()) as Json;
    assert.equal(v1.rc.authorizer.claims.sub, 'user-1');

    const missing = await get('/hs');
    assert.equal(missing.status, 401);
    assert.equal(missing.headers.get('www-authenticate'), 'Bearer');
    assert.deepEqual(await missing.json(), { message: 'Unauthorized' });
    const now = Math.floor(Date.now() / 1000);
    const bad = {
      expired: await hs({}, (j) => j.setExpirationTime(now - 120)),
      notYetValid: await hs({}, (j) => j.setNotBefore(now + 600)),
      wrongAudience: await hs({}, (j) => j.setAudience('other')),
      wrongIssuer: await hs({}, (j) => j.setIssuer('https://evil.test/')),
      wrongSecret: await new SignJWT({})
        .setProtectedHeader({ alg: 'HS256' })
        .setIssuer(ISSUER)
        .setAudience('api')
        .setExpirationTime('5m')
        .sign(new TextEncoder().encode('another-secret-another-secret-xx')),
    };
    for (const [what, tok] of Object.entries(bad)) {
      const res = await get('/hs', { authorization: `Bearer ${tok}` });
      assert.equal(res.status, 401, what);
      assert.match(res.headers.get('www-authenticate') ?? '', /^Bearer error="invalid_token"/, what);
      await res.body?.cancel();
    }
    // Within the clock skew (60 s), an expired token still passes.
    const skewed = await get('/hs', {
      authorization: `Bearer ${await hs({}, (j) => j.setExpirationTime(now - 10))}`,
    });
    assert.equal(skewed.status, 200);
    await skewed.body?.cancel();
  });

  test('JWT scopes: missing scope → 403, granted scope → 200', async () => {
    const no = await get('/scoped', { authorization: `Bearer ${await hs({ scope: 'read' })}` });
    assert.equal(no.status, 403);
    assert.deepEqual(await no.json(), { message: 'Forbidden' });
    const yes = await get('/scoped', { authorization: `Bearer ${await hs({ scp: ['admin'] })}` });
    assert.equal(yes.status, 200);
    await yes.body?.cancel();
  });

  test('JWT RS256 and ES256 from a JWKS URL', async () => {
    for (const [alg, key, kid] of [
      ['RS256', rsa.privateKey, 'rsa-1'],
      ['ES256', ec.privateKey, 'ec-1'],
    ] as const) {
      const token = await new SignJWT({ sub: alg })
        .setProtectedHeader({ alg, kid })
        .setIssuer(ISSUER)
        .setAudience('api')
        .setExpirationTime('5m')
        .sign(key);
      const res = await get('/pk', { authorization: `Bearer ${token}` });
      assert.equal(res.status, 200, alg);
      assert.equal(((await res.json()) as Json).rc.authorizer.jwt.claims.sub, alg);
    }
  });

  test('custom authorizer: allow with context, cached per identity; deny → 403; missing → 401; error → 500', async () => {
    const first = (await (await get('/custom', { 'x-token': 'allow' })).json()) as Json;
    const second = (await (await get('/custom', { 'x-token': 'allow' })).json()) as Json;
    const ctx = first.rc.authorizer.lambda;
    assert.equal(ctx.user, 'u1');
    assert.equal(ctx.type, 'REQUEST');
    assert.equal(ctx.routeArn, 'arn:aws:execute-api:us-east-1:000000000000:authy/$default/GET/custom');
    // The same nonce: the second request was answered from the cache, the authorizer ran once.
    assert.equal(second.rc.authorizer.lambda.nonce, ctx.nonce);
    const deny = await get('/custom', { 'x-token': 'deny' });
    assert.equal(deny.status, 403);
    assert.deepEqual(await deny.json(), { message: 'Forbidden' });
    const missing = await get('/custom');
    assert.equal(missing.status, 401);
    assert.deepEqual(await missing.json(), { message: 'Unauthorized' });
    const boom = await get('/custom', { 'x-token': 'boom' });
    assert.equal(boom.status, 500);
    assert.deepEqual(await boom.json(), { message: 'Internal Server Error' });
  });
});

installLeakGuard();
