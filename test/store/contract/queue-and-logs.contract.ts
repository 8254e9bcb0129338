// Contract tests of InvocationQueue, LogStore, CredentialStore and SettingsStore, for every backend.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { AsyncInvocation, LogLine, Store } from '../../../src/store/store.js';
import type { TestStores } from '../../helpers/test-stores.js';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function enqueueMany(store: Store, n: number, prefix = 'inv'): Promise<string[]> {
  const ids: string[] = [];
  for (let i = 0; i < n; i++) {
    const id = `${prefix}-${String(i).padStart(4, '0')}`;
    await store.invocations.enqueue({
      id,
      functionName: 'demo-a',
      qualifier: '$LATEST',
      payload: Buffer.from(JSON.stringify({ i })),
      availableAt: Date.now() - (n - i), // strictly increasing, all in the past
    });
    ids.push(id);
  }
  return ids;
}

/** Registers the queue/log/credential/settings contract tests. */
export function queueAndLogsContract(open: () => Promise<Store>, stores: TestStores): void {
  describe('InvocationQueue', () => {
    test('enqueue stores a queued invocation; claim leases it, oldest first, up to limit', async () => {
      const store = await open();
      const ids = await enqueueMany(store, 3);
      const queued = await store.invocations.get(ids[0]!);
      assert.ok(queued);
      assert.equal(queued.status, 'queued');
      assert.equal(queued.attempts, 0);
      assert.equal(queued.qualifier, '$LATEST');
      assert.deepEqual(JSON.parse(queued.payload.toString()), { i: 0 });
      assert.equal(typeof queued.createdAt, 'number');
      assert.equal(typeof queued.availableAt, 'number');
      const claimed = await store.invocations.claim(2, 60_000);
      assert.deepEqual(
        claimed.map((c) => c.id),
        ids.slice(0, 2),
      );
      for (const c of claimed) {
        assert.equal(c.status, 'running');
        assert.equal(c.attempts, 1);
      }
      assert.deepEqual(
        (await store.invocations.claim(10, 60_000)).map((c) => c.id),
        [ids[2]],
      );
      assert.deepEqual(
        await store.invocations.claim(10, 60_000),
        [],
        'running with a live lease: not claimable',
      );
      assert.deepEqual(await store.invocations.claim(0, 60_000), []);
      assert.equal(await store.invocations.get('missing'), undefined);
    });

    test('invocations are not claimed before availableAt', async () => {
      const store = await open();
      await store.invocations.enqueue({
        id: 'later',
        functionName: 'demo-a',
        qualifier: '1',
        payload: Buffer.alloc(0),
        availableAt: Date.now() + 60_000,
      });
      assert.deepEqual(await store.invocations.claim(10, 1000), []);
      assert.equal((await store.invocations.get('later'))?.payload.length, 0);
    });

    test('complete records success or failure; finished invocations are never claimed again', async () => {
      const store = await open();
      await enqueueMany(store, 2);
      const [ok, bad] = await store.invocations.claim(2, 1);
      assert.ok(ok && bad);
      await store.invocations.complete(ok.id, { status: 'succeeded', result: Buffer.from('"done"') });
      await store.invocations.complete(bad.id, { status: 'failed', error: '{"errorType":"Boom"}' });
      const okRow = await store.invocations.get(ok.id);
      assert.equal(okRow?.status, 'succeeded');
      assert.equal(okRow?.result?.toString(), '"done"');
      assert.equal(typeof okRow?.finishedAt, 'number');
      const badRow = await store.invocations.get(bad.id);
      assert.equal(badRow?.status, 'failed');
      assert.equal(badRow?.error, '{"errorType":"Boom"}');
      await sleep(5); // their 1 ms leases are long gone, but they are finished
      assert.deepEqual(await store.invocations.claim(10, 1000), []);
    });

    test('release puts an invocation back for a retry at availableAt, keeping the error', async () => {
      const store = await open();
      const [id] = await enqueueMany(store, 1);
      await store.invocations.claim(1, 60_000);
      await store.invocations.release(id!, Date.now() + 60_000, 'timeout');
      const released = await store.invocations.get(id!);
      assert.equal(released?.status, 'queued');
      assert.equal(released?.error, 'timeout');
      assert.deepEqual(await store.invocations.claim(1, 60_000), [], 'not before availableAt');
      await store.invocations.release(id!, Date.now() - 1);
      const [again] = await store.invocations.claim(1, 60_000);
      assert.equal(again?.id, id);
      assert.equal(again?.attempts, 2);
    });

    test('a running invocation whose lease expired is claimable again (crashed worker)', async () => {
      const store = await open();
      const [id] = await enqueueMany(store, 1);
      assert.equal((await store.invocations.claim(1, 1))[0]?.id, id);
      await sleep(10);
      const [reclaimed] = await store.invocations.claim(1, 60_000);
      assert.equal(reclaimed?.id, id);
      assert.equal(reclaimed?.attempts, 2);
      assert.equal(reclaimed?.status, 'running');
    });

    test('requeueRunning returns running invocations to the queue with their attempts', async () => {
      const store = await open();
      const [a, b] = await enqueueMany(store, 2);
      const claimed = await store.invocations.claim(1, 3_600_000);
      assert.equal(claimed.length, 1);
      assert.equal(await store.invocations.requeueRunning(), 1);
      const again = await store.invocations.claim(5, 60_000);
      assert.deepEqual(again.map((i) => i.id).sort(), [a, b].sort());
      const retried = again.find((i) => i.id === claimed[0]!.id);
      assert.equal(retried?.attempts, 2, 'the crashed attempt still counts');
      assert.equal(await store.invocations.requeueRunning(), 2);
    });

    test('concurrent claimers never get the same invocation', async () => {
      // With several writers, claim from two stores (two "nodes"); otherwise in parallel
      // through one store, which its backend serializes.
      const target = stores.target();
      const a = await stores.openAt(target);
      const b = a.capabilities.multipleWriters ? await stores.openAt(target) : a;
      const ids = await enqueueMany(a, 60);
      const seen: AsyncInvocation[][] = [[], [], [], []];
      const claimers = [a, b, a, b].map(async (store, i) => {
        for (;;) {
          const got = await store.invocations.claim(3, 60_000);
          if (got.length === 0) return;
          seen[i]!.push(...got);
        }
      });
      await Promise.all(claimers);
      const all = seen.flat().map((inv) => inv.id);
      assert.equal(new Set(all).size, all.length, 'no invocation was claimed twice');
      assert.deepEqual([...all].sort(), ids, 'every invocation was claimed');
      assert.ok(
        seen.every((s) => s.every((inv) => inv.attempts === 1)),
        'each claimed exactly once',
      );
    });
  });

  describe('LogStore', () => {
    const line = (i: number, functionName = 'demo-a'): LogLine => ({
      functionName,
      version: '$LATEST',
      requestId: `req-${i}`,
      timestamp: 1_700_000_000_000 + i * 1000,
      stream: i % 2 === 0 ? 'stdout' : 'stderr',
      message: `line ${i}`,
    });

    test('append then query: per function, oldest first, with increasing ids', async () => {
      const store = await open();
      await store.logs.append([line(0), line(1), line(0, 'demo-b'), line(2)]);
      await store.logs.append([]);
      const lines = await store.logs.query({ functionName: 'demo-a' });
      assert.deepEqual(
        lines.map((l) => l.message),
        ['line 0', 'line 1', 'line 2'],
      );
      const ids = lines.map((l) => l.id!);
      assert.ok(ids.every((id, i) => typeof id === 'number' && (i === 0 || id > ids[i - 1]!)));
      assert.deepEqual(lines[1], { ...line(1), id: ids[1] });
      assert.equal((await store.logs.query({ functionName: 'demo-b' })).length, 1);
      assert.deepEqual(await store.logs.query({ functionName: 'nobody' }), []);
    });

    test('sinceMs, afterId and limit filter and page', async () => {
      const store = await open();
      await store.logs.append([0, 1, 2, 3, 4].map((i) => line(i)));
      const since = await store.logs.query({ functionName: 'demo-a', sinceMs: line(2).timestamp });
      assert.deepEqual(
        since.map((l) => l.message),
        ['line 2', 'line 3', 'line 4'],
      );
      const page1 = await store.logs.query({ functionName: 'demo-a', limit: 2 });
      const page2 = await store.logs.query({ functionName: 'demo-a', limit: 2, afterId: page1[1]!.id! });
      assert.deepEqual(
        [...page1, ...page2].map((l) => l.message),
        ['line 0', 'line 1', 'line 2', 'line 3'],
      );
      const both = await store.logs.query({
        functionName: 'demo-a',
        sinceMs: line(1).timestamp,
        afterId: page2[0]!.id!,
      });
      assert.deepEqual(
        both.map((l) => l.message),
        ['line 3', 'line 4'],
      );
    });

    test('query returns at most 1000 lines by default', async () => {
      const store = await open();
      await store.logs.append(Array.from({ length: 1005 }, (_, i) => line(i)));
      const lines = await store.logs.query({ functionName: 'demo-a' });
      assert.equal(lines.length, 1000);
      assert.equal(lines[0]?.message, 'line 0');
      const rest = await store.logs.query({ functionName: 'demo-a', afterId: lines[999]!.id! });
      assert.equal(rest.length, 5);
    });
  });

  describe('CredentialStore and SettingsStore', () => {
    test('access keys: put, get, count, replace', async () => {
      const store = await open();
      assert.equal(await store.credentials.countAccessKeys(), 0);
      const key = {
        accessKeyId: 'AKIANIMBUS0000000001',
        secretHash: 'h'.repeat(64),
        secretEncrypted: 'enc:v1:abc',
        name: 'admin',
        createdAt: new Date().toISOString(),
      };
      await store.credentials.putAccessKey(key);
      assert.deepEqual(await store.credentials.getAccessKey(key.accessKeyId), key);
      assert.equal(await store.credentials.getAccessKey('AKIAUNKNOWN'), undefined);
      await store.credentials.putAccessKey({ ...key, name: 'renamed' });
      await store.credentials.putAccessKey({ ...key, accessKeyId: 'AKIANIMBUS0000000002' });
      assert.equal((await store.credentials.getAccessKey(key.accessKeyId))?.name, 'renamed');
      assert.equal(await store.credentials.countAccessKeys(), 2);
    });

    test('tokens: put and get with scopes', async () => {
      const store = await open();
      const token = {
        tokenHash: 't'.repeat(64),
        name: 'ci',
        scopes: ['deploy', 'invoke'],
        createdAt: '2024-01-01T00:00:00.000Z',
      };
      await store.credentials.putToken(token);
      assert.deepEqual(await store.credentials.getToken(token.tokenHash), token);
      assert.equal(await store.credentials.getToken('nope'), undefined);
      await store.credentials.putToken({ ...token, scopes: ['*'] });
      assert.deepEqual((await store.credentials.getToken(token.tokenHash))?.scopes, ['*']);
    });

    test('settings: get, set, overwrite', async () => {
      const store = await open();
      assert.equal(await store.settings.get('first-start'), undefined);
      await store.settings.set('first-start', 'done');
      await store.settings.set('first-start', 'again');
      assert.equal(await store.settings.get('first-start'), 'again');
    });
  });
}
