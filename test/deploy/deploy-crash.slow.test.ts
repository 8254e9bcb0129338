// A real server process is SIGKILLed at random moments of a deploy, repeatedly, on every store:
// after the restart the app is either entirely as before (v1) or entirely the new deploy (v2).
// "Entirely v2" is checked by deploying v2 again on the restarted server: a complete v2 state
// does not change, a partial one would. Before deploys were one transaction, 6 of 10 kills per
// store left functions switched but resources, triggers and scopes not.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import pg from 'pg';
import { readLocalCredentials } from '../../src/auth/credentials.js';
import { ApiClient } from '../../src/cli/api-client.js';
import { prepareDeploy, stopBundling, uploadCode } from '../../src/cli/commands/deploy.js';
import { createOutput } from '../../src/cli/output.js';
import { Spinner } from '../../src/cli/spinner.js';
import { openStore } from '../../src/store/open-store.js';
import { installLeakGuard } from '../helpers/leak-guard.js';
import { NimbusProcesses } from '../helpers/nimbus-process.js';
import { selectedTestStores, testPgUrl } from '../helpers/test-stores.js';
import { readAppState, writeAtomicApp, type AppState } from './atomic-apps.js';

const ITERATIONS = Number(process.env['NIMBUS_DEPLOY_CRASH_ITERATIONS'] ?? 6);
const root = mkdtempSync(join(tmpdir(), 'nimbus-deploy-crash-'));
const nodes = new NimbusProcesses();
const schemas: string[] = [];
const quiet = new Spinner(createOutput({ write: () => true } as never, { env: {} }));

after(async () => {
  await nodes.killAll();
  await stopBundling();
  rmSync(root, { recursive: true, force: true });
  if (schemas.length > 0) {
    const client = new pg.Client({ connectionString: testPgUrl() });
    await client.connect();
    for (const schema of schemas) await client.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    await client.end();
  }
});
installLeakGuard();

for (const storeName of selectedTestStores()) {
  test(`${storeName}: a deploy killed at any moment leaves the app entirely old or entirely new`, async () => {
    const dir = join(root, storeName);
    const dataDir = join(dir, 'data');
    mkdirSync(dir, { recursive: true });
    let cli: string | undefined;
    let target: { url: string; schema?: string };
    if (storeName === 'postgres') {
      const schema = `nimbus_deploy_crash_${process.pid}`;
      schemas.push(schema);
      const url = new URL(testPgUrl());
      url.searchParams.set('options', `-c search_path=${schema}`);
      cli = url.toString();
      target = { url: testPgUrl(), schema };
      const client = new pg.Client({ connectionString: testPgUrl() });
      await client.connect();
      await client.query(`CREATE SCHEMA "${schema}"`);
      await client.end();
    } else {
      target = { url: `sqlite:${join(dataDir, 'nimbus.db')}` };
    }
    const readState = async (app: string): Promise<AppState> => {
      const store = await openStore(target);
      try {
        return await readAppState(store, app);
      } finally {
        await store.close();
      }
    };

    const outcomes = { old: 0, new: 0 };
    let pending:
      | { app: string; state: AppState; old: boolean; v2: Awaited<ReturnType<typeof prepareDeploy>> }
      | undefined;
    for (let i = 0; i <= ITERATIONS; i++) {
      const node = await nodes.start({ dataDir, store: cli });
      const creds = readLocalCredentials(dataDir, {});
      assert.ok(creds?.token);
      const client = new ApiClient({ endpoint: node.url, token: creds.token });
      if (pending !== undefined) {
        // After the restart: exactly what the kill left, and that is old or a complete new.
        assert.deepEqual(await readState(pending.app), pending.state, 'the restart changed nothing');
        if (!pending.old) {
          // Not v1 exactly, so it must be v2 complete: deploying v2 again changes nothing.
          await client.deploy(pending.app, pending.v2.request);
          assert.deepEqual(
            await readState(pending.app),
            pending.state,
            `${pending.app}: the state after the kill was a partial deploy`,
          );
        }
      }
      if (i === ITERATIONS) {
        await nodes.kill(node.child);
        break;
      }

      const app = `k${i}`;
      writeAtomicApp(join(dir, `${app}-v1`), app, 1, 20);
      writeAtomicApp(join(dir, `${app}-v2`), app, 2, 20);
      const v1 = await prepareDeploy(join(dir, `${app}-v1`), quiet);
      const v2 = await prepareDeploy(join(dir, `${app}-v2`), quiet);
      await uploadCode(v1, client, quiet);
      await uploadCode(v2, client, quiet);
      const started = performance.now();
      await client.deploy(app, v1.request);
      const took = performance.now() - started;
      const before = await readState(app);

      // Somewhere from before the request is read to after it commits.
      const delay = Math.random() * took * 1.5;
      const deploying = client.deploy(app, v2.request).then(
        () => 'done',
        () => 'failed',
      );
      await new Promise((r) => setTimeout(r, delay));
      await nodes.kill(node.child);
      await deploying;
      const state = await readState(app);
      const old = JSON.stringify(state) === JSON.stringify(before);
      outcomes[old ? 'old' : 'new']++;
      pending = { app, state, old, v2 };
    }
    // Which side each kill fell on is chance; every one was checked above.
    process.stdout.write(`# ${storeName}: ${outcomes.old} kill(s) left v1, ${outcomes.new} left v2\n`);
  });
}
