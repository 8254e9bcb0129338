// examples/hono-app (a Hono app as a Web-standard handler) deploys and answers API Gateway events
// through the AWS Lambda API (the runtime tests cover both tiers).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { InvokeCommand } from '@aws-sdk/client-lambda';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { installLeakGuard } from '../helpers/leak-guard.js';
import { startTestServer, type TestServer } from '../helpers/test-server.js';

const EXAMPLE = fileURLToPath(new URL('../../examples/hono-app', import.meta.url));

let t: TestServer;
before(async () => {
  t = await startTestServer();
});
after(() => t.close());
// Registered after the cleanup hook: top-level `after` hooks run in registration order.
installLeakGuard();

interface GatewayResult {
  statusCode: number;
  headers: Record<string, string>;
  cookies?: string[];
  body: string;
  isBase64Encoded: boolean;
}

/** A hand-built HTTP API payload 2.0 event, as the gateway sends it. */
function httpEvent(
  method: string,
  path: string,
  o: { body?: string; cookies?: string[]; query?: string } = {},
) {
  return {
    version: '2.0',
    routeKey: 'ANY /{proxy+}',
    rawPath: path,
    rawQueryString: o.query ?? '',
    ...(o.cookies ? { cookies: o.cookies } : {}),
    headers: { host: 'localhost:8080', 'content-type': 'application/json', 'x-forwarded-proto': 'http' },
    requestContext: {
      domainName: 'localhost:8080',
      http: { method, path, protocol: 'HTTP/1.1', sourceIp: '127.0.0.1', userAgent: 'test' },
      requestId: 'e2e',
      routeKey: 'ANY /{proxy+}',
      stage: '$default',
    },
    ...(o.body === undefined ? {} : { body: o.body }),
    isBase64Encoded: false,
  };
}

async function invoke(event: unknown, fn = 'hono-app-web'): Promise<GatewayResult & { logs: string }> {
  const res = await t.lambda.send(
    new InvokeCommand({ FunctionName: fn, Payload: Buffer.from(JSON.stringify(event)), LogType: 'Tail' }),
  );
  const payload = Buffer.from(res.Payload ?? []).toString();
  assert.equal(res.FunctionError, undefined, payload);
  const logs = Buffer.from(res.LogResult ?? '', 'base64').toString();
  return { ...(JSON.parse(payload) as GatewayResult), logs };
}

test('hono-app answers payload 2.0 events through the Lambda API', async () => {
  await t.deploy(EXAMPLE);

  const hello = await invoke(httpEvent('GET', '/hello/Ada', { query: 'lang=fr' }));
  assert.equal(hello.statusCode, 200);
  assert.match(hello.headers['content-type'] ?? '', /^application\/json/);
  assert.deepEqual(JSON.parse(hello.body), { message: 'Hello, Ada!', lang: 'fr' });

  const root = await invoke(httpEvent('GET', '/'));
  assert.equal(root.body, 'Hono on Nimbus\n');

  const echo = await invoke(httpEvent('POST', '/echo', { body: '{"n":[1,2]}' }));
  assert.equal(echo.statusCode, 201);
  assert.deepEqual(JSON.parse(echo.body), { received: { n: [1, 2] } });

  const visits = await invoke(httpEvent('GET', '/visits', { cookies: ['visits=4', 'other=x'] }));
  assert.deepEqual(JSON.parse(visits.body), { visits: 5 });
  assert.deepEqual(visits.cookies, ['visits=5; Path=/; HttpOnly']);

  const countdown = await invoke(httpEvent('GET', '/countdown'));
  assert.equal(countdown.body, '3\n2\n1\nliftoff\n');
  assert.equal(
    countdown.headers['transfer-encoding'],
    undefined,
    'the body was read whole: no chunked framing',
  );

  const pixel = await invoke(httpEvent('GET', '/pixel.gif'));
  assert.equal(pixel.isBase64Encoded, true);
  assert.equal(pixel.headers['content-type'], 'image/gif');
  assert.equal(Buffer.from(pixel.body, 'base64').subarray(0, 6).toString(), 'GIF89a');

  const accepted = await invoke(httpEvent('POST', '/events', { body: '{"name":"signup"}' }));
  assert.equal(accepted.statusCode, 202);
  assert.match(accepted.logs, /recorded event signup/);

  const missing = await invoke(httpEvent('GET', '/nope'));
  assert.equal(missing.statusCode, 404);
});

test('the example event file works, and a direct invoke without an HTTP event is a clear error', async () => {
  const event = JSON.parse(readFileSync(`${EXAMPLE}/event.json`, 'utf8')) as unknown;
  assert.deepEqual(JSON.parse((await invoke(event)).body), { message: 'Hello, Ada!', lang: 'en' });

  const res = await t.lambda.send(
    new InvokeCommand({ FunctionName: 'hono-app-web', Payload: Buffer.from('{}') }),
  );
  assert.equal(res.FunctionError, 'Unhandled');
  const err = JSON.parse(Buffer.from(res.Payload ?? []).toString()) as { errorType: string };
  assert.equal(err.errorType, 'Runtime.InvalidEvent');
});

test('hono-app over HTTP through the gateway', async () => {
  await t.deploy(EXAMPLE);
  const get = (path: string, init?: RequestInit) => fetch(new URL(path, t.url), init);

  const hello = await get('/hello/Ada?lang=fr');
  assert.equal(hello.status, 200);
  assert.deepEqual(await hello.json(), { message: 'Hello, Ada!', lang: 'fr' });

  const echo = await get('/echo', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: '{"a":1}',
  });
  assert.equal(echo.status, 201);
  assert.deepEqual(await echo.json(), { received: { a: 1 } });

  const visits = await get('/visits', { headers: { cookie: 'visits=2' } });
  assert.deepEqual(await visits.json(), { visits: 3 });
  assert.deepEqual(visits.headers.getSetCookie(), ['visits=3; Path=/; HttpOnly']);

  const countdown = await get('/countdown');
  assert.equal(await countdown.text(), '3\n2\n1\nliftoff\n');

  const pixel = await get('/pixel.gif');
  assert.equal(pixel.headers.get('content-type'), 'image/gif');
  assert.equal(
    Buffer.from(await pixel.arrayBuffer())
      .subarray(0, 6)
      .toString(),
    'GIF89a',
  );

  const missing = await get('/no/such/page');
  assert.equal(missing.status, 404);
  assert.deepEqual(await missing.json(), { message: 'Not Found' });
});
