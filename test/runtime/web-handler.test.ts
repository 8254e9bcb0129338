// Web-standard handlers (`export default { fetch }`, a Hono app) in both runtime tiers: API Gateway
// payload 2.0 and 1.0 events in, gateway results out; streamed bodies, binary, cookies, errors.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import * as esbuild from 'esbuild';
import { installLeakGuard } from '../helpers/leak-guard.js';
import { FunctionInitError } from '../../src/runtime/runtime-backend.js';
import type {
  FunctionInstance,
  InstanceInvokeResult,
  RuntimeBackend,
} from '../../src/runtime/runtime-backend.js';
import { ProcessBackend } from '../../src/runtime/process/process-backend.js';
import { ThreadBackend } from '../../src/runtime/thread/thread-backend.js';
import { cleanupFixtures, codeDir, json, request, spec, tempDir } from './runtime-fixtures.js';

const REPO = fileURLToPath(new URL('../..', import.meta.url));

after(async () => {
  cleanupFixtures();
  await esbuild.stop();
});
installLeakGuard();

interface GatewayResult {
  statusCode: number;
  headers: Record<string, string>;
  cookies?: string[];
  multiValueHeaders?: Record<string, string[]>;
  body: string;
  isBase64Encoded: boolean;
}

function ok(r: InstanceInvokeResult): GatewayResult {
  if (!r.ok) assert.fail(`expected success, got ${r.error.errorType}: ${r.error.errorMessage}\n${r.logs}`);
  return json(r.payload) as GatewayResult;
}

function failed(r: InstanceInvokeResult): Extract<InstanceInvokeResult, { ok: false }> {
  if (r.ok) assert.fail(`expected an error, got ${r.payload.toString()}`);
  return r;
}

interface HttpInput {
  query?: string;
  headers?: Record<string, string>;
  cookies?: string[];
  body?: string | Buffer;
}

/** An HTTP API payload 2.0 event, as the gateway builds it. */
function v2(method: string, path: string, o: HttpInput = {}): Record<string, unknown> {
  const binary = Buffer.isBuffer(o.body);
  return {
    version: '2.0',
    routeKey: '$default',
    rawPath: path,
    rawQueryString: o.query ?? '',
    ...(o.cookies ? { cookies: o.cookies } : {}),
    headers: { host: 'api.example.test', 'x-forwarded-proto': 'https', ...o.headers },
    queryStringParameters: o.query ? Object.fromEntries(new URLSearchParams(o.query)) : undefined,
    requestContext: {
      accountId: '000000000000',
      apiId: 'local',
      domainName: 'api.example.test',
      http: { method, path, protocol: 'HTTP/1.1', sourceIp: '127.0.0.1', userAgent: 'test' },
      requestId: 'req-1',
      routeKey: '$default',
      stage: '$default',
      time: '22/Nov/2026:07:00:00 +0000',
      timeEpoch: 1_795_330_800_000,
    },
    ...(o.body === undefined
      ? {}
      : { body: binary ? o.body.toString('base64') : o.body, isBase64Encoded: binary }),
  };
}

/** A REST API (payload 1.0) event with multi-value headers and query parameters. */
function v1(
  method: string,
  path: string,
  o: { query?: Record<string, string[]>; headers?: Record<string, string[]>; body?: string } = {},
): Record<string, unknown> {
  const mvh = { Host: ['rest.example.test'], ...o.headers };
  return {
    version: '1.0',
    resource: '/{proxy+}',
    path,
    httpMethod: method,
    headers: Object.fromEntries(Object.entries(mvh).map(([k, v]) => [k, v[v.length - 1]])),
    multiValueHeaders: mvh,
    queryStringParameters: o.query
      ? Object.fromEntries(Object.entries(o.query).map(([k, v]) => [k, v[v.length - 1]]))
      : null,
    multiValueQueryStringParameters: o.query ?? null,
    pathParameters: { proxy: path.slice(1) },
    requestContext: {
      httpMethod: method,
      path,
      stage: 'prod',
      requestId: 'req-1',
      domainName: 'rest.example.test',
    },
    body: o.body ?? null,
    isBase64Encoded: false,
  };
}

const ECHO = `export default {
  async fetch(req, env, ctx) {
    return Response.json({
      method: req.method,
      url: req.url,
      headers: Object.fromEntries(req.headers),
      body: await req.text(),
      env: env.GREETING ?? null,
      envIsCopy: env !== process.env,
      remaining: ctx.lambda.getRemainingTimeInMillis() > 0,
      requestId: ctx.lambda.awsRequestId,
      routeKey: ctx.event.routeKey ?? ctx.event.resource,
      hasWaitUntil: typeof ctx.waitUntil === 'function' && typeof ctx.passThroughOnException === 'function',
    });
  },
};`;

// A Hono app, bundled with esbuild from the repo's node_modules (as a deploy would).
const HONO_APP = `
import { Hono } from 'hono';
import { getCookie, setCookie } from 'hono/cookie';
const app = new Hono();
app.get('/users/:id', (c) => c.json({ id: c.req.param('id'), q: c.req.query('q') ?? null, all: c.req.queries('tag') ?? [] }));
app.post('/echo', async (c) => c.json({ got: await c.req.json(), type: c.req.header('content-type') }, 201));
app.get('/cookies', (c) => {
  setCookie(c, 'a', '1', { path: '/' });
  setCookie(c, 'b', '2', { httpOnly: true });
  return c.text('seen ' + (getCookie(c, 'session') ?? 'none') + '/' + (getCookie(c, 'theme') ?? 'none'));
});
app.get('/bin', () => new Response(new Uint8Array([0, 1, 2, 253, 254, 255]), { headers: { 'content-type': 'image/png' } }));
app.get('/env', (c) => c.text(String(c.env.GREETING)));
app.get('/later', (c) => {
  c.executionCtx.waitUntil(new Promise((r) => setTimeout(() => { console.log('background work done'); r(); }, 50)));
  return c.text('accepted', 202);
});
app.notFound((c) => c.json({ message: 'nope' }, 404));
export default app;
`;

const STREAMS = `
const enc = new TextEncoder();
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
export const handler = {
  async fetch(req, env, ctx) {
    const path = new URL(req.url).pathname;
    if (path === '/stream') {
      const body = new ReadableStream({
        async start(controller) {
          for (let i = 0; i < 5; i++) { controller.enqueue(enc.encode('chunk' + i + '\\n')); await sleep(10); }
          controller.close();
        },
      });
      return new Response(body, { headers: { 'content-type': 'text/plain; charset=utf-8', 'transfer-encoding': 'chunked' } });
    }
    if (path === '/endless') {
      const block = new Uint8Array(256 * 1024).fill(120);
      return new Response(new ReadableStream({ pull(c) { c.enqueue(block); } }), { headers: { 'content-type': 'text/plain' } });
    }
    if (path === '/big-binary') {
      return new Response(new Uint8Array(5 * 1024 * 1024), { headers: { 'content-type': 'application/octet-stream' } });
    }
    if (path === '/no-type') return new Response(path === '/no-type' ? 'plain words' : '');
    if (path === '/no-type-bytes') return new Response(new Uint8Array([255, 0, 128]));
    if (path === '/empty') return new Response(null, { status: 204 });
    if (path === '/reject-early') {
      ctx.waitUntil(Promise.reject(new Error('background failed')));
      await sleep(20);
      return new Response('still fine');
    }
    if (path === '/not-a-response') return { statusCode: 200 };
    if (path === '/throws') throw new RangeError('app broke');
    return new Response('?', { status: 404 });
  },
};`;

async function bundleHono(): Promise<string> {
  const out = await esbuild.build({
    stdin: { contents: HONO_APP, resolveDir: REPO, loader: 'js', sourcefile: 'hono-app.js' },
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    write: false,
    logLevel: 'silent',
  });
  return out.outputFiles[0]!.text;
}

const TIERS: Array<[string, () => Promise<RuntimeBackend>]> = [
  [
    'process',
    () =>
      ProcessBackend.create({
        workDir: tempDir(),
        sandbox: 'auto',
        prewarm: { nodejs: 1, python: 0, provided: 0 },
      }),
  ],
  ['thread', async () => new ThreadBackend({ prewarm: 1 })],
];

for (const [tier, make] of TIERS) {
  describe(`web-standard handlers (${tier} tier)`, () => {
    let backend: RuntimeBackend;
    let honoCode: string;
    const instances: FunctionInstance[] = [];
    const spawn = async (...args: Parameters<typeof spec>): Promise<FunctionInstance> => {
      const inst = await backend.spawn(spec(...args));
      instances.push(inst);
      return inst;
    };

    before(async () => {
      backend = await make();
      honoCode = await bundleHono();
    });
    after(async () => {
      await Promise.all(instances.map((i) => i.dispose()));
      await backend.close();
    });

    it('passes a payload 2.0 event to fetch() as a Request and maps the Response back', async () => {
      const dir = codeDir({ 'index.mjs': ECHO });
      const inst = await spawn(dir, { handler: 'index.default', environment: { GREETING: 'hi' } });
      const req = request(
        v2('POST', '/things/a b', {
          query: 'x=1&x=2&y=%C3%A9',
          headers: { 'content-type': 'text/plain', 'x-multi': 'a,b' },
          cookies: ['session=abc', 'theme=dark'],
          body: Buffer.from('héllo'),
        }),
      );
      const r = ok(await inst.invoke(req));
      assert.equal(r.statusCode, 200);
      assert.match(r.headers['content-type'] ?? '', /^application\/json/);
      assert.equal(r.isBase64Encoded, false);
      assert.equal(r.cookies, undefined);
      const e = JSON.parse(r.body) as Record<string, unknown>;
      assert.equal(e.method, 'POST');
      assert.equal(e.url, 'https://api.example.test/things/a%20b?x=1&x=2&y=%C3%A9');
      const headers = e.headers as Record<string, string>;
      assert.equal(headers.cookie, 'session=abc; theme=dark');
      assert.equal(headers['x-multi'], 'a,b');
      assert.equal(headers['content-type'], 'text/plain');
      assert.equal(e.body, 'héllo');
      assert.equal(e.env, 'hi');
      assert.equal(e.envIsCopy, true);
      assert.equal(e.remaining, true);
      assert.equal(e.requestId, req.requestId);
      assert.equal(e.routeKey, '$default');
      assert.equal(e.hasWaitUntil, true);
    });

    it('accepts payload 1.0 events (multi-value headers and query) and a named { fetch } export in CJS', async () => {
      const dir = codeDir({
        'app.cjs': `exports.handler = { fetch: async (req) => new Response(JSON.stringify({
          method: req.method, url: req.url, accept: req.headers.get('accept'), body: await req.text() }),
          { headers: [['content-type', 'application/json'], ['set-cookie', 'a=1'], ['set-cookie', 'b=2; Path=/; HttpOnly'], ['x-one', '1']] }) };`,
      });
      const inst = await spawn(dir, { handler: 'app.handler' });
      const r = ok(
        await inst.invoke(
          request(
            v1('PUT', '/items/7', {
              query: { tag: ['a', 'b c'], one: ['1'] },
              headers: { Accept: ['text/html', 'application/json'] },
              body: '{"n":1}',
            }),
          ),
        ),
      );
      assert.equal(r.statusCode, 200);
      assert.deepEqual(r.multiValueHeaders, { 'set-cookie': ['a=1', 'b=2; Path=/; HttpOnly'] });
      assert.equal(r.cookies, undefined);
      assert.equal(r.headers['x-one'], '1');
      assert.equal(r.headers['set-cookie'], undefined);
      assert.deepEqual(JSON.parse(r.body), {
        method: 'PUT',
        url: 'https://rest.example.test/items/7?tag=a&tag=b+c&one=1',
        accept: 'text/html, application/json',
        body: '{"n":1}',
      });
    });

    it('runs a Hono app: routes, params, JSON, cookies, binary, env, waitUntil, 404', async () => {
      const dir = codeDir({ 'index.mjs': honoCode });
      const inst = await spawn(dir, { handler: 'index.default', environment: { GREETING: 'from env' } });
      const call = async (event: Record<string, unknown>): Promise<GatewayResult> =>
        ok(await inst.invoke(request(event)));

      const user = await call(v2('GET', '/users/42', { query: 'q=x&tag=a&tag=b' }));
      assert.equal(user.statusCode, 200);
      assert.deepEqual(JSON.parse(user.body), { id: '42', q: 'x', all: ['a', 'b'] });

      const echo = await call(
        v2('POST', '/echo', { headers: { 'content-type': 'application/json' }, body: '{"hello":"world"}' }),
      );
      assert.equal(echo.statusCode, 201);
      assert.deepEqual(JSON.parse(echo.body), { got: { hello: 'world' }, type: 'application/json' });

      const cookies = await call(v2('GET', '/cookies', { cookies: ['session=s1', 'theme=dark'] }));
      assert.equal(cookies.body, 'seen s1/dark');
      assert.deepEqual(cookies.cookies, ['a=1; Path=/', 'b=2; Path=/; HttpOnly']);
      assert.equal(cookies.headers['set-cookie'], undefined);
      const cookies1 = await call(v1('GET', '/cookies', { headers: { Cookie: ['session=s2'] } }));
      assert.equal(cookies1.body, 'seen s2/none');
      assert.deepEqual(cookies1.multiValueHeaders, {
        'set-cookie': ['a=1; Path=/', 'b=2; Path=/; HttpOnly'],
      });

      const bin = await call(v2('GET', '/bin'));
      assert.equal(bin.isBase64Encoded, true);
      assert.equal(bin.headers['content-type'], 'image/png');
      assert.deepEqual([...Buffer.from(bin.body, 'base64')], [0, 1, 2, 253, 254, 255]);

      assert.equal((await call(v1('GET', '/env'))).body, 'from env');

      const later = await inst.invoke(request(v2('GET', '/later')));
      assert.equal(ok(later).statusCode, 202);
      assert.match(later.logs, /\tINFO\tbackground work done\n/, 'waitUntil finished inside the invocation');

      const missing = await call(v2('DELETE', '/nowhere'));
      assert.equal(missing.statusCode, 404);
      assert.deepEqual(JSON.parse(missing.body), { message: 'nope' });
    });

    it('reads streamed bodies to completion and enforces the 6 MB response limit', async () => {
      const dir = codeDir({ 'index.mjs': STREAMS });
      const inst = await spawn(dir);
      const streamed = ok(await inst.invoke(request(v2('GET', '/stream'))));
      assert.equal(streamed.body, 'chunk0\nchunk1\nchunk2\nchunk3\nchunk4\n');
      assert.equal(streamed.isBase64Encoded, false);
      assert.deepEqual(
        streamed.headers,
        { 'content-type': 'text/plain; charset=utf-8' },
        'framing headers dropped',
      );

      const endless = failed(await inst.invoke(request(v2('GET', '/endless'))));
      assert.equal(endless.error.errorType, 'Function.ResponseSizeTooLarge');
      assert.match(endless.error.errorMessage, /6291556 bytes/);
      // 5 MiB of binary is 6.7 MB of base64: over the limit too.
      const big = failed(await inst.invoke(request(v2('GET', '/big-binary'))));
      assert.equal(big.error.errorType, 'Function.ResponseSizeTooLarge');
      assert.equal(big.reusable, true);

      assert.deepEqual(ok(await inst.invoke(request(v2('GET', '/no-type')))), {
        statusCode: 200,
        headers: { 'content-type': 'text/plain;charset=UTF-8' },
        body: 'plain words',
        isBase64Encoded: false,
      });
      const bytes = ok(await inst.invoke(request(v2('GET', '/no-type-bytes'))));
      assert.equal(bytes.isBase64Encoded, true);
      assert.deepEqual([...Buffer.from(bytes.body, 'base64')], [255, 0, 128]);
      const early = await inst.invoke(request(v2('GET', '/reject-early')));
      assert.equal(ok(early).body, 'still fine');
      assert.match(early.logs, /\tERROR\twaitUntil promise rejected: Error: background failed/);
      const empty = ok(await inst.invoke(request(v2('GET', '/empty'))));
      assert.equal(empty.statusCode, 204);
      assert.equal(empty.body, '');
    });

    it('fails clearly on a non-HTTP event, a non-Response result and a throwing app', async () => {
      const dir = codeDir({ 'index.mjs': STREAMS });
      const inst = await spawn(dir);
      const badHeader = v2('GET', '/stream', { headers: { 'bad header': 'x' } });
      const bad = failed(await inst.invoke(request(badHeader)));
      assert.equal(bad.error.errorType, 'Runtime.InvalidEvent');
      assert.match(bad.error.errorMessage, /Cannot build a Request from the event/);
      for (const event of [{}, { name: 'direct' }, null, 'text']) {
        const r = failed(await inst.invoke(request(event)));
        assert.equal(r.error.errorType, 'Runtime.InvalidEvent', JSON.stringify(event));
        assert.match(r.error.errorMessage, /API Gateway HTTP event \(payload format 2\.0 or 1\.0/);
      }
      const notResponse = failed(await inst.invoke(request(v2('GET', '/not-a-response'))));
      assert.equal(notResponse.error.errorType, 'TypeError');
      assert.match(notResponse.error.errorMessage, /fetch\(\) must return a Response/);
      const thrown = failed(await inst.invoke(request(v2('GET', '/throws'))));
      assert.equal(thrown.error.errorType, 'RangeError');
      assert.equal(thrown.error.errorMessage, 'app broke');
      assert.equal(ok(await inst.invoke(request(v2('GET', '/stream')))).statusCode, 200, 'still serving');
    });

    it('points at index.default when the handler is missing but the default export has fetch()', async () => {
      const dir = codeDir({ 'index.mjs': ECHO });
      const err = await backend.spawn(spec(dir, { handler: 'index.handler' })).then(
        () => assert.fail('spawn should have failed'),
        (e: unknown) => e,
      );
      assert.ok(err instanceof FunctionInitError);
      assert.equal(err.lambdaError.errorType, 'Runtime.HandlerNotFound');
      assert.match(err.lambdaError.errorMessage, /set the handler to index\.default/);
    });
  });
}
