// A deploy is one store transaction: a failure in its last step (the app token's scopes, written
// after functions, routes, resources and triggers) leaves the app entirely as it was, on every
// store. The failure is real: a database trigger refuses that one write.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import BetterSqlite3 from 'better-sqlite3';
import pg from 'pg';
import { installLeakGuard } from '../helpers/leak-guard.js';
import { startTestServer } from '../helpers/test-server.js';
import { forEachStore, type TestStoreTarget } from '../helpers/test-stores.js';
import { mentionsVersion, readAppState, writeAtomicApp } from './atomic-apps.js';

installLeakGuard();
const root = mkdtempSync(join(tmpdir(), 'nimbus-atomic-'));
after(() => rmSync(root, { recursive: true, force: true }));

const APP = 'atom';
const KEY = `app-resources:${APP}`;

/** Runs SQL on the test database through a connection of its own. */
async function runSql(target: TestStoreTarget, statements: readonly string[]): Promise<void> {
  if (target.url.startsWith('sqlite:')) {
    const db = new BetterSqlite3(target.url.slice('sqlite:'.length));
    try {
      for (const s of statements) db.exec(s);
    } finally {
      db.close();
    }
    return;
  }
  const client = new pg.Client({ connectionString: target.url, options: `-c search_path=${target.schema}` });
  await client.connect();
  try {
    for (const s of statements) await client.query(s);
  } finally {
    await client.end();
  }
}

const FAIL_ON = {
  sqlite: [
    `CREATE TRIGGER fail_scopes_i BEFORE INSERT ON settings WHEN NEW.key = '${KEY}' BEGIN SELECT RAISE(ABORT, 'injected failure'); END`,
    `CREATE TRIGGER fail_scopes_u BEFORE UPDATE ON settings WHEN NEW.key = '${KEY}' BEGIN SELECT RAISE(ABORT, 'injected failure'); END`,
  ],
  postgres: [
    `CREATE FUNCTION fail_scopes() RETURNS trigger AS $$ BEGIN IF NEW.key = '${KEY}' THEN RAISE EXCEPTION 'injected failure'; END IF; RETURN NEW; END $$ LANGUAGE plpgsql`,
    'CREATE TRIGGER fail_scopes BEFORE INSERT OR UPDATE ON settings FOR EACH ROW EXECUTE FUNCTION fail_scopes()',
  ],
};
const FAIL_OFF = {
  sqlite: ['DROP TRIGGER fail_scopes_i', 'DROP TRIGGER fail_scopes_u'],
  postgres: ['DROP TRIGGER fail_scopes ON settings', 'DROP FUNCTION fail_scopes()'],
};

forEachStore((name, _open, stores) => {
  test('a deploy whose last write fails changes nothing; the same deploy then applies whole', async () => {
    const target = stores.target();
    const store = await stores.openAt(target);
    const t = await startTestServer({ store });
    try {
      const v1 = join(root, `${name}-v1`);
      const v2 = join(root, `${name}-v2`);
      writeAtomicApp(v1, APP, 1);
      writeAtomicApp(v2, APP, 2);
      await t.deploy(v1);
      const before = await readAppState(store, APP);
      assert.ok(mentionsVersion(before, APP, 1) && !mentionsVersion(before, APP, 2));
      assert.notEqual(before.scopes[0], '', 'the scopes were recorded');

      await runSql(target, FAIL_ON[name]);
      await assert.rejects(t.deploy(v2), /injected failure|ServiceException|Internal/i);
      assert.deepEqual(await readAppState(store, APP), before, 'nothing of v2 is stored');
      const res = await fetch(`${t.url}/${APP}/v1`);
      assert.equal(await res.text(), 'v1', 'v1 still serves');

      await runSql(target, FAIL_OFF[name]);
      await t.deploy(v2);
      const afterState = await readAppState(store, APP);
      assert.ok(mentionsVersion(afterState, APP, 2));
      assert.deepEqual(
        afterState.functions.map((f) => f.split(' ')[0]),
        ['a', 'c'],
      );
      assert.ok(afterState.scopes[0]!.includes(`${APP}-q2`));
      assert.equal(await (await fetch(`${t.url}/${APP}/v2`)).text(), 'v2');
    } finally {
      await t.close();
    }
  });
});
