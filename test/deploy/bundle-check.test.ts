// Bundles are checked at deploy: a blob that is no bundle, a missing handler file or export, or
// files of another runtime are refused with InvalidBundleException naming the function, both by
// checkBundle and end to end by the deploy API (nothing is switched).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { packBundle, type BundleFile } from '../../src/deploy/bundle-archive.js';
import { checkBundle } from '../../src/deploy/bundle-check.js';
import { installLeakGuard } from '../helpers/leak-guard.js';
import { startTestServer } from '../helpers/test-server.js';

installLeakGuard();

const file = (text: string, mode = 0o644): BundleFile => ({ data: Buffer.from(text), mode });
const node = packBundle(
  new Map([['index.mjs', file('const handler = async () => 1;\nexport { handler };\n')]]),
).bytes;
const python = packBundle(new Map([['app.py', file('def handler(event, context):\n    return 1\n')]])).bytes;

const refused = (pattern: RegExp) => (err: unknown) => {
  assert.equal((err as { code?: string }).code, 'InvalidBundleException');
  assert.match((err as Error).message, pattern);
  return true;
};

test('a bundle whose handler file and export exist passes', async () => {
  await checkBundle(node, [{ name: 'api', runtime: 'nodejs', handler: 'index.handler' }]);
  await checkBundle(python, [{ name: 'work', runtime: 'python', handler: 'app.handler' }]);
  const boot = packBundle(new Map([['bootstrap', file('#!/bin/sh\n', 0o755)]])).bytes;
  await checkBundle(boot, [{ name: 'raw', runtime: 'provided', handler: 'bootstrap' }]);
});

test('bytes that are not a bundle are refused naming the function and how to deploy', async () => {
  await assert.rejects(
    checkBundle(Buffer.from('PK\x03\x04 a zip file'), [
      { name: 'api', runtime: 'nodejs', handler: 'index.handler' },
    ]),
    refused(/function 'api' is not a Nimbus code bundle .*nimbus deploy/),
  );
});

test('a missing handler file or export is refused with the fix', async () => {
  await assert.rejects(
    checkBundle(node, [{ name: 'api', runtime: 'nodejs', handler: 'main.handler' }]),
    refused(/Function 'api': handler file main\.mjs, \.cjs or \.js is not in the bundle; fix `handler:`/),
  );
  await assert.rejects(
    checkBundle(node, [{ name: 'api', runtime: 'nodejs', handler: 'index.main' }]),
    refused(/index\.mjs does not export `main`.*export const main/),
  );
  await assert.rejects(
    checkBundle(python, [{ name: 'work', runtime: 'python', handler: 'app.run' }]),
    refused(/app\.py does not define `run`.*def run\(event, context\)/),
  );
});

test('files of another runtime are named as such', async () => {
  await assert.rejects(
    checkBundle(node, [{ name: 'work', runtime: 'python', handler: 'index.handler' }]),
    refused(/it looks like a nodejs bundle, and the function's runtime is python/),
  );
  await assert.rejects(
    checkBundle(python, [{ name: 'raw', runtime: 'provided', handler: 'bootstrap' }]),
    refused(/no `bootstrap`.*it looks like a python bundle/),
  );
});

test('the deploy API refuses a bad bundle with a 400 and switches nothing', async () => {
  const t = await startTestServer();
  try {
    const { sha256, bytes } = packBundle(new Map([['index.mjs', file('export const other = 1;\n')]]));
    await t.client.putCode(sha256, bytes);
    const deploy = (handler: string) =>
      t.fetchV1('/v1/apps/badcode/deploy', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({
          functions: [
            {
              name: 'api',
              codeSha256: sha256,
              codeSize: bytes.length,
              config: { runtime: 'nodejs', handler, memory: 128, timeout: 3 },
            },
          ],
          prune: true,
        }),
      });
    const res = await deploy('index.handler');
    assert.equal(res.status, 400);
    const body = (await res.json()) as {
      code?: string;
      errorType?: string;
      message?: string;
      errorMessage?: string;
    };
    assert.equal(body.code ?? body.errorType, 'InvalidBundleException');
    assert.match(
      body.message ?? body.errorMessage ?? '',
      /Function 'api': index\.mjs does not export `handler`/,
    );
    assert.equal((await t.fetchV1('/v1/functions/badcode-api')).status, 404);
    assert.equal((await deploy('index.other')).status, 200);
  } finally {
    await t.close();
  }
});
