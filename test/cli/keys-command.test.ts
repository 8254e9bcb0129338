// `nimbus keys` in-process against a real server: create prints only the key on stdout, ls, revoke.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { installLeakGuard } from '../helpers/leak-guard.js';
import { cliServer } from './cli-server.js';

const s = cliServer('keys');
installLeakGuard();

test('keys create prints the key alone on stdout (KEY=$(…) captures it), the rest on stderr', async () => {
  await s.t.deployFiles({
    'nimbus.yml': `app: metered
gateway:
  usagePlans:
    basic: { rate: 10 }
functions:
  api:
    handler: index.handler
    events:
      - http: { method: get, path: /metered/api, auth: apiKey }
`,
    'index.mjs': 'export const handler = async () => ({ ok: true });\n',
  });

  const created = await s.cli('keys', 'create', 'partner', '--plan', 'basic');
  assert.equal(created.code, 0, created.stderr);
  assert.match(created.stdout, /^nbk_\S+\n$/);
  assert.match(created.stderr, /created key partner \(\S+\) for plan basic of app metered/);
  assert.match(created.stderr, /x-api-key/);
  const key = created.stdout.trim();
  const res = await fetch(`${s.t.url}/metered/api`, { headers: { 'x-api-key': key } });
  assert.equal(res.status, 200, 'the captured key is the working key');

  const json = await s.cli('--json', 'keys', 'create', 'other', '--plan', 'basic');
  assert.equal(json.code, 0, json.stderr);
  assert.match((JSON.parse(json.stdout) as { key: string }).key, /^nbk_/);
  assert.equal(json.stderr, '');

  assert.match((await s.cli('keys', 'ls')).stdout, /partner\s/);
  assert.equal((await s.cli('keys', 'revoke', 'partner')).code, 0);
});
