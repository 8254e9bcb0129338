// AWS_LAMBDA_INITIALIZATION_TYPE: `provisioned-concurrency` for the instances minInstances keeps
// warm (as Lambda sets it for provisioned concurrency), `on-demand` for every other cold start.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { WarmPool, type Lease } from '../../src/pool/warm-pool.js';
import { ThreadBackend } from '../../src/runtime/thread/thread-backend.js';
import { ProcessBackend } from '../../src/runtime/process/process-backend.js';
import { installLeakGuard } from '../helpers/leak-guard.js';
import { cleanupFixtures, codeDir, request, spec, tempDir } from '../runtime/runtime-fixtures.js';

const code = codeDir({
  'index.mjs': 'export const handler = async () => process.env.AWS_LAMBDA_INITIALIZATION_TYPE;\n',
});
const thread = new ThreadBackend({ prewarm: 0 });
const processBackend = await ProcessBackend.create({
  workDir: tempDir(),
  sandbox: 'off',
  prewarm: { nodejs: 0, python: 0, provided: 0 },
});
const pool = new WarmPool({ backends: { thread, process: processBackend } });
after(async () => {
  await pool.close();
  await thread.close();
  await processBackend.close();
  cleanupFixtures();
});
installLeakGuard();

async function initializationType(lease: Lease): Promise<unknown> {
  const r = await lease.instance.invoke(request());
  assert.ok(r.ok);
  return JSON.parse(r.payload.toString());
}

test('minInstances instances say provisioned-concurrency; instances started on demand say on-demand', async () => {
  const provisioned = spec(code, { isolation: 'thread', minInstances: 1 }, 'init-provisioned');
  await pool.ensureMinInstances(provisioned);
  const warm = await pool.acquire(provisioned);
  assert.equal(warm.cold, false, 'the minInstances instance serves the first call');
  // While it is busy, a second call starts another instance on demand.
  const extra = await pool.acquire(provisioned);
  assert.equal(extra.cold, true);
  assert.equal(await initializationType(warm), 'provisioned-concurrency');
  assert.equal(await initializationType(extra), 'on-demand');
  warm.release(true);
  extra.release(true);

  const onDemand = await pool.acquire(spec(code, { isolation: 'thread' }, 'init-on-demand'));
  assert.equal(await initializationType(onDemand), 'on-demand');
  onDemand.release(true);
});
