// Server start-up and the sandbox: `required` refuses to start without bwrap, `auto` warns
// loudly and still serves, and /v1/health reports which one is in force.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isNimbusError } from '../../src/errors.js';
import { startServer } from '../../src/server/nimbus-server.js';
import { installLeakGuard } from '../helpers/leak-guard.js';
import { startTestServer } from '../helpers/test-server.js';

installLeakGuard();

const MISSING_BWRAP = '/nonexistent/bin/bwrap';

function quietLogger() {
  const lines: string[] = [];
  const push = (m: string) => void lines.push(m);
  return { lines, logger: { info: push, warn: push, error: push } };
}

test('sandbox: required without a usable bwrap refuses to start with SandboxUnavailableError', async () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'nimbus-sbx-'));
  try {
    await assert.rejects(
      startServer({
        port: 0,
        dataDir,
        sandbox: 'required',
        bwrapPath: MISSING_BWRAP,
        logger: quietLogger().logger,
        env: {},
      }),
      (err: unknown) => {
        assert.ok(isNimbusError(err));
        assert.equal(err.code, 'SandboxUnavailableError');
        assert.match(err.message, /bubblewrap/);
        return true;
      },
    );
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
});

test('sandbox: auto without bwrap warns loudly, runs unsandboxed and says so in /v1/health', async () => {
  const { lines, logger } = quietLogger();
  const t = await startTestServer({ sandbox: 'auto', bwrapPath: MISSING_BWRAP, logger });
  try {
    assert.ok(
      lines.some((l) => l.includes('UNSANDBOXED')),
      lines.join('\n'),
    );
    const health = (await (await fetch(`${t.url}/v1/health`)).json()) as {
      sandboxed: boolean;
      store: string;
    };
    assert.equal(health.sandboxed, false);
    assert.equal(health.store, 'sqlite');
    await t.deployFiles({
      'nimbus.yml': 'app: unsafe\nfunctions:\n  f:\n    handler: index.handler\n    runtime: nodejs\n',
      'index.js': 'exports.handler = async () => ({ ok: true });',
    });
    const res = await t.client.invoke('unsafe-f', { payload: '{}' });
    assert.equal(res.kind === 'sync' && res.body, '{"ok":true}');
  } finally {
    await t.close();
  }
});

test('with bwrap present the server runs sandboxed', async () => {
  const t = await startTestServer({ sandbox: 'required' });
  try {
    const health = (await (await fetch(`${t.url}/v1/health`)).json()) as { sandboxed: boolean };
    assert.equal(health.sandboxed, true);
  } finally {
    await t.close();
  }
});
