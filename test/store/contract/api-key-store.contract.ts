// Contract tests of gateway API keys and their usage counters, run against every store backend.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { ApiKeyRecord, Store } from '../../../src/store/store.js';

function key(name: string, extra: Partial<ApiKeyRecord> = {}): ApiKeyRecord {
  return {
    id: `key_${name}`,
    name,
    keyHash: `hash-${name}`,
    keyPrefix: 'nbk_abcdef',
    app: 'shop',
    plan: 'basic',
    createdAt: '2026-11-22T00:00:00.000Z',
    ...extra,
  };
}

/** Registers the API key contract tests; `open` gives a fresh store. */
export function apiKeyStoreContract(open: () => Promise<Store>): void {
  describe('ApiKeyStore', () => {
    test('create, find by hash/id/name, list, name taken → ResourceConflictException', async () => {
      const store = await open();
      await store.apiKeys.create(key('a'));
      await store.apiKeys.create(key('b', { app: 'other' }));
      assert.deepEqual(await store.apiKeys.getByHash('hash-a'), key('a'));
      assert.deepEqual(await store.apiKeys.find('key_b'), key('b', { app: 'other' }));
      assert.deepEqual(await store.apiKeys.find('a'), key('a'));
      assert.equal(await store.apiKeys.find('nope'), undefined);
      assert.deepEqual(
        (await store.apiKeys.list()).map((k) => k.name),
        ['a', 'b'],
      );
      assert.deepEqual(
        (await store.apiKeys.list('other')).map((k) => k.name),
        ['b'],
      );
      await assert.rejects(store.apiKeys.create(key('a', { id: 'key_x', keyHash: 'h2' })), {
        code: 'ResourceConflictException',
      });
    });

    test('revoke marks once and keeps the key', async () => {
      const store = await open();
      await store.apiKeys.create(key('a'));
      assert.equal(await store.apiKeys.revoke('key_a', '2026-11-22T01:00:00.000Z'), true);
      assert.equal(await store.apiKeys.revoke('key_a', '2026-11-22T02:00:00.000Z'), false);
      assert.equal((await store.apiKeys.getByHash('hash-a'))?.revokedAt, '2026-11-22T01:00:00.000Z');
    });

    test('addUsage adds atomically (concurrent writers) and returns totals; getUsage newest first', async () => {
      const store = await open();
      const inc = (count: number, period = '2026-11-22') =>
        store.apiKeys.addUsage([{ keyId: 'key_a', period, count }]);
      await Promise.all(Array.from({ length: 10 }, () => inc(3)));
      const totals = await store.apiKeys.addUsage([
        { keyId: 'key_a', period: '2026-11-22', count: 2 },
        { keyId: 'key_a', period: '2026-11', count: 5 },
      ]);
      assert.equal(totals.get('key_a 2026-11-22'), 32);
      assert.equal(totals.get('key_a 2026-11'), 5);
      assert.deepEqual(await store.apiKeys.getUsage('key_a'), [
        { period: '2026-11-22', count: 32 },
        { period: '2026-11', count: 5 },
      ]);
      assert.deepEqual(await store.apiKeys.getUsage('key_a', ['2026-11']), [{ period: '2026-11', count: 5 }]);
      assert.deepEqual(await store.apiKeys.getUsage('key_a', []), []);
    });
  });
}
