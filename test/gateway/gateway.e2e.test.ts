// End to end over a real socket: routes from nimbus.yml served on the main port — events as a
// real function sees them (2.0 and 1.0), response inference, binary, cookies, CORS, compression,
// request ids, API Gateway's error answers, body limit, and route conflicts between apps.
import assert from 'node:assert/strict';
import { brotliDecompressSync, gunzipSync } from 'node:zlib';
import { after, before, describe, test } from 'node:test';
import { installLeakGuard } from '../helpers/leak-guard.js';
import { startTestServer, type TestServer } from '../helpers/test-server.js';

const APP = {
  'nimbus.yml': `
app: gw
gateway:
  cors:
    allowOrigins: [https://app.example]
    allowHeaders: [content-type, x-custom]
    exposeHeaders: [x-request-id]
    maxAge: 600
functions:
  echo:
    handler: fns.echo
    events:
      - http: GET /users/{id}
      - http: GET /users/me
      - http: "ANY /files/{proxy+}"
      - http: { method: post, path: /echo }
  v1echo:
    handler: fns.echo
    events:
      - http: { method: get, path: "/rest/{id}", payload: '1.0' }
  v1shape:
    handler: fns.shape
    events:
      - http: { method: post, path: /rest/shape, payload: '1.0' }
  shape:
    handler: fns.shape
    events:
      - http: POST /shape
  boom:
    handler: fns.boom
    events:
      - http: GET /boom
  slow:
    handler: fns.slow
    timeout: 1
    events:
      - http: GET /slow
  busy:
    handler: fns.busy
    maxConcurrency: 1
    events:
      - http: GET /busy
  fallback:
    handler: fns.fallback
    events:
      - http: $default
`,
  'fns.js': `
exports.echo = async (event, context) => ({ statusCode: 200, headers: { 'content-type': 'application/json' },
  body: JSON.stringify({ event, awsRequestId: context.awsRequestId }) });
exports.shape = async (event) => {
  const body = event.isBase64Encoded ? Buffer.from(event.body, 'base64').toString() : event.body;
  return JSON.parse(body).result;
};
exports.boom = async () => { throw new Error('secret stack detail'); };
exports.slow = () => new Promise(() => {});
exports.busy = () => new Promise((r) => setTimeout(() => r({ ok: true }), 1500));
exports.fallback = async (event) => ({ fallback: event.rawPath, routeKey: event.routeKey });
`,
};

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any -- test reads loose JSON

describe('HTTP gateway over a socket', () => {
  let t: TestServer;
  const logged: string[] = [];
  before(async () => {
    t = await startTestServer({
      acquireTimeoutMs: 300,
      logger: { info: (m) => logged.push(m), warn: (m) => logged.push(m), error: (m) => logged.push(m) },
    });
    await t.deployFiles(APP);
  });
  after(() => t.close());

  const get = (path: string, init?: RequestInit) => fetch(t.url + path, init);
  const echo = async (path: string, init?: RequestInit): Promise<Json> => {
    const res = await get(path, init);
    assert.equal(res.status, 200, await res.clone().text());
    return (await res.json()) as Json;
  };

  test('2.0 event as a real function sees it', async () => {
    const { event, awsRequestId } = await echo('/users/42?a=1&a=2&b=x%20y', {
      headers: { cookie: 'c1=v1; c2=v2', 'x-multi': 'one', 'x-request-id': 'client-id-123' },
    });
    assert.equal(awsRequestId, 'client-id-123');
    assert.equal(event.version, '2.0');
    assert.equal(event.routeKey, 'GET /users/{id}');
    assert.equal(event.rawPath, '/users/42');
    assert.equal(event.rawQueryString, 'a=1&a=2&b=x%20y');
    assert.deepEqual(event.cookies, ['c1=v1', 'c2=v2']);
    assert.equal(event.headers.cookie, undefined);
    assert.equal(event.headers['x-multi'], 'one');
    assert.equal(event.headers['x-request-id'], 'client-id-123');
    assert.match(event.headers.traceparent, /^00-[0-9a-f]{32}-[0-9a-f]{16}-00$/);
    assert.deepEqual(event.queryStringParameters, { a: '1,2', b: 'x y' });
    assert.deepEqual(event.pathParameters, { id: '42' });
    assert.equal(event.isBase64Encoded, false);
    assert.equal(event.body, undefined);
    const rc = event.requestContext;
    assert.equal(rc.accountId, '000000000000');
    assert.equal(rc.apiId, 'gw');
    assert.equal(rc.domainName, '127.0.0.1');
    assert.equal(rc.stage, '$default');
    assert.equal(rc.requestId, 'client-id-123');
    assert.equal(rc.routeKey, 'GET /users/{id}');
    assert.deepEqual(Object.keys(rc.http).sort(), ['method', 'path', 'protocol', 'sourceIp', 'userAgent']);
    assert.equal(rc.http.method, 'GET');
    assert.equal(rc.http.protocol, 'HTTP/1.1');
    assert.match(rc.time, /^\d\d\/[A-Z][a-z]{2}\/\d{4}:\d\d:\d\d:\d\d \+0000$/);
    assert.equal(typeof rc.timeEpoch, 'number');
  });

  test('traceparent from the client is passed on unchanged', async () => {
    const tp = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01';
    const { event } = await echo('/users/1', { headers: { traceparent: tp } });
    assert.equal(event.headers.traceparent, tp);
  });

  test('priority: exact beats variable; greedy proxy; $default last', async () => {
    assert.equal((await echo('/users/me')).event.routeKey, 'GET /users/me');
    const proxy = (await echo('/files/a/b%20c.txt', { method: 'DELETE' })).event;
    assert.equal(proxy.routeKey, 'ANY /files/{proxy+}');
    assert.deepEqual(proxy.pathParameters, { proxy: 'a/b c.txt' });
    const fb = (await echo('/anything/else')) as Json;
    assert.deepEqual(fb, { fallback: '/anything/else', routeKey: '$default' });
    // POST /users/1 has no route but $default catches it.
    assert.equal(((await echo('/users/1', { method: 'POST' })) as Json).routeKey, '$default');
  });

  test('1.0 event (REST shape)', async () => {
    const { event } = await echo('/rest/7?x=1&x=2', { headers: { 'x-dup': 'a' } });
    assert.equal(event.version, '1.0');
    assert.equal(event.resource, '/rest/{id}');
    assert.equal(event.path, '/rest/7');
    assert.equal(event.httpMethod, 'GET');
    assert.equal(event.headers['x-dup'], 'a');
    assert.deepEqual(event.multiValueHeaders['x-dup'], ['a']);
    assert.deepEqual(event.queryStringParameters, { x: '2' });
    assert.deepEqual(event.multiValueQueryStringParameters, { x: ['1', '2'] });
    assert.deepEqual(event.pathParameters, { id: '7' });
    assert.equal(event.body, null);
    assert.equal(event.requestContext.resourcePath, '/rest/{id}');
    assert.equal(event.requestContext.httpMethod, 'GET');
  });

  const shape = (result: unknown, init: RequestInit = {}) =>
    get('/shape', { method: 'POST', body: JSON.stringify({ result }), ...init });

  test('response inference: no statusCode → 200 JSON of the result', async () => {
    const res = await shape({ hello: 'world' });
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('content-type'), 'application/json');
    assert.deepEqual(await res.json(), { hello: 'world' });
    const str = await shape('just text');
    assert.equal(await str.text(), '"just text"');
  });

  test('structured response: status, headers, cookies, base64 body out', async () => {
    const res = await shape({
      statusCode: 201,
      headers: { 'content-type': 'image/png', 'x-a': 'b' },
      cookies: ['s=1; Path=/', 't=2'],
      body: Buffer.from([0, 1, 2, 255]).toString('base64'),
      isBase64Encoded: true,
    });
    assert.equal(res.status, 201);
    assert.equal(res.headers.get('x-a'), 'b');
    assert.deepEqual(res.headers.getSetCookie(), ['s=1; Path=/', 't=2']);
    assert.deepEqual([...new Uint8Array(await res.arrayBuffer())], [0, 1, 2, 255]);
  });

  test('binary request body arrives base64-encoded', async () => {
    const bytes = Buffer.from([0xff, 0x00, 0x10, 0x80]);
    const { event } = await echo('/echo', {
      method: 'POST',
      body: bytes,
      headers: { 'content-type': 'application/octet-stream' },
    });
    assert.equal(event.isBase64Encoded, true);
    assert.deepEqual(Buffer.from(event.body, 'base64'), bytes);
    const text = await echo('/echo', {
      method: 'POST',
      body: 'héllo',
      headers: { 'content-type': 'text/plain' },
    });
    assert.equal(text.event.body, 'héllo');
    assert.equal(text.event.isBase64Encoded, false);
  });

  test('malformed responses → 502; 1.0 needs a statusCode', async () => {
    const bad = await shape({ statusCode: 200, body: { not: 'a string' } });
    assert.equal(bad.status, 502);
    assert.deepEqual(await bad.json(), { message: 'Internal Server Error' });
    const v1 = await get('/rest/shape', { method: 'POST', body: JSON.stringify({ result: { hello: 1 } }) });
    assert.equal(v1.status, 502);
    const v1ok = await get('/rest/shape', {
      method: 'POST',
      body: JSON.stringify({
        result: {
          statusCode: 202,
          multiValueHeaders: { 'x-m': ['1', '2'] },
          headers: { 'x-s': 'a' },
          body: 'ok',
        },
      }),
    });
    assert.equal(v1ok.status, 202);
    assert.equal(v1ok.headers.get('x-m'), '1, 2');
    assert.equal(v1ok.headers.get('x-s'), 'a');
    assert.equal(await v1ok.text(), 'ok');
  });

  test('errors: 404, 502 without a stack, 504 on timeout, 429 when saturated', async () => {
    // No route: the gw app's $default catches everything, so ask a path only the API could own.
    const boom = await get('/boom');
    assert.equal(boom.status, 502);
    const text = await boom.text();
    assert.deepEqual(JSON.parse(text), { message: 'Internal Server Error' });
    assert.ok(!text.includes('secret'));
    assert.ok(boom.headers.get('x-request-id'));
    const slow = await get('/slow');
    assert.equal(slow.status, 504);
    assert.deepEqual(await slow.json(), { message: 'Endpoint request timed out' });
    const [a, b] = await Promise.all([get('/busy'), get('/busy')]);
    const statuses = [a.status, b.status].sort();
    assert.deepEqual(statuses, [200, 429]);
    const limited = a.status === 429 ? a : b;
    assert.deepEqual(await limited.json(), { message: 'Too Many Requests' });
    await (a.status === 429 ? b : a).body?.cancel();
  });

  test('oversized body → 413 without invoking', async () => {
    const res = await get('/echo', { method: 'POST', body: Buffer.alloc(6 * 1024 * 1024 + 1) });
    assert.equal(res.status, 413);
    assert.deepEqual(await res.json(), { message: 'Request Entity Too Large' });
  });

  test('X-Request-Id: echoed, generated when absent or insane, in the access log', async () => {
    const mine = await get('/users/5', { headers: { 'x-request-id': 'trace-me-42' } });
    assert.equal(mine.headers.get('x-request-id'), 'trace-me-42');
    await mine.body?.cancel();
    const gen = await get('/users/5', { headers: { 'x-request-id': 'bad id with spaces' } });
    assert.match(gen.headers.get('x-request-id') ?? '', /^[0-9a-f-]{36}$/);
    await gen.body?.cancel();
    assert.ok(
      logged.some((l) => /^GET \/users\/5 200 [\d.]+ms trace-me-42$/.test(l)),
      logged.join('\n'),
    );
    // The function's own START/END/REPORT lines carry the same id (logs are written in batches).
    let text = '';
    for (let i = 0; i < 50 && !text.includes('START RequestId: trace-me-42'); i++) {
      await new Promise((r) => setTimeout(r, 50));
      text = await (await t.fetchV1('/v1/functions/gw-echo/logs?since=0')).text();
    }
    assert.ok(text.includes('START RequestId: trace-me-42'), text.slice(0, 500));
  });

  test('CORS: preflight answered without invoking; headers on responses', async () => {
    const before = (await (await t.fetchV1('/v1/metrics')).json()) as Json;
    const pre = await get('/echo', {
      method: 'OPTIONS',
      headers: {
        origin: 'https://app.example',
        'access-control-request-method': 'POST',
        'access-control-request-headers': 'Content-Type, X-Custom',
      },
    });
    assert.equal(pre.status, 204);
    assert.equal(pre.headers.get('access-control-allow-origin'), 'https://app.example');
    assert.equal(pre.headers.get('access-control-allow-methods'), 'POST');
    assert.equal(pre.headers.get('access-control-allow-headers'), 'content-type,x-custom');
    assert.equal(pre.headers.get('access-control-max-age'), '600');
    const after = (await (await t.fetchV1('/v1/metrics')).json()) as Json;
    assert.deepEqual(after.pool, before.pool, 'no invocation happened');
    const requestId = pre.headers.get('x-request-id');
    assert.ok(logged.some((l) => l.startsWith('OPTIONS /echo 204') && l.endsWith(requestId ?? '?')));
    const res = await get('/users/1', { headers: { origin: 'https://app.example' } });
    assert.equal(res.headers.get('access-control-allow-origin'), 'https://app.example');
    assert.equal(res.headers.get('access-control-expose-headers'), 'x-request-id');
    await res.body?.cancel();
    const other = await get('/users/1', { headers: { origin: 'https://evil.example' } });
    assert.equal(other.headers.get('access-control-allow-origin'), null);
    await other.body?.cancel();
  });

  test('compression: brotli or gzip above 1 KB when accepted, none below', async () => {
    const big = { text: 'x'.repeat(5000) };
    for (const enc of ['br', 'gzip'] as const) {
      // fetch would decode transparently; read the raw bytes through node:http instead.
      const { headers, body } = await rawPost(t.url + '/shape', JSON.stringify({ result: big }), enc);
      assert.equal(headers['content-encoding'], enc);
      const plain = enc === 'br' ? brotliDecompressSync(body) : gunzipSync(body);
      assert.deepEqual(JSON.parse(plain.toString()), big);
      assert.ok(body.length < 1000);
    }
    const small = await rawPost(t.url + '/shape', JSON.stringify({ result: { a: 1 } }), 'gzip');
    assert.equal(small.headers['content-encoding'], undefined);
  });

  test('route conflicts between apps are refused naming both; basePath avoids them', async () => {
    const thief = t.writeApp({
      'nimbus.yml':
        'app: thief\nfunctions:\n  f:\n    handler: f.h\n    events:\n      - http: GET /users/{uid}\n',
      'f.js': 'exports.h = async () => "thief";',
    });
    await assert.rejects(t.deploy(thief), (err: Error) => {
      assert.match(err.message, /GET \/users\/\{uid\}/);
      assert.match(err.message, /'thief'/);
      assert.match(err.message, /'gw'/);
      return true;
    });
    // Nothing half-deployed: the function of the refused deploy does not exist.
    assert.equal((await t.fetchV1('/v1/functions/thief-f')).status, 404);
    const based = t.writeApp({
      'nimbus.yml':
        'app: based\ngateway:\n  basePath: /api\nfunctions:\n  f:\n    handler: f.h\n    events:\n      - http: GET /users/{uid}\n',
      'f.js': 'exports.h = async (e) => ({ app: "based", rawPath: e.rawPath, routeKey: e.routeKey });',
    });
    await t.deploy(based);
    assert.deepEqual(await echo('/api/users/3'), {
      app: 'based',
      rawPath: '/api/users/3',
      routeKey: 'GET /users/{uid}',
    });
    assert.equal((await echo('/users/3')).event.routeKey, 'GET /users/{id}');
  });

  test('the deploy API refuses routes to functions outside the app, and bad route shapes', async () => {
    const deploy = (gateway: unknown) =>
      t.fetchV1('/v1/apps/ghosts/deploy', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ functions: [], gateway }),
      });
    const ghost = await deploy({ routes: [{ function: 'ghost', method: 'GET', path: '/ghost' }] });
    assert.equal(ghost.status, 400);
    assert.match(((await ghost.json()) as Json).message, /targets function 'ghost'/);
    const shape = await deploy({ routes: [{ function: 'x', method: 'GET', path: 'no-slash' }] });
    assert.equal(shape.status, 400);
    assert.match(((await shape.json()) as Json).message, /gateway\.routes\.0\.path/);
  });

  test('no route at all → 404 {"message":"Not Found"}', async () => {
    // Remove the $default catch-all by redeploying gw without it.
    const small = t.writeApp({
      'nimbus.yml':
        'app: gw\nfunctions:\n  echo:\n    handler: fns.echo\n    events:\n      - http: GET /only\n',
      'fns.js': APP['fns.js'],
    });
    await t.deploy(small);
    const res = await get('/nowhere');
    assert.equal(res.status, 404);
    assert.deepEqual(await res.json(), { message: 'Not Found' });
    assert.ok(res.headers.get('x-request-id'));
    assert.equal((await get('/only')).status, 200);
    // API paths are still the API's.
    assert.equal((await get('/v1/health')).status, 200);
  });
});

async function rawPost(
  url: string,
  body: string,
  encoding: string,
): Promise<{ headers: Record<string, string | string[] | undefined>; body: Buffer }> {
  const { request } = await import('node:http');
  return new Promise((resolve, reject) => {
    const req = request(url, { method: 'POST', headers: { 'accept-encoding': encoding } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ headers: res.headers, body: Buffer.concat(chunks) }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(body);
  });
}

installLeakGuard();
