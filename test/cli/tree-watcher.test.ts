// TreeWatcher: reports changes in the tree, picks up new folders, never enters ignored ones.
import { afterEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TreeWatcher, isIgnoredPath } from '../../src/cli/tree-watcher.js';
import { installLeakGuard } from '../helpers/leak-guard.js';

installLeakGuard();

const cleanups: Array<() => void> = [];
afterEach(() => {
  for (const fn of cleanups.splice(0)) fn();
});

function setup(): { root: string; changes: string[]; watcher: TreeWatcher } {
  const root = mkdtempSync(join(tmpdir(), 'nimbus-cli-watch-'));
  mkdirSync(join(root, 'src', 'lib'), { recursive: true });
  mkdirSync(join(root, 'node_modules', 'dep'), { recursive: true });
  mkdirSync(join(root, '.git'));
  mkdirSync(join(root, 'custom-ignored'));
  const changes: string[] = [];
  const watcher = new TreeWatcher(root, {
    onChange: (p) => changes.push(p),
    ignore: (p) => p === 'custom-ignored' || p.startsWith('custom-ignored/'),
  });
  watcher.start();
  cleanups.push(() => {
    watcher.close();
    rmSync(root, { recursive: true, force: true });
  });
  return { root, changes, watcher };
}

async function until(pred: () => boolean): Promise<void> {
  for (let i = 0; i < 100 && !pred(); i++) await new Promise((r) => setTimeout(r, 10));
}

describe('TreeWatcher', () => {
  it('watches the root and subfolders but not ignored folders', () => {
    const { watcher } = setup();
    // root, src, src/lib
    assert.equal(watcher.size, 3);
  });

  it('reports changes in nested folders and in folders created later', async () => {
    const { root, changes } = setup();
    writeFileSync(join(root, 'src', 'lib', 'a.ts'), 'x');
    await until(() => changes.includes(join('src', 'lib', 'a.ts')));
    assert.ok(changes.includes(join('src', 'lib', 'a.ts')), changes.join());
    mkdirSync(join(root, 'later'));
    await until(() => changes.includes('later'));
    writeFileSync(join(root, 'later', 'b.py'), 'x');
    await until(() => changes.includes(join('later', 'b.py')));
    assert.ok(changes.includes(join('later', 'b.py')), changes.join());
  });

  it('ignores node_modules, .git, custom paths and editor temp files', async () => {
    const { root, changes } = setup();
    writeFileSync(join(root, 'node_modules', 'dep', 'index.js'), 'x');
    writeFileSync(join(root, '.git', 'HEAD'), 'x');
    writeFileSync(join(root, 'custom-ignored', 'x'), 'x');
    writeFileSync(join(root, '.handler.ts.swp'), 'x');
    writeFileSync(join(root, 'marker'), 'x');
    await until(() => changes.includes('marker'));
    assert.deepEqual(
      changes.filter((c) => c !== 'marker'),
      [],
    );
  });

  it('isIgnoredPath', () => {
    assert.equal(isIgnoredPath('node_modules/x/y.js'), true);
    assert.equal(isIgnoredPath('a/.nimbus/db.sqlite'), true);
    assert.equal(isIgnoredPath('handler.ts~'), true);
    assert.equal(isIgnoredPath('.#handler.ts'), true);
    assert.equal(isIgnoredPath('src/handler.ts'), false);
    assert.equal(isIgnoredPath('node_modules_backup/x'), false);
  });
});
