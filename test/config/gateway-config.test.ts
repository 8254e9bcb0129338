// nimbus.yml routes: `http`/`httpApi` events and the `gateway:` block compiled into the deploy's
// gateway spec, and their errors positioned at file:line.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ConfigError } from '../../src/config/config-error.js';
import { parseAppConfig } from '../../src/config/load-app-config.js';
import { DEFAULT_CORS } from '../../src/gateway/route-spec.js';
import { installLeakGuard } from '../helpers/leak-guard.js';

installLeakGuard();

function errorText(text: string, file = 'nimbus.yml'): string {
  try {
    parseAppConfig(text, file);
  } catch (err) {
    assert.ok(err instanceof ConfigError, String(err));
    return err.message;
  }
  return assert.fail('expected the config to be rejected');
}

test('short and long forms, ANY, greedy, $default and gateway settings compile to routes', () => {
  const config = parseAppConfig(
    [
      'app: shop',
      'gateway:',
      '  basePath: /api/',
      '  cors: { allowOrigins: [https://shop.example], maxAge: 60 }',
      'functions:',
      '  api:',
      '    handler: src/api.handler',
      '    events:',
      '      - http: GET /users/{id}',
      '      - http: { method: post, path: /users }',
      '      - httpApi: "ANY /files/{proxy+}"',
      "      - http: { method: get, path: /legacy, payload: '1.0' }",
      '  web:',
      '    handler: src/web.handler',
      '    events:',
      '      - http: $default',
    ].join('\n'),
    'nimbus.yml',
  );
  assert.deepEqual(config.gateway, {
    basePath: '/api',
    cors: {
      allowOrigins: ['https://shop.example'],
      allowMethods: ['*'],
      allowHeaders: ['*'],
      exposeHeaders: [],
      allowCredentials: false,
      maxAge: 60,
    },
    routes: [
      { function: 'api', method: 'GET', path: '/users/{id}', payload: '2.0' },
      { function: 'api', method: 'POST', path: '/users', payload: '2.0' },
      { function: 'api', method: 'ANY', path: '/files/{proxy+}', payload: '2.0' },
      { function: 'api', method: 'GET', path: '/legacy', payload: '1.0' },
      { function: 'web', method: 'ANY', path: '$default', payload: '2.0' },
    ],
  });
});

test('serverless.yml: http events default to payload 1.0, httpApi to 2.0; cors: true turns CORS on', () => {
  const config = parseAppConfig(
    [
      'service: legacy',
      'provider: { name: aws, runtime: nodejs20.x }',
      'functions:',
      '  api:',
      '    handler: handler.main',
      '    events:',
      "      - httpApi: '*'",
      "      - http: { path: 'users/{id}', method: get, cors: true }",
      '      - httpApi: { method: PUT, path: /things }',
    ].join('\n'),
    'serverless.yml',
  );
  assert.deepEqual(config.gateway.cors, DEFAULT_CORS);
  assert.deepEqual(config.gateway.routes, [
    { function: 'api', method: 'ANY', path: '$default', payload: '2.0' },
    { function: 'api', method: 'GET', path: '/users/{id}', payload: '1.0' },
    { function: 'api', method: 'PUT', path: '/things', payload: '2.0' },
  ]);
});

test('an app without routes has an empty gateway', () => {
  const config = parseAppConfig('app: x\nfunctions:\n  f:\n    handler: a.b\n', 'nimbus.yml');
  assert.deepEqual(config.gateway, { basePath: '', routes: [] });
});

test('bad routes and gateway settings are reported at file:line', () => {
  const text = errorText(
    [
      'app: shop',
      'gateway:',
      '  basePath: api',
      '  cors: { allowOrigin: ["*"] }',
      '  stage: dev',
      'functions:',
      '  api:',
      '    handler: src/api.handler',
      '    events:',
      '      - http: FETCH /x',
      '      - http: "GET /{a+}/b"',
      "      - http: { method: get, path: /v, payload: '3.0' }",
      '      - http: GET /users/{id}',
      '  other:',
      '    handler: src/o.handler',
      '    events:',
      '      - http: GET /users/{uid}',
    ].join('\n'),
  );
  assert.match(text, /nimbus\.yml:3:13: gateway\.basePath must start with `\/`/);
  assert.match(text, /nimbus\.yml:4:9: gateway\.cors has unknown key `allowOrigin`/);
  assert.match(text, /nimbus\.yml:5:3: unknown key `stage` in gateway/);
  assert.match(text, /nimbus\.yml:10:15: functions\.api\.events\[0\]\.http method `FETCH` is not one of/);
  assert.match(text, /nimbus\.yml:11:15: .*greedy variable \{a\+\} must be the last segment/);
  assert.match(text, /nimbus\.yml:12:15: .*`payload:` must be `2\.0` or `1\.0`/);
  assert.match(
    text,
    /nimbus\.yml:17:15: functions\.other\.events\[0\]\.http: route `GET \/users\/\{uid\}` is already declared at functions\.api\.events\[3\]\.http/,
  );
});

test('auth: route auth, authorizers and usage plans compile; mistakes are positioned', () => {
  const config = parseAppConfig(
    [
      'app: secure',
      'gateway:',
      '  usagePlans:',
      '    basic: { rate: 5, quota: { limit: 100, period: month } }',
      '  authorizers:',
      '    users: { type: jwt, issuer: https://i.example/, audience: api, secretEnv: JWT_SECRET }',
      '    custom: { type: function, function: authz, identitySource: $request.header.x-token }',
      'functions:',
      '  api:',
      '    handler: api.handler',
      '    events:',
      '      - http: { method: get, path: /k, auth: apiKey }',
      '      - http: { method: get, path: /j, auth: { authorizer: users, scopes: [admin] } }',
      '      - http: { method: get, path: /c, auth: custom }',
      '  authz:',
      '    handler: authz.handler',
    ].join('\n'),
    'nimbus.yml',
  );
  assert.deepEqual(
    config.gateway.routes.map((r) => r.auth),
    [
      { apiKey: true },
      { apiKey: false, authorizer: 'users', scopes: ['admin'] },
      { apiKey: false, authorizer: 'custom' },
    ],
  );
  assert.deepEqual(config.gateway.usagePlans, {
    basic: { rate: 5, burst: 5, quota: { limit: 100, period: 'month' } },
  });
  assert.deepEqual(config.gateway.authorizers?.custom, {
    type: 'function',
    function: 'authz',
    identitySource: ['$request.header.x-token'],
    ttl: 300,
  });
  const text = errorText(
    [
      'app: bad',
      'gateway:',
      '  authorizers:',
      '    custom: { type: function, function: ghost }',
      'functions:',
      '  api:',
      '    handler: api.handler',
      '    events:',
      '      - http: { method: get, path: /k, auth: apiKey }',
      '      - http: { method: get, path: /j, auth: nobody }',
      '      - http: { method: get, path: /s, auth: { authorizer: custom, scopes: [a] } }',
    ].join('\n'),
  );
  assert.match(text, /nimbus\.yml:4:\d+: .*function `ghost` is not declared/);
  assert.match(text, /nimbus\.yml:9:\d+: .*no usage plan is declared/);
  assert.match(text, /nimbus\.yml:10:\d+: .*authorizer `nobody` is not declared/);
  assert.match(text, /nimbus\.yml:11:\d+: .*`scopes` need a JWT authorizer/);
});
