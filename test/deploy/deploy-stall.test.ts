// A big deploy on SQLite (synchronous driver) never runs store queries back to back without the
// event loop turning once the turn's budget is spent: not in its transaction, not in the burst of
// first receives its new queue pollers make after the commit; and deploys started together run
// one after another, so another request's query waits behind one deploy's transaction, not six.
// Structural: statements per event-loop turn (budget 0) and the order of the deploys' steps,
// never how long anything took.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import BetterSqlite3 from 'better-sqlite3';
import type { AppDeployHook } from '../../src/deploy/app-deploy-hook.js';
import { packBundle } from '../../src/deploy/bundle-archive.js';
import { DeployService } from '../../src/deploy/deploy-service.js';
import { deployRequestSchema } from '../../src/functions/function-config-schema.js';
import type { FunctionResolver } from '../../src/invoke/function-resolver.js';
import type { WarmPool } from '../../src/pool/warm-pool.js';
import { openSqliteStore } from '../../src/store/sqlite/sqlite-store.js';
import { installLeakGuard } from '../helpers/leak-guard.js';
import { startTestServer } from '../helpers/test-server.js';

installLeakGuard();
const root = mkdtempSync(join(tmpdir(), 'nimbus-stall-'));
after(() => rmSync(root, { recursive: true, force: true }));

const FUNCTIONS = 24;

/** Statements prepared per event-loop turn while counting; a turn ends at the check phase. */
function countStatementsPerTurn(): { stop(): number } {
  const proto = BetterSqlite3.prototype as unknown as { prepare: (...args: unknown[]) => unknown };
  const original = proto.prepare;
  let inTurn = 0;
  let max = 0;
  proto.prepare = function (this: unknown, ...args: unknown[]) {
    if (inTurn === 0) setImmediate(() => (inTurn = 0));
    inTurn++;
    max = Math.max(max, inTurn);
    return original.apply(this, args);
  };
  return {
    stop() {
      proto.prepare = original;
      return max;
    },
  };
}

test('a deploy with queue triggers gives the event loop a turn between its store queries', async () => {
  // Budget 0: every query after the first in a turn waits for the next turn.
  const store = await openSqliteStore({ path: join(root, 'nimbus.db'), turnBudgetMs: 0 });
  const t = await startTestServer({
    store,
    prewarm: { nodejs: 0, python: 0, provided: 0 },
    threadPrewarm: 0,
  });
  try {
    const lines = ['app: stall', 'functions:'];
    for (let i = 0; i < FUNCTIONS; i++) {
      lines.push(
        `  f${i}:`,
        '    handler: index.a',
        '    events:',
        `      - http: GET /f${i}`,
        '      - queue: stall-jobs',
      );
    }
    lines.push('resources:', '  queues: [stall-jobs]');
    const dir = t.writeApp({
      'nimbus.yml': lines.join('\n') + '\n',
      'index.js': 'exports.a = async () => ({ statusCode: 200, body: "ok" });\n',
    });
    const counter = countStatementsPerTurn();
    let max: number;
    try {
      await t.deploy(dir);
      // The pollers' first receives run right after the commit; let them all run.
      await new Promise((r) => setTimeout(r, 200));
    } finally {
      max = counter.stop();
    }
    assert.equal((await store.functions.listFunctions('stall')).length, FUNCTIONS);
    assert.equal(
      (await store.queues.listTriggers()).filter((q) => q.queue === 'stall-jobs').length,
      FUNCTIONS,
    );
    // Before turn-taking: a transaction yielded only after 5 ms of its own queries, and queries
    // outside transactions never did (the 24 pollers' first receives ran as one block).
    assert.ok(max <= 2, `${max} statements ran in one event-loop turn`);
  } finally {
    await t.close();
    await store.close();
  }
});

test('deploys started together run one at a time, in arrival order', async () => {
  const store = await openSqliteStore({ path: ':memory:' });
  try {
    const steps: string[] = [];
    const hook: AppDeployHook = {
      validate: (spec) => void steps.push(`validate ${spec.app}`),
      write: async (spec, tx) => {
        steps.push(`write ${spec.app}`);
        await tx.settings.set(`probe:${spec.app}`, '1');
      },
      afterCommit: async (spec) => {
        // A turn of the event loop: without the queue another deploy's steps run here.
        await new Promise((r) => setImmediate(r));
        steps.push(`committed ${spec.app}`);
      },
      apply: async () => undefined,
      removeApp: async () => undefined,
    };
    const deployer = new DeployService({
      store,
      resolver: { invalidate: () => undefined } as unknown as FunctionResolver,
      pool: { retire: () => undefined } as unknown as WarmPool,
      hooks: [hook],
    });
    const { bytes, sha256 } = packBundle(
      new Map([['index.js', { data: Buffer.from('exports.a = async () => 1;\n'), mode: 0o644 }]]),
    );
    await store.code.put(sha256, bytes);
    const request = deployRequestSchema.parse({
      functions: [
        {
          name: 'a',
          codeSha256: sha256,
          codeSize: bytes.length,
          config: { runtime: 'nodejs', handler: 'index.a' },
        },
      ],
    });
    const apps = ['q1', 'q2', 'q3'];
    await Promise.all(apps.map((app) => deployer.deploy(app, request)));
    // Before the queue: validate q1, validate q2, validate q3, then the writes interleaved.
    assert.deepEqual(
      steps,
      apps.flatMap((app) => [`validate ${app}`, `write ${app}`, `committed ${app}`]),
    );
    // A refused deploy does not stop the ones queued behind it.
    const refused = deployer.deploy('bad name!', request);
    const next = deployer.deploy('q4', request);
    await assert.rejects(refused, /App name 'bad name!' is invalid/);
    assert.equal((await next).functions.length, 1);
  } finally {
    await store.close();
  }
});

test('the route table is reloaded before the trigger hooks start their pollers', async () => {
  const store = await openSqliteStore({ path: ':memory:' });
  try {
    const steps: string[] = [];
    const hook: AppDeployHook = {
      validate: () => undefined,
      write: async () => undefined,
      afterCommit: async () => void steps.push('hook afterCommit'),
      apply: async () => undefined,
      removeApp: async () => undefined,
    };
    const deployer = new DeployService({
      store,
      resolver: { invalidate: () => undefined } as unknown as FunctionResolver,
      pool: { retire: () => undefined } as unknown as WarmPool,
      // As the server wires it: invalidate, then load the table (here: one turn of the loop).
      onRoutesChanged: async () => {
        steps.push('routes invalidated');
        await new Promise((r) => setImmediate(r));
        steps.push('routes loaded');
      },
      hooks: [hook],
    });
    const { bytes, sha256 } = packBundle(
      new Map([['index.js', { data: Buffer.from('exports.a = async () => 1;\n'), mode: 0o644 }]]),
    );
    await store.code.put(sha256, bytes);
    const request = deployRequestSchema.parse({
      functions: [
        {
          name: 'a',
          codeSha256: sha256,
          codeSize: bytes.length,
          config: { runtime: 'nodejs', handler: 'index.a' },
        },
      ],
    });
    await deployer.deploy('routes', request);
    assert.deepEqual(steps, ['routes invalidated', 'routes loaded', 'hook afterCommit']);
  } finally {
    await store.close();
  }
});
