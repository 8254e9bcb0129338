// Contract tests of FunctionStore and CodeStore, run against every store backend.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { FUNCTION_DEFAULTS, LATEST } from '../../../src/functions/function-model.js';
import type { FunctionConfig } from '../../../src/functions/function-model.js';
import type { DeployFunctionInput, Store } from '../../../src/store/store.js';

/** A fully-defaulted config with overrides. */
export function config(overrides: Partial<FunctionConfig> = {}): FunctionConfig {
  return { runtime: 'nodejs', handler: 'index.handler', ...FUNCTION_DEFAULTS, ...overrides };
}

function fn(
  name: string,
  sha = 'a'.repeat(64),
  overrides: Partial<FunctionConfig> = {},
): DeployFunctionInput {
  return { name, codeSha256: sha, codeSize: 100, config: config(overrides) };
}

async function rejectsWith(promise: Promise<unknown>, code: string): Promise<void> {
  await assert.rejects(promise, (err: unknown) => {
    assert.equal((err as { code?: unknown }).code, code, String(err));
    return true;
  });
}

/** Registers the FunctionStore/CodeStore contract tests; `open` gives a fresh store. */
export function functionStoreContract(open: () => Promise<Store>): void {
  describe('FunctionStore', () => {
    test('deployApp creates $LATEST of every function; list and get read them back', async () => {
      const store = await open();
      await store.functions.deployApp('demo', [fn('b'), fn('a', 'b'.repeat(64), { memory: 256 })], {
        prune: false,
      });
      await store.functions.deployApp('other', [fn('x')], { prune: false });
      const all = await store.functions.listFunctions();
      assert.deepEqual(
        all.map((v) => `${v.app}/${v.name}`),
        ['demo/a', 'demo/b', 'other/x'],
      );
      const demo = await store.functions.listFunctions('demo');
      assert.equal(demo.length, 2);
      const a = await store.functions.getVersion('demo-a', LATEST);
      assert.ok(a);
      assert.equal(a.version, LATEST);
      assert.equal(a.codeSha256, 'b'.repeat(64));
      assert.equal(a.codeSize, 100);
      assert.deepEqual(a.config, config({ memory: 256 }));
      assert.ok(!Number.isNaN(Date.parse(a.createdAt)), 'createdAt is an ISO timestamp');
      assert.equal(await store.functions.getVersion('demo-a', '1'), undefined);
      assert.equal(await store.functions.getVersion('demo-a', 'nope'), undefined);
      assert.equal(await store.functions.getVersion('demo-missing', LATEST), undefined);
    });

    test('redeploying unchanged keeps $LATEST; a change replaces it', async () => {
      const store = await open();
      await store.functions.deployApp('demo', [fn('a')], { prune: false });
      const first = await store.functions.getVersion('demo-a', LATEST);
      await new Promise((r) => setTimeout(r, 5));
      await store.functions.deployApp('demo', [fn('a')], { prune: false });
      assert.deepEqual(await store.functions.getVersion('demo-a', LATEST), first);
      await store.functions.deployApp('demo', [fn('a', 'c'.repeat(64))], { prune: false });
      const changed = await store.functions.getVersion('demo-a', LATEST);
      assert.equal(changed?.codeSha256, 'c'.repeat(64));
      assert.notEqual(changed?.createdAt, first?.createdAt);
    });

    test('prune deletes unlisted functions of the app with their versions and aliases', async () => {
      const store = await open();
      await store.functions.deployApp('demo', [fn('a'), fn('b')], { prune: false });
      await store.functions.deployApp('keep', [fn('k')], { prune: false });
      await store.functions.publishVersion('demo-b');
      await store.functions.putAlias('demo-b', { name: 'live', version: '1', description: '' });
      await store.functions.deployApp('demo', [fn('a')], { prune: false });
      assert.equal((await store.functions.listFunctions('demo')).length, 2, 'prune: false keeps b');
      await store.functions.deployApp('demo', [fn('a')], { prune: true });
      assert.deepEqual(
        (await store.functions.listFunctions()).map((v) => `${v.app}/${v.name}`),
        ['demo/a', 'keep/k'],
      );
      assert.deepEqual(await store.functions.listVersions('demo-b'), []);
      assert.deepEqual(await store.functions.listAliases('demo-b'), []);
      await store.functions.deployApp('demo', [], { prune: true });
      assert.deepEqual(await store.functions.listFunctions('demo'), []);
    });

    test('a full name owned by another app is a ResourceConflictException and nothing changes', async () => {
      const store = await open();
      // app "a-b" + fn "c" and app "a" + fn "b-c" share the Lambda name "a-b-c".
      await store.functions.deployApp('a-b', [fn('c')], { prune: false });
      await rejectsWith(
        store.functions.deployApp('a', [fn('first'), fn('b-c')], { prune: false }),
        'ResourceConflictException',
      );
      assert.deepEqual(await store.functions.listFunctions('a'), [], 'the whole deploy rolled back');
      assert.equal((await store.functions.getVersion('a-b-c', LATEST))?.app, 'a-b');
    });

    test('publishVersion numbers versions per function and reuses an unchanged one', async () => {
      const store = await open();
      await store.functions.deployApp('demo', [fn('a'), fn('b')], { prune: false });
      const v1 = await store.functions.publishVersion('demo-a', 'first');
      assert.equal(v1.version, '1');
      assert.equal(v1.config.description, 'first', 'publish description overrides the config one');
      assert.equal((await store.functions.publishVersion('demo-a')).version, '1', 'unchanged → same version');
      assert.equal((await store.functions.publishVersion('demo-b')).version, '1', 'numbers are per function');
      await store.functions.deployApp('demo', [fn('a', 'a'.repeat(64), { timeout: 9 }), fn('b')], {
        prune: false,
      });
      const v2 = await store.functions.publishVersion('demo-a');
      assert.equal(v2.version, '2');
      assert.equal(v2.config.timeout, 9);
      assert.equal(v2.config.description, '');
      assert.deepEqual(
        (await store.functions.listVersions('demo-a')).map((v) => v.version),
        [LATEST, '1', '2'],
      );
      assert.deepEqual(await store.functions.getVersion('demo-a', '1'), v1);
      await rejectsWith(store.functions.publishVersion('demo-missing'), 'ResourceNotFoundException');
    });

    test('config equality ignores key order', async () => {
      const store = await open();
      await store.functions.deployApp(
        'demo',
        [fn('a', 'a'.repeat(64), { environment: { X: '1', Y: '2' } })],
        {
          prune: false,
        },
      );
      await store.functions.publishVersion('demo-a');
      const reordered: DeployFunctionInput = {
        name: 'a',
        codeSize: 100,
        codeSha256: 'a'.repeat(64),
        config: { ...config(), environment: { Y: '2', X: '1' } },
      };
      await store.functions.deployApp('demo', [reordered], { prune: false });
      assert.equal((await store.functions.publishVersion('demo-a')).version, '1');
    });

    test('concurrent publishes never collide on a version number', async () => {
      const store = await open();
      await store.functions.deployApp('demo', [fn('a')], { prune: false });
      const results = await Promise.all([1, 2, 3, 4].map(() => store.functions.publishVersion('demo-a')));
      assert.deepEqual(
        results.map((v) => v.version),
        ['1', '1', '1', '1'],
      );
    });

    test('aliases: put, get, list, replace, delete; missing versions are ResourceNotFoundException', async () => {
      const store = await open();
      await store.functions.deployApp('demo', [fn('a')], { prune: false });
      await store.functions.publishVersion('demo-a');
      await store.functions.deployApp('demo', [fn('a', 'd'.repeat(64))], { prune: false });
      await store.functions.publishVersion('demo-a');
      const live = await store.functions.putAlias('demo-a', {
        name: 'live',
        version: '1',
        additionalVersion: { version: '2', weight: 0.25 },
        description: 'canary',
      });
      assert.equal(live.app, 'demo');
      assert.equal(live.functionName, 'a');
      assert.deepEqual(live.additionalVersion, { version: '2', weight: 0.25 });
      assert.deepEqual(await store.functions.getAlias('demo-a', 'live'), live);
      await store.functions.putAlias('demo-a', { name: 'dev', version: LATEST, description: '' });
      const replaced = await store.functions.putAlias('demo-a', {
        name: 'live',
        version: '2',
        description: '',
      });
      assert.equal(replaced.additionalVersion, undefined);
      assert.deepEqual(
        (await store.functions.listAliases('demo-a')).map((a) => `${a.name}→${a.version}`),
        ['dev→$LATEST', 'live→2'],
      );
      await rejectsWith(
        store.functions.putAlias('demo-a', { name: 'x', version: '7', description: '' }),
        'ResourceNotFoundException',
      );
      await rejectsWith(
        store.functions.putAlias('demo-a', {
          name: 'x',
          version: '1',
          additionalVersion: { version: '9', weight: 0.5 },
          description: '',
        }),
        'ResourceNotFoundException',
      );
      await rejectsWith(
        store.functions.putAlias('demo-nope', { name: 'x', version: '1', description: '' }),
        'ResourceNotFoundException',
      );
      assert.equal(await store.functions.getAlias('demo-a', 'x'), undefined);
      assert.equal(await store.functions.deleteAlias('demo-a', 'dev'), true);
      assert.equal(await store.functions.deleteAlias('demo-a', 'dev'), false);
      assert.equal(await store.functions.getAlias('demo-a', 'dev'), undefined);
    });

    test('deleteFunction removes the function, its versions and aliases', async () => {
      const store = await open();
      await store.functions.deployApp('demo', [fn('a'), fn('b')], { prune: false });
      await store.functions.publishVersion('demo-a');
      await store.functions.putAlias('demo-a', { name: 'live', version: '1', description: '' });
      assert.equal(await store.functions.deleteFunction('demo-a'), true);
      assert.equal(await store.functions.deleteFunction('demo-a'), false);
      assert.deepEqual(await store.functions.listVersions('demo-a'), []);
      assert.deepEqual(await store.functions.listAliases('demo-a'), []);
      assert.deepEqual(
        (await store.functions.listFunctions()).map((v) => v.name),
        ['b'],
      );
      // The name is free again, for any app.
      await store.functions.deployApp('demo', [fn('a')], { prune: false });
      assert.equal((await store.functions.publishVersion('demo-a')).version, '1');
    });
  });

  describe('CodeStore', () => {
    test('put, get, has; put of an existing sha is a no-op', async () => {
      const store = await open();
      const bytes = Buffer.from([0, 1, 2, 255, 254]);
      assert.equal(await store.code.has('f'.repeat(64)), false);
      assert.equal(await store.code.get('f'.repeat(64)), undefined);
      await store.code.put('f'.repeat(64), bytes);
      await store.code.put('f'.repeat(64), bytes);
      assert.equal(await store.code.has('f'.repeat(64)), true);
      assert.deepEqual(await store.code.get('f'.repeat(64)), bytes);
      const big = Buffer.alloc(3 * 1024 * 1024, 7);
      await store.code.put('e'.repeat(64), big);
      assert.ok((await store.code.get('e'.repeat(64)))?.equals(big));
    });
  });
}
