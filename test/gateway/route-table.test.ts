// In-process tests of route matching: API Gateway HTTP API's priority order, variables, greedy
// {proxy+}, ANY, $default and base paths.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { RouteTable } from '../../src/gateway/route-table.js';
import type { RouteSpec } from '../../src/gateway/route-spec.js';
import { installLeakGuard } from '../helpers/leak-guard.js';

installLeakGuard();

function table(...apps: Array<{ app: string; basePath?: string; routes: string[] }>): RouteTable {
  return RouteTable.build(
    apps.map((a) => ({
      app: a.app,
      basePath: a.basePath ?? '',
      routes: a.routes.map((key): RouteSpec => {
        if (key === '$default') return { function: 'f', method: 'ANY', path: '$default', payload: '2.0' };
        const [method, path] = key.split(' ') as [RouteSpec['method'], string];
        return { function: 'f', method, path, payload: '2.0' };
      }),
    })),
  );
}

describe('RouteTable', () => {
  const t = table({
    app: 'a',
    routes: [
      '$default',
      'ANY /{proxy+}',
      'GET /users/{id}',
      'ANY /users/{id}',
      'GET /users/me',
      'GET /users/{id}/posts',
      'GET /users/me/{tab}',
      'ANY /files/{path+}',
      'GET /files/public/{path+}',
      'GET /',
    ],
  });
  const key = (method: string, path: string) => t.match(method, path)?.route.routeKey;

  for (const [method, path, expected] of [
    ['GET', '/users/me', 'GET /users/me'],
    ['GET', '/users/7', 'GET /users/{id}'],
    ['PUT', '/users/7', 'ANY /users/{id}'],
    ['GET', '/users/me/posts', 'GET /users/me/{tab}'],
    ['GET', '/users/7/posts', 'GET /users/{id}/posts'],
    ['GET', '/files/public/a/b', 'GET /files/public/{path+}'],
    ['POST', '/files/public/a/b', 'ANY /files/{path+}'],
    ['GET', '/files/x', 'ANY /files/{path+}'],
    ['GET', '/other/deep/path', 'ANY /{proxy+}'],
    ['GET', '/', 'GET /'],
    ['POST', '/', '$default'],
  ] as const) {
    test(`${method} ${path} → ${expected}`, () => assert.equal(key(method, path), expected));
  }

  test('path parameters are decoded; greedy takes the rest', () => {
    assert.deepEqual(t.match('GET', '/users/a%20b')?.params, { id: 'a b' });
    assert.deepEqual(t.match('GET', '/files/x/y%2Fz')?.params, { path: 'x/y/z' });
    assert.equal(t.match('GET', '/users/me')?.params, undefined);
  });

  test('a greedy variable needs at least one segment; no $default → undefined', () => {
    const u = table({ app: 'a', routes: ['GET /files/{p+}', 'GET /users/{id}'] });
    assert.equal(u.match('GET', '/files'), undefined);
    assert.equal(u.match('GET', '/files/'), undefined);
    assert.equal(u.match('GET', '/users/'), undefined);
    assert.equal(u.match('GET', '/nothing'), undefined);
    assert.equal(u.size, 2);
  });

  test('base paths: routes live under them; $default per base path, longest first', () => {
    const u = table(
      { app: 'api', basePath: '/api', routes: ['GET /users/{id}', '$default'] },
      { app: 'site', routes: ['$default'] },
    );
    const m = u.match('GET', '/api/users/1');
    assert.equal(m?.route.app, 'api');
    assert.equal(m?.route.routeKey, 'GET /users/{id}');
    assert.equal(m?.route.resource, '/api/users/{id}');
    assert.equal(m?.route.functionName, 'api-f');
    assert.equal(u.match('GET', '/api/nope')?.route.app, 'api');
    assert.equal(u.match('GET', '/api')?.route.app, 'api');
    assert.equal(u.match('GET', '/apis')?.route.app, 'site');
    assert.equal(u.match('GET', '/users/1')?.route.app, 'site');
  });
});
