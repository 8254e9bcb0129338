// Contract tests of routes: stored with an app's deploy in one transaction, claimed once across
// apps, listed for the gateway's route table; run against every store backend.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { AppGatewaySpec, RouteSpec } from '../../../src/gateway/route-spec.js';
import { DEFAULT_CORS } from '../../../src/gateway/route-spec.js';
import type { DeployFunctionInput, Store } from '../../../src/store/store.js';
import { config } from './function-store.contract.js';

function fn(name: string): DeployFunctionInput {
  return { name, codeSha256: 'a'.repeat(64), codeSize: 1, config: config() };
}

function route(
  fnName: string,
  method: RouteSpec['method'],
  path: string,
  payload: '1.0' | '2.0' = '2.0',
): RouteSpec {
  return { function: fnName, method, path, payload };
}

function gw(routes: RouteSpec[], extra: Partial<AppGatewaySpec> = {}): AppGatewaySpec {
  return { basePath: '', routes, ...extra };
}

/** Registers the route contract tests; `open` gives a fresh store. */
export function routeStoreContract(open: () => Promise<Store>): void {
  describe('RouteStore', () => {
    test('deployApp stores routes and settings; listApps reads them back in order', async () => {
      const store = await open();
      await store.functions.deployApp('shop', [fn('api'), fn('web')], {
        prune: true,
        gateway: gw(
          [
            route('api', 'GET', '/items/{id}'),
            route('web', 'ANY', '$default'),
            route('api', 'POST', '/items', '1.0'),
          ],
          { basePath: '/shop', cors: DEFAULT_CORS },
        ),
      });
      await store.functions.deployApp('plain', [fn('f')], { prune: true });
      const apps = await store.routes.listApps();
      assert.equal(apps.length, 1, 'an app without routes is not listed');
      assert.deepEqual(apps[0], {
        app: 'shop',
        basePath: '/shop',
        cors: { ...DEFAULT_CORS },
        routes: [
          route('api', 'GET', '/items/{id}'),
          route('web', 'ANY', '$default'),
          route('api', 'POST', '/items', '1.0'),
        ],
      });
    });

    test('a redeploy replaces the routes; a deploy without gateway keeps them', async () => {
      const store = await open();
      await store.functions.deployApp('a', [fn('f')], {
        prune: true,
        gateway: gw([route('f', 'GET', '/one')]),
      });
      await store.functions.deployApp('a', [fn('f')], {
        prune: true,
        gateway: gw([route('f', 'GET', '/two')]),
      });
      assert.deepEqual((await store.routes.listApps())[0]?.routes, [route('f', 'GET', '/two')]);
      await store.functions.deployApp('a', [fn('f')], { prune: true });
      assert.deepEqual((await store.routes.listApps())[0]?.routes, [route('f', 'GET', '/two')]);
    });

    test('a route of another app is refused naming both apps, and nothing of the deploy is kept', async () => {
      const store = await open();
      await store.functions.deployApp('first', [fn('f')], {
        prune: true,
        gateway: gw([route('f', 'GET', '/users/{id}')]),
      });
      await assert.rejects(
        store.functions.deployApp('second', [fn('g')], {
          prune: true,
          // Same route with another variable name: the same route to API Gateway.
          gateway: gw([route('g', 'GET', '/free'), route('g', 'GET', '/users/{uid}')]),
        }),
        (err: Error & { code?: string }) => {
          assert.equal(err.code, 'ResourceConflictException');
          assert.match(err.message, /GET \/users\/\{uid\}/);
          assert.match(err.message, /'second'/);
          assert.match(err.message, /'first'/);
          return true;
        },
      );
      assert.equal((await store.functions.listFunctions('second')).length, 0, 'functions rolled back');
      const apps = await store.routes.listApps();
      assert.deepEqual(
        apps.map((a) => a.app),
        ['first'],
      );
      // Another method, or the same path under a base path, is not a conflict.
      await store.functions.deployApp('second', [fn('g')], {
        prune: true,
        gateway: gw([route('g', 'POST', '/users/{uid}')]),
      });
      await store.functions.deployApp('third', [fn('h')], {
        prune: true,
        gateway: gw([route('h', 'GET', '/users/{id}')], { basePath: '/v2' }),
      });
      assert.equal((await store.routes.listApps()).length, 3);
    });

    test('one $default per base path across apps', async () => {
      const store = await open();
      await store.functions.deployApp('a', [fn('f')], {
        prune: true,
        gateway: gw([route('f', 'ANY', '$default')]),
      });
      await assert.rejects(
        store.functions.deployApp('b', [fn('f')], {
          prune: true,
          gateway: gw([route('f', 'ANY', '$default')]),
        }),
        /ResourceConflictException|already served by app 'a'/,
      );
      await store.functions.deployApp('b', [fn('f')], {
        prune: true,
        gateway: gw([route('f', 'ANY', '$default')], { basePath: '/b' }),
      });
    });

    test('deleting a function or pruning it deletes its routes; the route is free again', async () => {
      const store = await open();
      await store.functions.deployApp('a', [fn('f'), fn('g')], {
        prune: true,
        gateway: gw([route('f', 'GET', '/f'), route('g', 'GET', '/g')]),
      });
      await store.functions.deleteFunction('a-f');
      assert.deepEqual((await store.routes.listApps())[0]?.routes, [route('g', 'GET', '/g')]);
      await store.functions.deployApp('a', [], { prune: true });
      assert.deepEqual(await store.routes.listApps(), []);
      await store.functions.deployApp('b', [fn('x')], {
        prune: true,
        gateway: gw([route('x', 'GET', '/g')]),
      });
      assert.equal((await store.routes.listApps())[0]?.app, 'b');
    });
  });
}
