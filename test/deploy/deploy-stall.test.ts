// A big deploy on SQLite (synchronous driver) never runs store queries back to back without the
// event loop turning once the turn's budget is spent: not in its transaction, not in the burst of
// first receives its new queue pollers make after the commit. Structural: with a budget of 0 it
// counts the statements better-sqlite3 prepares per event-loop turn, never how long anything took.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import BetterSqlite3 from 'better-sqlite3';
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
