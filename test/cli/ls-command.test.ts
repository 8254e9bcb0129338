// `nimbus ls` in-process against a real server: TypeScript functions show as typescript.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { installLeakGuard } from '../helpers/leak-guard.js';
import { cliServer } from './cli-server.js';

const s = cliServer('ls');
installLeakGuard();

test('ls shows the runtime as written: typescript for TypeScript functions (they run as nodejs)', async () => {
  await s.t.deployFiles({
    'nimbus.yml': `app: langs
functions:
  ts:
    handler: ts.handler
    runtime: typescript
  js:
    handler: js.handler
`,
    'ts.ts': 'export const handler = async (): Promise<number> => 1;\n',
    'js.mjs': 'export const handler = async () => 2;\n',
  });

  const table = await s.cli('ls', '--app', 'langs');
  assert.equal(table.code, 0, table.stderr);
  assert.match(table.stdout, /^langs-ts\s+typescript\s/m);
  assert.match(table.stdout, /^langs-js\s+nodejs\s/m);

  const json = await s.cli('--json', 'ls', '--app', 'langs');
  const rows = (JSON.parse(json.stdout) as { functions: Array<Record<string, unknown>> }).functions;
  assert.deepEqual(rows.map((f) => [f.fullName, f.runtime, f.sourceRuntime]).sort(), [
    ['langs-js', 'nodejs', undefined],
    ['langs-ts', 'nodejs', 'typescript'],
  ]);
  const invoked = await s.cli('invoke', 'langs-ts');
  assert.equal(invoked.stdout.trim(), '1');
});
