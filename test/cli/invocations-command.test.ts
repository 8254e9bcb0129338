// `nimbus invoke --async` then `nimbus invocations <id> [--wait]` in-process against a real server.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { installLeakGuard } from '../helpers/leak-guard.js';
import { startTestServer, type TestServer } from '../helpers/test-server.js';
import { run } from './cli-test-io.js';

let t: TestServer;
let env: Record<string, string>;
before(async () => {
  t = await startTestServer({ async: { retryBaseMs: 20 } });
  await t.deployFiles({
    'nimbus.yml': `app: inv
functions:
  ok:
    handler: index.ok
  bad:
    handler: index.bad
    maximumRetryAttempts: 0
`,
    'index.js': `exports.ok = async (e) => ({ got: e }); exports.bad = async () => { throw new Error('nope'); };`,
  });
  env = { NIMBUS_ENDPOINT: t.url, NIMBUS_TOKEN: t.credentials.token };
});
after(() => t.close());
installLeakGuard();

test('invoke --async prints the id and the hint; invocations --wait prints the result', async () => {
  const queued = await run(['invoke', 'inv-ok', '--async', '--data', '{"a":1}'], { env });
  assert.equal(queued.code, 0, queued.stderr);
  const id = queued.stdout.trim();
  assert.match(id, /^[0-9a-f-]{36}$/);
  assert.match(queued.stderr, new RegExp(`nimbus invocations ${id}`));

  const shown = await run(['invocations', id, '--wait'], { env });
  assert.equal(shown.code, 0, shown.stderr);
  assert.match(shown.stdout, /status\s+succeeded \(Success\)/);
  assert.match(shown.stdout, /attempts\s+1/);
  assert.match(shown.stdout, /"got": \{\s+"a": 1/);

  const json = await run(['invocations', 'get', id, '--json'], { env });
  assert.equal((JSON.parse(json.stdout) as { status: string }).status, 'succeeded');
});

test('a failed invocation exits 1 and prints its error; unknown ids and bad flags are explained', async () => {
  const id = (await run(['invoke', 'inv-bad', '--async'], { env })).stdout.trim();
  const shown = await run(['invocations', id, '--wait', '--timeout', '20'], { env });
  assert.equal(shown.code, 1);
  assert.match(shown.stdout, /failed \(RetriesExhausted\)/);
  assert.match(shown.stdout, /"errorMessage": "nope"/);

  const missing = await run(['invocations', 'no-such-id'], { env });
  assert.equal(missing.code, 1);
  assert.match(missing.stderr, /Invocation not found/);

  const usage = await run(['invocations', id, '--timeout', '5'], { env });
  assert.equal(usage.code, 2);
  assert.match(usage.stderr, /--timeout goes with --wait/);
});
