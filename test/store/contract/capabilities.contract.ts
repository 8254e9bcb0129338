// Contract tests that prove each Capabilities flag a backend claims, plus the durability rule.

import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, test } from 'node:test';
import pg from 'pg';
import { INVOCATIONS_CHANNEL, advisoryLocksOf, notifierOf } from '../../../src/store/coordination.js';
import type { Capabilities, Store } from '../../../src/store/store.js';
import type { TestStoreName, TestStores } from '../../helpers/test-stores.js';

const EXPECTED: Record<TestStoreName, Capabilities> = {
  sqlite: { skipLocked: false, listenNotify: false, advisoryLocks: false, multipleWriters: false },
  postgres: { skipLocked: true, listenNotify: true, advisoryLocks: true, multipleWriters: true },
};

const FIXTURE = fileURLToPath(new URL('../fixtures/acknowledge-then-hang.ts', import.meta.url));

/** Resolves when `check()` is true, or rejects after `ms`. */
async function until(check: () => boolean, ms = 5000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** Rejects if `promise` takes longer than `ms` (a claim that blocks instead of skipping). */
async function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      promise,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`${what} took longer than ${ms} ms`)), ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

async function enqueue(store: Store, id: string): Promise<void> {
  await store.invocations.enqueue({ id, functionName: 'demo-a', qualifier: '1', payload: Buffer.from('{}') });
}

/** Registers the capability and durability contract tests. */
export function capabilitiesContract(
  name: TestStoreName,
  open: () => Promise<Store>,
  stores: TestStores,
): void {
  describe('Capabilities', () => {
    test('kind and capabilities are what the backend promises', async () => {
      const store = await open();
      assert.equal(store.kind, name);
      assert.deepEqual({ ...store.capabilities }, EXPECTED[name]);
    });

    test('skipLocked: a claim skips rows another session has locked instead of waiting', async (t) => {
      const target = stores.target();
      const store = await stores.openAt(target);
      if (!store.capabilities.skipLocked) return t.skip('backend has no row locks');
      await enqueue(store, 'locked');
      await enqueue(store, 'free');
      // The flag promises SELECT ... FOR UPDATE SKIP LOCKED, so prove it in those terms: hold a
      // row lock from another session and claim around it.
      const other = new pg.Client({
        connectionString: target.url,
        options: `-c search_path=${target.schema}`,
      });
      await other.connect();
      try {
        await other.query('BEGIN');
        await other.query(`SELECT id FROM invocations WHERE id = 'locked' FOR UPDATE`);
        const claimed = await within(store.invocations.claim(10, 60_000), 3000, 'claim');
        assert.deepEqual(
          claimed.map((c) => c.id),
          ['free'],
        );
        await other.query('ROLLBACK');
        assert.deepEqual(
          (await store.invocations.claim(10, 60_000)).map((c) => c.id),
          ['locked'],
        );
      } finally {
        await other.end();
      }
    });

    test('listenNotify: a notification from one node reaches a listener on another', async (t) => {
      const target = stores.target();
      const a = await stores.openAt(target);
      if (!a.capabilities.listenNotify) {
        assert.equal(notifierOf(a), undefined);
        return t.skip('backend has no LISTEN/NOTIFY');
      }
      const b = await stores.openAt(target);
      const elsewhere = await open(); // another schema in the same database
      const heard: string[] = [];
      const wakeups: string[] = [];
      const strays: string[] = [];
      const sub = await notifierOf(a)!.listen('test_channel', (p) => heard.push(p));
      const queueSub = await notifierOf(a)!.listen(INVOCATIONS_CHANNEL, (p) => wakeups.push(p));
      const straySub = await notifierOf(elsewhere)!.listen('test_channel', (p) => strays.push(p));
      try {
        await notifierOf(b)!.notify('test_channel', 'hello');
        await until(() => heard.length === 1);
        assert.deepEqual(heard, ['hello']);
        await enqueue(b, 'wake-me');
        await until(() => wakeups.length === 1);
        assert.deepEqual(wakeups, ['wake-me']);
        await notifierOf(elsewhere)!.notify('test_channel', 'marker');
        await until(() => strays.length === 1);
        assert.deepEqual(heard, ['hello'], 'channels are scoped to the store schema');
      } finally {
        await Promise.all([sub.close(), queueSub.close(), straySub.close()]);
      }
    });

    test('advisoryLocks: only one node holds a lock until it releases it', async (t) => {
      const target = stores.target();
      const a = await stores.openAt(target);
      if (!a.capabilities.advisoryLocks) {
        assert.equal(advisoryLocksOf(a), undefined);
        return t.skip('backend has no advisory locks');
      }
      const b = await stores.openAt(target);
      const held = await advisoryLocksOf(a)!.tryAcquire('leader');
      assert.ok(held, 'first node gets the lock');
      assert.equal(await advisoryLocksOf(b)!.tryAcquire('leader'), undefined, 'second node does not');
      const other = await advisoryLocksOf(b)!.tryAcquire('another-key');
      assert.ok(other, 'different keys are independent');
      await held.release();
      await held.release();
      const taken = await advisoryLocksOf(b)!.tryAcquire('leader');
      assert.ok(taken, 'after release the second node gets it');
      await Promise.all([taken.release(), other.release()]);
    });

    test('multipleWriters: two stores on one database write at the same time', async (t) => {
      const target = stores.target();
      const a = await stores.openAt(target);
      if (!a.capabilities.multipleWriters) return t.skip('backend has one writer process');
      const b = await stores.openAt(target);
      await Promise.all(
        Array.from({ length: 20 }, (_, i) => enqueue(i % 2 === 0 ? a : b, `w-${String(i).padStart(2, '0')}`)),
      );
      assert.equal((await a.invocations.claim(100, 60_000)).length, 20);
    });
  });

  describe('Durability', () => {
    test('an acknowledged deploy and enqueue survive kill -9 of the process', async () => {
      const target = stores.target();
      const child = spawn(
        process.execPath,
        ['--import', 'tsx', FIXTURE, JSON.stringify(target), 'survivor'],
        {
          stdio: ['ignore', 'pipe', 'pipe'],
        },
      );
      let stderr = '';
      child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
      const exited = new Promise<NodeJS.Signals | null>((resolve) =>
        child.on('exit', (_code, signal) => resolve(signal)),
      );
      await new Promise<void>((resolve, reject) => {
        child.stdout.on('data', (d: Buffer) => {
          // Kill the moment the acknowledgement arrives: no graceful close, no checkpoint.
          if (d.toString().includes('acknowledged')) {
            child.kill('SIGKILL');
            resolve();
          }
        });
        child.on('exit', () => reject(new Error(`child exited before acknowledging: ${stderr}`)));
      });
      assert.equal(await exited, 'SIGKILL');
      const store = await stores.openAt(target);
      const inv = await store.invocations.get('survivor');
      assert.equal(inv?.status, 'queued');
      assert.equal(inv?.payload.toString(), '{"k":1}');
      assert.equal((await store.functions.getVersion('durable-fn', '$LATEST'))?.app, 'durable');
    });
  });
}
