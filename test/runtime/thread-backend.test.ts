// The RuntimeBackend contract against the thread tier (worker_threads), plus its nodejs-only rule.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { installLeakGuard } from '../helpers/leak-guard.js';
import { ThreadBackend } from '../../src/runtime/thread/thread-backend.js';
import { runBackendContract } from './runtime-backend.contract.js';

installLeakGuard();
process.env.NIMBUS_TEST_SERVER_SECRET = 'do-not-leak';

runBackendContract('thread', async () => new ThreadBackend({ prewarm: 2 }));

describe('thread backend', () => {
  it('runs only nodejs', async () => {
    const backend = new ThreadBackend({ prewarm: 0 });
    assert.equal(backend.supports('nodejs'), true);
    assert.equal(backend.supports('python'), false);
    assert.equal(backend.supports('provided'), false);
    assert.equal(backend.sandboxed, false);
    await backend.close();
  });
});
