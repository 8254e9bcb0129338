// The warm pool on the real thread backend: warm reuse, cold/warm counters, maxConcurrency with
// 429 after the wait bound, minInstances, idle reaping, the memory budget, retiring stale code.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { WarmPool, type Lease } from '../../src/pool/warm-pool.js';
import { ThreadBackend } from '../../src/runtime/thread/thread-backend.js';
import { ProcessBackend } from '../../src/runtime/process/process-backend.js';
import { installLeakGuard } from '../helpers/leak-guard.js';
import { cleanupFixtures, codeDir, request, spec, tempDir } from '../runtime/runtime-fixtures.js';
import { isNimbusError } from '../../src/errors.js';

const code = codeDir({
  'index.mjs': `
let calls = 0;
export const handler = async (event) => {
  calls++;
  if (event.sleep) await new Promise((r) => setTimeout(r, event.sleep));
  return { calls };
};`,
});

const thread = new ThreadBackend({ prewarm: 0 });
// The process tier is not used by these specs (isolation: thread); the pool needs both keys.
const processBackend = await ProcessBackend.create({
  workDir: tempDir(),
  sandbox: 'off',
  prewarm: { nodejs: 0, python: 0, provided: 0 },
});
const pools: WarmPool[] = [];
after(async () => {
  for (const p of pools) await p.close();
  await thread.close();
  await processBackend.close();
  cleanupFixtures();
});
// Registered after the cleanup hook: top-level `after` hooks run in registration order.
installLeakGuard();

function newPool(
  opts: { memoryBudgetMB?: number; acquireTimeoutMs?: number; reapIntervalMs?: number } = {},
): WarmPool {
  const pool = new WarmPool({ backends: { thread, process: processBackend }, ...opts });
  pools.push(pool);
  return pool;
}

const fnSpec = (name: string, config: Parameters<typeof spec>[1] = {}) =>
  spec(code, { isolation: 'thread', ...config }, name);

async function run(lease: Lease, event: unknown = {}): Promise<{ calls: number }> {
  const r = await lease.instance.invoke(request(event));
  lease.release(r.reusable);
  assert.ok(r.ok);
  return JSON.parse(r.payload.toString()) as { calls: number };
}

test('a released instance is reused warm; counters tell cold from warm', async () => {
  const pool = newPool();
  const s = fnSpec('warm');
  const first = await pool.acquire(s);
  assert.equal(first.cold, true);
  assert.equal((await run(first)).calls, 1);
  const second = await pool.acquire(s);
  assert.equal(second.cold, false);
  assert.equal(second.instance, first.instance);
  assert.equal((await run(second)).calls, 2, 'same instance keeps module state');
  const stats = pool.stats();
  assert.equal(stats.coldStarts, 1);
  assert.equal(stats.warmHits, 1);
  assert.equal(stats.live, 1);
});

test('one invocation per instance: concurrent calls get separate instances', async () => {
  const pool = newPool();
  const s = fnSpec('concurrent');
  const [a, b] = await Promise.all([pool.acquire(s), pool.acquire(s)]);
  assert.notEqual(a!.instance, b!.instance);
  await Promise.all([run(a!), run(b!)]);
  assert.equal(pool.stats().live, 2);
});

test('at maxConcurrency a call waits for a free instance, then 429 after the bound', async () => {
  const pool = newPool({ acquireTimeoutMs: 150 });
  const s = fnSpec('limited', { maxConcurrency: 1 });
  const busy = await pool.acquire(s);
  // A waiter is served as soon as the busy instance is released.
  const waiting = pool.acquire(s);
  setTimeout(() => busy.release(true), 30);
  const served = await waiting;
  assert.equal(served.instance, busy.instance);
  // Nobody releases now: the next caller is throttled.
  await assert.rejects(pool.acquire(s), (err: unknown) => {
    assert.ok(isNimbusError(err));
    assert.equal(err.code, 'TooManyRequestsException');
    assert.equal(err.status, 429);
    assert.equal(err.headers?.['Retry-After'], '1');
    return true;
  });
  assert.equal(pool.stats().throttles, 1);
  served.release(true);
});

test('minInstances are started and kept warm through idle reaping; others are reaped', async () => {
  const pool = newPool({ reapIntervalMs: 50 });
  const kept = fnSpec('kept', { minInstances: 2, idleTimeout: 1 });
  await pool.ensureMinInstances(kept);
  assert.equal(pool.stats().live, 2);
  const reaped = fnSpec('reaped', { idleTimeout: 1 });
  await run(await pool.acquire(reaped));
  assert.equal(pool.stats().live, 3);
  await new Promise((r) => setTimeout(r, 1300));
  assert.equal(pool.stats().live, 2, 'the idle instance past idleTimeout is gone, minInstances stay');
  const lease = await pool.acquire(kept);
  assert.equal(lease.cold, false);
  lease.release(true);
});

test('the node memory budget evicts idle instances of other functions, and throttles when all are busy', async () => {
  const pool = newPool({ memoryBudgetMB: 256, acquireTimeoutMs: 100 });
  const a = fnSpec('mem-a', { memory: 128 });
  const b = fnSpec('mem-b', { memory: 128 });
  const c = fnSpec('mem-c', { memory: 128 });
  const la = await pool.acquire(a);
  const lb = await pool.acquire(b);
  assert.equal(pool.stats().memoryMB, 256);
  await assert.rejects(pool.acquire(c), /memory budget/);
  la.release(true); // idle now: c may evict it
  const lc = await pool.acquire(c);
  assert.equal(lc.cold, true);
  assert.equal(pool.stats().memoryMB, 256);
  lb.release(true);
  lc.release(true);
});

test('an instance released as not reusable is disposed and replaced on the next call', async () => {
  const pool = newPool();
  const s = fnSpec('broken');
  const first = await pool.acquire(s);
  first.release(false);
  assert.equal(first.instance.alive, false);
  const next = await pool.acquire(s);
  assert.equal(next.cold, true);
  assert.notEqual(next.instance, first.instance);
  next.release(true);
});

test('retire disposes idle instances of a version; busy ones go when released', async () => {
  const pool = newPool();
  const s = fnSpec('retired');
  const idle = await pool.acquire(s);
  const busy = await pool.acquire(s);
  idle.release(true);
  pool.retire('retired', '$LATEST');
  assert.equal(idle.instance.alive, false);
  assert.equal(busy.instance.alive, true);
  busy.release(true);
  assert.equal(busy.instance.alive, false, 'a retired instance is not returned to the pool');
  const fresh = await pool.acquire(s);
  assert.equal(fresh.cold, true);
  fresh.release(true);
});
