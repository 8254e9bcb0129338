// bundleFunction: esbuild bundles for nodejs/typescript, filtered copies for python and provided.
import { installLeakGuard } from '../helpers/leak-guard.js';
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { chmod, cp, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseAppConfig } from '../../src/config/load-app-config.js';
import type { AppFunction } from '../../src/config/app-config.js';
import { bundleFunction, globToRegExp, stopBundler, type BundleResult } from '../../src/deploy/bundler.js';
import { packBundle } from '../../src/deploy/bundle-archive.js';
import { isNimbusError } from '../../src/errors.js';

installLeakGuard();

const dirs: string[] = [];
after(async () => {
  await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })));
});

/** Creates an app dir with the given files (path → content; a number sets the mode). */
async function makeApp(files: Record<string, string | [string, number]>): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'nimbus-bundle-'));
  dirs.push(dir);
  for (const [path, content] of Object.entries(files)) {
    const full = join(dir, path);
    await mkdir(dirname(full), { recursive: true });
    const [text, mode] = typeof content === 'string' ? [content, 0o644] : content;
    await writeFile(full, text);
    await chmod(full, mode);
  }
  return dir;
}

/** The one function of a nimbus.yml snippet. */
function fnOf(settings: string): AppFunction {
  const config = parseAppConfig(`app: t\nfunctions:\n  f:\n${settings}`, 'nimbus.yml');
  return config.functions[0]!;
}

/** Writes a bundle's files to a fresh dir and loads its handler export. */
async function loadHandler(result: BundleResult): Promise<(event: unknown) => Promise<unknown>> {
  const dir = await mkdtemp(join(tmpdir(), 'nimbus-bundle-out-'));
  dirs.push(dir);
  for (const [path, file] of result.files) {
    await mkdir(dirname(join(dir, path)), { recursive: true });
    await writeFile(join(dir, path), file.data);
  }
  const [moduleName, exportName] = result.handler.split('.') as [string, string];
  const file = [...result.files.keys()].find((p) => p === `${moduleName}.mjs` || p === `${moduleName}.cjs`)!;
  const mod = file.endsWith('.mjs')
    ? ((await import(pathToFileURL(join(dir, file)).href)) as Record<string, unknown>)
    : (createRequire(join(dir, 'x.js'))(join(dir, file)) as Record<string, unknown>);
  return mod[exportName] as (event: unknown) => Promise<unknown>;
}

async function bundleError(promise: Promise<unknown>, pattern: RegExp): Promise<void> {
  await assert.rejects(promise, (err: unknown) => {
    assert.ok(isNimbusError(err), String(err));
    assert.equal(err.code, 'BundleError');
    assert.match(err.message, pattern);
    return true;
  });
}

const CJS_DEP = {
  'node_modules/dep/package.json': '{ "name": "dep", "main": "lib/main.js" }',
  // A CommonJS dependency that requires a built-in and reads __dirname.
  'node_modules/dep/lib/main.js':
    "const path = require('path');\nmodule.exports = { shout: (s) => s.toUpperCase() + '!', where: path.basename(__dirname) };\n",
};

describe('nodejs and typescript', () => {
  after(async () => {
    // esbuild keeps a helper process; stop it before the leak guard counts children.
    await stopBundler();
  });

  test('CommonJS entry → index.cjs with node_modules bundled', async () => {
    const dir = await makeApp({
      ...CJS_DEP,
      'handler.js':
        "const dep = require('dep');\nexports.main = async (e) => ({ msg: dep.shout(e.name) });\n",
    });
    const result = await bundleFunction(dir, fnOf('    handler: handler.main\n'));
    assert.equal(result.handler, 'index.main');
    assert.deepEqual([...result.files.keys()].sort(), ['index.cjs', 'index.cjs.map']);
    assert.equal(result.files.get('index.cjs')?.mode, 0o644);
    assert.deepEqual(result.notes, []);
    const text = result.files.get('index.cjs')!.data.toString();
    assert.ok(!text.includes('require("dep")'), 'dependency is bundled, not required');
    assert.ok(!text.includes(dir), 'no absolute paths in the bundle');
    const handler = await loadHandler(result);
    assert.deepEqual(await handler({ name: 'hi' }), { msg: 'HI!' });
  });

  test('ESM entry (.mjs) importing a local module → index.mjs; CJS deps get require and __dirname', async () => {
    const dir = await makeApp({
      ...CJS_DEP,
      'src/app.mjs':
        "import dep from 'dep';\nimport { greet } from './lib/greet.mjs';\nexport const handler = async (e) => ({ msg: greet(dep.shout(e.name)), where: dep.where });\n",
      'src/lib/greet.mjs': 'export const greet = (s) => `hello ${s}`;\n',
    });
    const result = await bundleFunction(dir, fnOf('    handler: src/app.handler\n'));
    assert.equal(result.handler, 'index.handler');
    assert.deepEqual([...result.files.keys()].sort(), ['index.mjs', 'index.mjs.map']);
    const handler = await loadHandler(result);
    // `where` is the basename of the bundle dir at runtime: __dirname is defined in ESM output.
    const out = (await handler({ name: 'x' })) as { msg: string; where: string };
    assert.equal(out.msg, 'hello X!');
    assert.match(out.where, /^nimbus-bundle-out-/);
    const map = JSON.parse(result.files.get('index.mjs.map')!.data.toString()) as { sources: string[] };
    assert.deepEqual(map.sources.sort(), [
      'node_modules/dep/lib/main.js',
      'src/app.mjs',
      'src/lib/greet.mjs',
    ]);
  });

  test('.js is ESM when package.json says type: module, or when the source uses export', async () => {
    const typed = await makeApp({
      'package.json': '{ "type": "module" }',
      'index.js': 'export const handler = async () => 1;\n',
    });
    assert.ok((await bundleFunction(typed, fnOf('    handler: index.handler\n'))).files.has('index.mjs'));
    const syntax = await makeApp({ 'index.js': 'export async function handler() { return 2; }\n' });
    const result = await bundleFunction(syntax, fnOf('    handler: index.handler\n'));
    assert.ok(result.files.has('index.mjs'));
    assert.equal(await (await loadHandler(result))({}), 2);
  });

  test('TypeScript with a local import and an npm dependency', async () => {
    const dir = await makeApp({
      ...CJS_DEP,
      'node_modules/esm-dep/package.json': '{ "name": "esm-dep", "type": "module", "exports": "./index.js" }',
      'node_modules/esm-dep/index.js': 'export const twice = (n) => n * 2;\n',
      'src/app.ts': [
        "import dep from 'dep';",
        "import { twice } from 'esm-dep';",
        "import { format, type Shape } from './format';",
        'interface Event { name: string; n: number }',
        'export const handler = async (event: Event): Promise<Shape> =>',
        '  format(dep.shout(event.name), twice(event.n));',
      ].join('\n'),
      'src/format.ts':
        'export interface Shape { text: string }\nexport const format = (s: string, n: number): Shape => ({ text: `${s}${n}` });\n',
      // A stale compiled file beside the source must not win for a typescript function.
      'src/app.js': 'exports.handler = async () => "stale";\n',
    });
    const fn = fnOf('    handler: src/app.handler\n    runtime: typescript\n');
    assert.equal(fn.sourceRuntime, 'typescript');
    const result = await bundleFunction(dir, fn);
    assert.equal(result.handler, 'index.handler');
    assert.ok(result.files.has('index.mjs'));
    assert.deepEqual(await (await loadHandler(result))({ name: 'ts', n: 21 }), { text: 'TS!42' });
  });

  test('identical code gives an identical sha, wherever the app lives', async () => {
    const dir = await makeApp({
      ...CJS_DEP,
      'index.js': "exports.handler = () => require('dep').shout('a');\n",
    });
    const copy = `${dir}-copy`;
    dirs.push(copy);
    await cp(dir, copy, { recursive: true });
    const fn = fnOf('    handler: index.handler\n');
    const a = packBundle((await bundleFunction(dir, fn)).files);
    const b = packBundle((await bundleFunction(dir, fn)).files);
    const c = packBundle((await bundleFunction(copy, fn)).files);
    assert.equal(a.sha256, b.sha256);
    assert.equal(a.sha256, c.sha256);
    assert.ok(a.bytes.equals(c.bytes));
  });

  test('esbuild warnings are passed on as notes with their position', async () => {
    const dir = await makeApp({ 'index.js': 'exports.handler = async (x) => x === -0;\n' });
    const result = await bundleFunction(dir, fnOf('    handler: index.handler\n'));
    assert.ok(result.files.has('index.cjs'));
    assert.match(
      result.notes[0] ?? '',
      /^esbuild: index\.js:1:\d+: Comparison with -0 using the "===" operator will also match 0/,
    );
  });

  test('package.include adds data files next to the bundle', async () => {
    const dir = await makeApp({
      'index.js': 'exports.handler = async () => 1;\n',
      'templates/a.html': '<a>',
      'templates/b.bak': 'old',
    });
    const result = await bundleFunction(
      dir,
      fnOf('    handler: index.handler\n    package: { include: [templates], exclude: ["**/*.bak"] }\n'),
    );
    assert.deepEqual([...result.files.keys()].sort(), ['index.cjs', 'index.cjs.map', 'templates/a.html']);
  });

  test('missing entry file: BundleError naming the paths tried', async () => {
    const dir = await makeApp({ 'other.js': '' });
    await bundleError(
      bundleFunction(dir, fnOf('    handler: src/app.handler\n')),
      /functions\.f: handler file not found: tried src\/app\.js, src\/app\.mjs, .*src\/app\.cts in .*; create the file or fix `handler:`/,
    );
  });

  test('syntax errors and unresolved packages: BundleError with file:line:col and the fix', async () => {
    const dir = await makeApp({ 'src/app.ts': 'export const handler = async () => {\n  return 1 +;\n};\n' });
    await bundleError(
      bundleFunction(dir, fnOf('    handler: src/app.handler\n    runtime: typescript\n')),
      /could not bundle the code:\n {2}src\/app\.ts:2:13: Unexpected ";"/,
    );
    const missing = await makeApp({
      'index.js': "const x = require('left-pad/lib');\nexports.handler = x;\n",
    });
    await bundleError(
      bundleFunction(missing, fnOf('    handler: index.handler\n')),
      /index\.js:1:\d+: Could not resolve "left-pad\/lib".*\ninstall the missing package with `npm install left-pad` in /s,
    );
  });
});

describe('python', () => {
  test('copies the app files except hidden and excluded dirs; handler unchanged', async () => {
    const dir = await makeApp({
      'app.py': 'def handler(event, context):\n    return event\n',
      'lib/util.py': 'X = 1\n',
      'data/table.csv': 'a,b\n',
      'run.sh': ['#!/bin/sh\n', 0o755],
      '.env': 'SECRET=1',
      '.git/config': '',
      '__pycache__/app.cpython-312.pyc': 'x',
      'lib/__pycache__/util.cpython-312.pyc': 'x',
      'venv/bin/python': 'x',
      '.venv/bin/python': 'x',
      'node_modules/x/index.js': '',
      'nimbus.yml': 'app: t\n',
    });
    const result = await bundleFunction(dir, fnOf('    handler: app.handler\n    runtime: python\n'));
    assert.equal(result.handler, 'app.handler');
    assert.deepEqual([...result.files.keys()].sort(), ['app.py', 'data/table.csv', 'lib/util.py', 'run.sh']);
    assert.equal(result.files.get('run.sh')?.mode, 0o755);
    assert.equal(result.files.get('app.py')?.mode, 0o644);
  });

  test('package modules, include/exclude globs', async () => {
    const dir = await makeApp({
      'pkg/__init__.py': '',
      'pkg/mod.py': 'def handler(e, c): return 1\n',
      'tests/test_mod.py': '',
      'docs/readme.md': '',
    });
    const result = await bundleFunction(
      dir,
      fnOf(
        '    handler: pkg.mod.handler\n    runtime: python\n    package: { exclude: [tests/**, "*.md", docs] }\n',
      ),
    );
    assert.deepEqual([...result.files.keys()].sort(), ['pkg/__init__.py', 'pkg/mod.py']);
    const only = await bundleFunction(
      dir,
      fnOf('    handler: pkg/mod.handler\n    runtime: python\n    package: { include: ["pkg/*.py"] }\n'),
    );
    assert.deepEqual([...only.files.keys()].sort(), ['pkg/__init__.py', 'pkg/mod.py']);
  });

  test('missing handler module: BundleError naming the file expected', async () => {
    const dir = await makeApp({ 'other.py': '' });
    await bundleError(
      bundleFunction(dir, fnOf('    handler: src/app.handler\n    runtime: python\n')),
      /handler module not found: expected src\/app\.py \(or src\/app\/__init__\.py\)/,
    );
  });
});

describe('provided', () => {
  test('an executable bootstrap is kept 0755', async () => {
    const dir = await makeApp({ bootstrap: ['#!/bin/sh\necho hi\n', 0o755], 'lib/helper.sh': 'x' });
    const result = await bundleFunction(dir, fnOf('    runtime: provided\n'));
    assert.equal(result.files.get('bootstrap')?.mode, 0o755);
    assert.ok(result.files.has('lib/helper.sh'));
    assert.deepEqual(result.notes, []);
    assert.equal(result.handler, 'bootstrap');
  });

  test('a non-executable bootstrap with a shebang is marked executable, with a note', async () => {
    const dir = await makeApp({ bootstrap: ['#!/bin/sh\necho hi\n', 0o644] });
    const result = await bundleFunction(dir, fnOf('    runtime: provided.al2023\n'));
    assert.equal(result.files.get('bootstrap')?.mode, 0o755);
    assert.match(result.notes[0] ?? '', /marked executable in the bundle/);
  });

  test('missing or non-executable bootstrap: BundleError with the fix', async () => {
    const none = await makeApp({ 'main.sh': '' });
    await bundleError(bundleFunction(none, fnOf('    runtime: provided\n')), /no `bootstrap` file in /);
    const plain = await makeApp({ bootstrap: ['echo hi\n', 0o644] });
    await bundleError(
      bundleFunction(plain, fnOf('    runtime: provided\n')),
      /bootstrap is not executable; run `chmod \+x .*bootstrap`/,
    );
  });
});

test('globToRegExp', () => {
  assert.ok(globToRegExp('**/*.bak').test('a/b/c.bak'));
  assert.ok(globToRegExp('**/*.bak').test('c.bak'));
  assert.ok(!globToRegExp('*.md').test('docs/a.md'));
  assert.ok(globToRegExp('src/?.js').test('src/a.js'));
  assert.ok(!globToRegExp('src/?.js').test('src/ab.js'));
  assert.ok(globToRegExp('./a+b(1).txt').test('a+b(1).txt'));
});
