// Tests of openStore's URL handling, config errors and defaults (no contract: see store.test.ts).

import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, test } from 'node:test';
import { defaultStoreUrl, openStore, parseStoreUrl } from '../../src/store/open-store.js';
import { installLeakGuard } from '../helpers/leak-guard.js';
import { forEachStore, testPgUrl } from '../helpers/test-stores.js';

installLeakGuard();

const dir = mkdtempSync(join(tmpdir(), 'nimbus-open-store-'));
after(() => rmSync(dir, { recursive: true, force: true }));

function isConfigError(pattern: RegExp) {
  return (err: unknown): boolean => {
    assert.equal((err as { code?: unknown }).code, 'InvalidConfigError', String(err));
    assert.match((err as Error).message, pattern);
    return true;
  };
}

test('parseStoreUrl understands every documented form', () => {
  assert.deepEqual(parseStoreUrl('sqlite:/abs/nimbus.db'), { kind: 'sqlite', path: '/abs/nimbus.db' });
  assert.deepEqual(parseStoreUrl('sqlite:///abs/nimbus.db'), { kind: 'sqlite', path: '/abs/nimbus.db' });
  assert.deepEqual(parseStoreUrl('sqlite:rel/n.db'), { kind: 'sqlite', path: resolve('rel/n.db') });
  assert.deepEqual(parseStoreUrl('sqlite::memory:'), { kind: 'sqlite', path: ':memory:' });
  assert.deepEqual(parseStoreUrl('/var/lib/nimbus/nimbus.db'), {
    kind: 'sqlite',
    path: '/var/lib/nimbus/nimbus.db',
  });
  assert.deepEqual(parseStoreUrl('data.db'), { kind: 'sqlite', path: resolve('data.db') });
  assert.deepEqual(parseStoreUrl('postgres://u@h:5432/db'), {
    kind: 'postgres',
    url: 'postgres://u@h:5432/db',
  });
  assert.deepEqual(parseStoreUrl('postgresql://u@h/db'), { kind: 'postgres', url: 'postgresql://u@h/db' });
});

test('an unsupported URL is an InvalidConfigError that names the fix and hides the password', () => {
  for (const url of ['mysql://root:hunter2@localhost/db', 'nimbus.txt', '', 'sqlite:']) {
    assert.throws(() => parseStoreUrl(url), isConfigError(/sqlite:\/path\/to\/nimbus\.db.*postgres:\/\//));
  }
  assert.throws(
    () => parseStoreUrl('mysql://root:hunter2@localhost/db'),
    (err: Error) => !err.message.includes('hunter2'),
  );
});

test('defaultStoreUrl puts nimbus.db in the data dir', () => {
  assert.equal(defaultStoreUrl('/var/lib/nimbus'), 'sqlite:/var/lib/nimbus/nimbus.db');
  assert.equal(defaultStoreUrl('.nimbus'), 'sqlite:.nimbus/nimbus.db');
});

test('openStore on SQLite creates missing directories, migrates, and reopens idempotently', async () => {
  const url = defaultStoreUrl(join(dir, 'deep', 'data'));
  const first = await openStore({ url });
  await first.settings.set('k', 'v');
  await first.close();
  await first.close();
  assert.ok(existsSync(join(dir, 'deep', 'data', 'nimbus.db')));
  const second = await openStore({ url: join(dir, 'deep', 'data', 'nimbus.db') });
  assert.equal(await second.settings.get('k'), 'v');
  assert.equal(second.kind, 'sqlite');
  await second.close();
});

test('openStore on an unreachable PostgreSQL is an InvalidConfigError naming the URL', async () => {
  await assert.rejects(
    openStore({ url: 'postgres://nimbus:secret@127.0.0.1:1/nowhere' }),
    isConfigError(/Could not connect to PostgreSQL at postgres:\/\/nimbus:\*\*\*@127\.0\.0\.1:1\/nowhere/),
  );
});

test('openStore rejects a PostgreSQL schema that is not a plain identifier', async () => {
  await assert.rejects(openStore({ url: testPgUrl(), schema: 'Bad-Name; drop' }), isConfigError(/schema/));
});

forEachStore((name, _open, stores) => {
  test(
    'without a schema option, PostgreSQL uses the search_path of the URL',
    { skip: name !== 'postgres' },
    async () => {
      // Never the bare test URL: migrating its public schema would leave tables behind.
      const target = stores.target();
      const url = `${target.url}?options=${encodeURIComponent(`-c search_path=${target.schema}`)}`;
      await assert.rejects(openStore({ url }), isConfigError(/no schema on its search_path/));
      const created = await stores.openAt(target);
      await created.settings.set('where', 'here');
      const viaUrl = await stores.openAt({ url });
      assert.equal(await viaUrl.settings.get('where'), 'here');
    },
  );
});
