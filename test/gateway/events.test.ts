// In-process tests of the event builders (2.0 and 1.0), response mapping, CORS and compression
// choices, request ids and traceparent.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { chooseEncoding } from '../../src/gateway/compression.js';
import { corsResponseHeaders, preflightHeaders } from '../../src/gateway/cors.js';
import { buildEventV1 } from '../../src/gateway/event-v1.js';
import { buildEventV2 } from '../../src/gateway/event-v2.js';
import type { GatewayRequest } from '../../src/gateway/gateway-request.js';
import { ensureTraceparent, isValidTraceparent, pickRequestId } from '../../src/gateway/request-id.js';
import { MalformedResponseError, mapResponse } from '../../src/gateway/response-mapper.js';
import { DEFAULT_CORS, parseCors, parseRouteKey, routePathProblem } from '../../src/gateway/route-spec.js';
import { RouteTable } from '../../src/gateway/route-table.js';
import { installLeakGuard } from '../helpers/leak-guard.js';

installLeakGuard();

const routes = RouteTable.build([
  {
    app: 'demo',
    basePath: '',
    routes: [{ function: 'fn', method: 'POST', path: '/items/{id}', payload: '2.0' }],
  },
]);
const match = routes.match('POST', '/items/9')!;

function request(overrides: Partial<GatewayRequest> = {}): GatewayRequest {
  return {
    method: 'POST',
    rawPath: '/items/9',
    rawQueryString: 'q=1&q=2&empty=',
    headers: new Map([
      ['host', ['api.example.com:8080']],
      ['user-agent', ['curl/8']],
      ['x-dup', ['a', 'b']],
      ['cookie', ['a=1; b=2', 'c=3']],
      ['content-type', ['application/json']],
    ]),
    body: Buffer.from('{"x":1}'),
    sourceIp: '10.0.0.1',
    protocol: 'HTTP/1.1',
    requestId: 'req-1',
    timeEpoch: Date.UTC(2020, 2, 12, 19, 3, 58),
    ...overrides,
  };
}

describe('event 2.0', () => {
  test('matches API Gateway HTTP API field by field', () => {
    const e = buildEventV2(request(), match, { accountId: '000000000000' });
    assert.deepEqual(e, {
      version: '2.0',
      routeKey: 'POST /items/{id}',
      rawPath: '/items/9',
      rawQueryString: 'q=1&q=2&empty=',
      cookies: ['a=1', 'b=2', 'c=3'],
      headers: {
        host: 'api.example.com:8080',
        'user-agent': 'curl/8',
        'x-dup': 'a,b',
        'content-type': 'application/json',
      },
      queryStringParameters: { q: '1,2', empty: '' },
      requestContext: {
        accountId: '000000000000',
        apiId: 'demo',
        domainName: 'api.example.com',
        domainPrefix: 'api',
        http: {
          method: 'POST',
          path: '/items/9',
          protocol: 'HTTP/1.1',
          sourceIp: '10.0.0.1',
          userAgent: 'curl/8',
        },
        requestId: 'req-1',
        routeKey: 'POST /items/{id}',
        stage: '$default',
        time: '12/Mar/2020:19:03:58 +0000',
        timeEpoch: Date.UTC(2020, 2, 12, 19, 3, 58),
      },
      body: '{"x":1}',
      pathParameters: { id: '9' },
      isBase64Encoded: false,
    });
  });

  test('binary bodies are base64; empty optional fields are left out', () => {
    const e = buildEventV2(
      request({
        rawQueryString: '',
        body: Buffer.from([0xff, 0]),
        headers: new Map([['content-type', ['image/png']]]),
      }),
      match,
      { accountId: '0' },
    );
    assert.equal(e.isBase64Encoded, true);
    assert.equal(e.body, '/wA=');
    assert.equal('cookies' in e, false);
    assert.equal('queryStringParameters' in e, false);
  });
});

describe('event 1.0', () => {
  test('REST shape: single and multi-value maps, nulls when absent', () => {
    const e = buildEventV1(request(), match, { accountId: '0' });
    assert.equal(e.resource, '/items/{id}');
    assert.equal(e.path, '/items/9');
    assert.equal(e.httpMethod, 'POST');
    assert.equal((e.headers as Record<string, string>)['x-dup'], 'b');
    assert.deepEqual((e.multiValueHeaders as Record<string, string[]>)['x-dup'], ['a', 'b']);
    assert.equal((e.headers as Record<string, string>).cookie, 'c=3');
    assert.deepEqual(e.queryStringParameters, { q: '2', empty: '' });
    assert.deepEqual(e.multiValueQueryStringParameters, { q: ['1', '2'], empty: [''] });
    assert.deepEqual(e.pathParameters, { id: '9' });
    assert.equal(e.stageVariables, null);
    assert.equal(e.body, '{"x":1}');
    const none = buildEventV1(request({ rawQueryString: '', body: Buffer.alloc(0) }), match, {
      accountId: '0',
    });
    assert.equal(none.queryStringParameters, null);
    assert.equal(none.multiValueQueryStringParameters, null);
    assert.equal(none.body, null);
  });
});

describe('response mapping', () => {
  const map = (value: unknown, v: '1.0' | '2.0' = '2.0') =>
    mapResponse(Buffer.from(JSON.stringify(value)), v);

  test('2.0 infers 200 JSON from anything without statusCode', () => {
    for (const value of [{ a: 1 }, [1, 2], 'text', 42, null, true]) {
      const r = map(value);
      assert.equal(r.status, 200);
      assert.equal(r.headers['content-type'], 'application/json');
      assert.equal(r.body.toString(), JSON.stringify(value));
    }
  });

  test('structured: headers, cookies, base64 body', () => {
    const r = map({
      statusCode: 302,
      headers: { Location: '/x', 'X-N': 5 },
      cookies: ['a=1'],
      body: Buffer.from('hi').toString('base64'),
      isBase64Encoded: true,
    });
    assert.equal(r.status, 302);
    assert.deepEqual(r.headers, { location: '/x', 'x-n': '5', 'set-cookie': ['a=1'] });
    assert.equal(r.body.toString(), 'hi');
  });

  test('1.0 merges multiValueHeaders and needs a statusCode', () => {
    const r = map(
      { statusCode: 200, headers: { a: '1' }, multiValueHeaders: { b: ['x', 'y'] }, body: '' },
      '1.0',
    );
    assert.deepEqual(r.headers, { a: '1', b: ['x', 'y'] });
    assert.throws(() => map({ a: 1 }, '1.0'), MalformedResponseError);
  });

  test('malformed results throw MalformedResponseError', () => {
    assert.throws(() => mapResponse(Buffer.from('{nope'), '2.0'), MalformedResponseError);
    assert.throws(() => map({ statusCode: 99 }), MalformedResponseError);
    assert.throws(() => map({ statusCode: 200, body: {} }), MalformedResponseError);
    assert.throws(() => map({ statusCode: 200, headers: { a: {} } }), MalformedResponseError);
    assert.throws(() => map({ statusCode: 200, headers: { a: 'x\r\ny: z' } }), MalformedResponseError);
    assert.throws(() => map({ statusCode: 200, cookies: 'a=1' }), MalformedResponseError);
  });
});

describe('route keys, CORS, compression, ids', () => {
  test('route keys and paths', () => {
    assert.deepEqual(parseRouteKey('get /a/{b}'), { method: 'GET', path: '/a/{b}' });
    assert.deepEqual(parseRouteKey('$default'), { method: 'ANY', path: '$default' });
    assert.deepEqual(parseRouteKey('*'), { method: 'ANY', path: '$default' });
    assert.deepEqual(parseRouteKey('get users', true), { method: 'GET', path: '/users' });
    assert.ok('problem' in parseRouteKey('/nope'));
    assert.ok('problem' in parseRouteKey('FETCH /x'));
    assert.match(routePathProblem('/{a+}/b') ?? '', /last segment/);
    assert.match(routePathProblem('/{a}/{a}') ?? '', /twice/);
    assert.match(routePathProblem('/a/') ?? '', /end with/);
    assert.equal(routePathProblem('/a/{b}/{c+}'), undefined);
  });

  test('CORS', () => {
    const cors = parseCors({
      allowOrigins: ['https://a.example'],
      allowMethods: ['get'],
      allowCredentials: true,
    });
    assert.ok(!('problem' in cors));
    if ('problem' in cors) return;
    assert.equal(preflightHeaders(cors, 'https://b.example', 'GET', undefined), undefined);
    assert.equal(preflightHeaders(cors, 'https://a.example', 'DELETE', undefined), undefined);
    assert.deepEqual(preflightHeaders(cors, 'https://a.example', 'GET', 'X-A'), {
      'access-control-allow-origin': 'https://a.example',
      'access-control-allow-methods': 'GET',
      'access-control-allow-headers': 'x-a',
      'access-control-allow-credentials': 'true',
      vary: 'origin',
    });
    assert.deepEqual(corsResponseHeaders(DEFAULT_CORS, 'https://x'), { 'access-control-allow-origin': '*' });
    assert.deepEqual(corsResponseHeaders(DEFAULT_CORS, undefined), {});
    assert.ok('problem' in parseCors({ allowOrigins: ['*'], allowCredentials: true }));
    assert.ok('problem' in parseCors({ allowOrigin: ['*'] }));
  });

  test('compression choice', () => {
    assert.equal(chooseEncoding('gzip, deflate, br', 'application/json', 2000), 'br');
    assert.equal(chooseEncoding('gzip', 'application/json', 2000), 'gzip');
    assert.equal(chooseEncoding('br;q=0, gzip', 'text/html', 2000), 'gzip');
    assert.equal(chooseEncoding('gzip', 'application/json', 1024), undefined);
    assert.equal(chooseEncoding('gzip', 'image/png', 5000), undefined);
    assert.equal(chooseEncoding(undefined, 'text/plain', 5000), undefined);
    assert.equal(chooseEncoding('identity', 'text/plain', 5000), undefined);
  });

  test('request ids and traceparent', () => {
    assert.equal(pickRequestId('abc-123'), 'abc-123');
    assert.match(pickRequestId('has space'), /^[0-9a-f-]{36}$/);
    assert.match(pickRequestId('x'.repeat(129)), /^[0-9a-f-]{36}$/);
    assert.match(pickRequestId(undefined), /^[0-9a-f-]{36}$/);
    const valid = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01';
    assert.ok(isValidTraceparent(valid));
    assert.ok(!isValidTraceparent('00-00000000000000000000000000000000-b7ad6b7169203331-01'));
    const kept = new Map([
      ['traceparent', [valid]],
      ['tracestate', ['a=b']],
    ]);
    ensureTraceparent(kept);
    assert.deepEqual(kept.get('traceparent'), [valid]);
    assert.deepEqual(kept.get('tracestate'), ['a=b']);
    const bad = new Map([
      ['traceparent', ['junk']],
      ['tracestate', ['a=b']],
    ]);
    ensureTraceparent(bad);
    assert.ok(isValidTraceparent(bad.get('traceparent')![0]!));
    assert.equal(bad.has('tracestate'), false);
  });
});
