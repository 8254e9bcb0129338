// `nimbus init`: the templates it writes load with loadAppConfig and bundle; it never clobbers an app.
import { afterEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadAppConfig } from '../../src/config/load-app-config.js';
import { bundleFunction, stopBundler } from '../../src/deploy/bundler.js';
import { appNameFromDir } from '../../src/cli/commands/init.js';
import { TEMPLATE_RUNTIMES } from '../../src/cli/templates/app-templates.js';
import { installLeakGuard } from '../helpers/leak-guard.js';
import { cliServer } from './cli-server.js';
import { run } from './cli-test-io.js';

const s = cliServer('init');
installLeakGuard();

const dirs: string[] = [];
function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'nimbus-cli-init-'));
  dirs.push(dir);
  return dir;
}
afterEach(async () => {
  await stopBundler();
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

describe('nimbus init', () => {
  for (const runtime of TEMPLATE_RUNTIMES) {
    it(`writes a ${runtime} app that loads and bundles`, async () => {
      const cwd = tempDir();
      const r = await run(['init', 'my-app', '--runtime', runtime], { cwd });
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, new RegExp(`Created app my-app \\(${runtime}\\) in my-app`));
      assert.match(r.stdout, /nimbus invoke my-app-hello/);
      assert.match(r.stdout, /curl http:\/\/127\.0\.0\.1:8080\/my-app\/hello/);
      const dir = join(cwd, 'my-app');
      const config = await loadAppConfig(dir);
      assert.equal(config.app, 'my-app');
      assert.deepEqual(
        config.functions.map((f) => [f.name, f.sourceRuntime]),
        [['hello', runtime]],
      );
      assert.deepEqual(config.warnings, []);
      const bundle = await bundleFunction(dir, config.functions[0]!);
      assert.ok(bundle.files.size > 0);
      assert.match(bundle.handler, /\.handler$/);
    });
  }

  it('uses --name, and writes tsconfig/package.json for typescript', async () => {
    const cwd = tempDir();
    const r = await run(['init', 'src-dir', '--runtime', 'typescript', '--name', 'shop', '--json'], { cwd });
    assert.equal(r.code, 0, r.stderr);
    const out = JSON.parse(r.stdout) as { app: string; created: string[] };
    assert.equal(out.app, 'shop');
    assert.deepEqual(out.created.sort(), [
      '.gitignore',
      'handler.ts',
      'nimbus.yml',
      'package.json',
      'tsconfig.json',
    ]);
    assert.match(readFileSync(join(cwd, 'src-dir', 'nimbus.yml'), 'utf8'), /^app: shop$/m);
    assert.equal((await loadAppConfig(join(cwd, 'src-dir'))).app, 'shop');
  });

  it('refuses a directory that already has a nimbus.yml, touching nothing', async () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'nimbus.yml'), 'app: mine\n');
    const r = await run(['init', dir, '--runtime', 'nodejs']);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /nimbus\.yml already exists/);
    assert.equal(readFileSync(join(dir, 'nimbus.yml'), 'utf8'), 'app: mine\n');
    assert.equal(existsSync(join(dir, 'handler.mjs')), false);
  });

  it('fills a non-empty directory without overwriting its files', async () => {
    const dir = join(tempDir(), 'existing');
    mkdirSync(dir);
    writeFileSync(join(dir, 'README.md'), 'mine');
    writeFileSync(join(dir, '.gitignore'), 'custom\n');
    const r = await run(['init', dir, '--runtime', 'python']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /= \.gitignore \(kept existing file\)/);
    assert.equal(readFileSync(join(dir, '.gitignore'), 'utf8'), 'custom\n');
    assert.ok(existsSync(join(dir, 'handler.py')));
  });

  it('refuses a path that is a file', async () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'f'), '');
    const r = await run(['init', join(dir, 'f'), '--runtime', 'nodejs']);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /is not a directory/);
  });

  it('gives each app its own route, so two starter apps deploy to one server', async () => {
    for (const [app, runtime] of [
      ['first', 'nodejs'],
      ['second', 'python'],
    ] as const) {
      assert.equal((await s.cli('init', app, '--runtime', runtime)).code, 0);
      const config = await loadAppConfig(join(s.tmp, app));
      assert.deepEqual(
        config.gateway.routes.map((r) => `${r.method} ${r.path}`),
        [`GET /${app}/hello`],
      );
      const deployed = await s.cli('deploy', app);
      assert.equal(deployed.code, 0, deployed.stderr);
    }
    const res = await fetch(`${s.t.url}/second/hello`);
    assert.equal(res.status, 200);
    assert.deepEqual(await res.json(), { message: 'Hello, world!' });
  });

  it('derives app names from directory names', () => {
    assert.equal(appNameFromDir('/x/my-app'), 'my-app');
    assert.equal(appNameFromDir('/x/My App!'), 'My-App');
    assert.equal(appNameFromDir('/x/_under'), 'under');
    assert.equal(appNameFromDir('/x/!!!'), undefined);
  });
});
