// The workflow crash scenario of workflow-crash(.slow).test.ts: real server processes run many
// executions of a Task/Wait/Retry/Map/Parallel workflow, one process is SIGKILLed mid-way, and
// the run is checked against the engine's durability invariant (see the test files' header).
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import pg from 'pg';
import { readLocalCredentials } from '../../src/auth/credentials.js';
import { ApiClient } from '../../src/cli/api-client.js';
import { deployApp, stopBundling } from '../../src/cli/commands/deploy.js';
import { createOutput } from '../../src/cli/output.js';
import { Spinner } from '../../src/cli/spinner.js';
import { NimbusProcesses, type NimbusProcess } from '../helpers/nimbus-process.js';
import { testPgUrl, type TestStoreName } from '../helpers/test-stores.js';

const APP_YML = `app: crash
functions:
  step:
    handler: index.step
resources:
  queues: { calls: {} }
`;
// Every invocation appends its key and start time to the durable 'calls' queue before it
// answers, so the test counts invocations even of a process killed before it recorded them.
const APP_JS = `
const { queues } = require('nimbus/sdk');
exports.step = async (e) => {
  await queues.send('calls', JSON.stringify({ key: e.key, t: Date.now() }));
  if (e.op === 'flaky' && e.key.retry === 0) {
    const err = new Error('the first attempt fails');
    err.name = 'FlakyError';
    throw err;
  }
  return { v: e.op === 'dbl' ? e.v * 2 : e.op === 'flaky' ? e.v * 10 : e.v + 1 };
};
`;

const ARN = 'arn:aws:lambda:us-east-1:000000000000:function:crash-step';
/** What each invocation reports about itself: execution, state, retry (and Map item). */
const KEY = { 'exec.$': '$$.Execution.Name', 'state.$': '$$.State.Name', 'retry.$': '$$.State.RetryCount' };
const task = (op: string, v: string, extra: Record<string, unknown> = {}) => ({
  Type: 'Task',
  Resource: ARN,
  Parameters: { key: { ...KEY, ...extra }, op, 'v.$': v },
});
/** The wait of the `Nap` state, checked against the history. */
export const WAIT_SECONDS = 1;
/** The flaky step's retry interval, checked against the invocations' start times. */
const RETRY_SECONDS = 1;
const DEFINITION = {
  StartAt: 'Prep',
  States: {
    Prep: { ...task('inc', '$.n'), ResultPath: '$.prep', Next: 'Nap' },
    Nap: { Type: 'Wait', Seconds: WAIT_SECONDS, Next: 'Flaky' },
    Flaky: {
      ...task('flaky', '$.prep.v'),
      Retry: [
        { ErrorEquals: ['FlakyError'], IntervalSeconds: RETRY_SECONDS, MaxAttempts: 2, BackoffRate: 1 },
      ],
      ResultPath: '$.flaky',
      Next: 'Each',
    },
    Each: {
      Type: 'Map',
      ItemsPath: '$.items',
      ItemSelector: { 'x.$': '$$.Map.Item.Value', 'i.$': '$$.Map.Item.Index' },
      ItemProcessor: {
        ProcessorConfig: { Mode: 'INLINE' },
        StartAt: 'Item',
        States: { Item: { ...task('inc', '$.x', { 'item.$': '$.i' }), End: true } },
      },
      ResultPath: '$.each',
      Next: 'Both',
    },
    Both: {
      Type: 'Parallel',
      Branches: [
        { StartAt: 'Left', States: { Left: { ...task('inc', '$.flaky.v'), End: true } } },
        { StartAt: 'Right', States: { Right: { ...task('dbl', '$.prep.v'), End: true } } },
      ],
      ResultPath: '$.both',
      End: true,
    },
  },
};

const inputOf = (i: number) => ({ n: i, items: [i, i + 1, i + 2] });
const expectedOutput = (i: number) => ({
  ...inputOf(i),
  prep: { v: i + 1 },
  flaky: { v: (i + 1) * 10 },
  each: inputOf(i).items.map((x) => ({ v: x + 1 })),
  both: [{ v: (i + 1) * 10 + 1 }, { v: (i + 1) * 2 }],
});
/** The invocation keys one execution makes when nothing crashes. */
const expectedKeys = (name: string) => [
  `${name}/Prep/0`,
  `${name}/Flaky/0`,
  `${name}/Flaky/1`,
  ...[0, 1, 2].map((i) => `${name}/Item/0/${i}`),
  `${name}/Left/0`,
  `${name}/Right/0`,
];
interface CallKey {
  readonly exec: string;
  readonly state: string;
  readonly retry: number;
  readonly item?: number;
}
const keyText = (k: CallKey) => `${k.exec}/${k.state}/${k.retry}${k.item === undefined ? '' : `/${k.item}`}`;

/** A task row as the store keeps it (read straight from the table after the run). */
interface TaskRow {
  readonly key: string;
  readonly status: string;
  readonly attempts: number;
  readonly recordedAt: number;
}

// Loose JSON answers of the /v1 API.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Answer = Record<string, any>;

/** Resources of one scenario run, released by {@link CrashScenario.cleanup}. */
export class CrashScenario {
  readonly #root = mkdtempSync(join(tmpdir(), 'nimbus-wf-crash-'));
  readonly #nodes = new NimbusProcesses();
  readonly #schemas: string[] = [];

  async cleanup(): Promise<void> {
    await this.#nodes.killAll();
    await stopBundling();
    rmSync(this.#root, { recursive: true, force: true });
    if (this.#schemas.length > 0) {
      const client = new pg.Client({ connectionString: testPgUrl() });
      await client.connect();
      for (const schema of this.#schemas) await client.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
      await client.end();
    }
  }

  /**
   * Run `executions` executions, SIGKILL one node once `killAfterStarts` of them are acknowledged,
   * then finish them: on one node, by restarting it on the same data; with `twoNodes`
   * (PostgreSQL), on the surviving node alone. Asserts everything; resolves with a summary.
   */
  async run(options: {
    readonly store: TestStoreName;
    readonly executions: number;
    readonly twoNodes?: boolean;
    /** Longest wait for every execution to finish after the kill. */
    readonly finishWithinMs: number;
  }): Promise<string> {
    const dir = mkdtempSync(join(this.#root, `${options.store}-`));
    const appDir = join(dir, 'app');
    mkdirSync(appDir);
    writeFileSync(join(appDir, 'nimbus.yml'), APP_YML);
    writeFileSync(join(appDir, 'index.js'), APP_JS);
    let storeUrl: string | undefined;
    if (options.store === 'postgres') {
      const schema = `nimbus_wf_crash_${process.pid}_${this.#schemas.length}`;
      this.#schemas.push(schema);
      const client = new pg.Client({ connectionString: testPgUrl() });
      await client.connect();
      await client.query(`CREATE SCHEMA "${schema}"`);
      await client.end();
      const url = new URL(testPgUrl());
      url.searchParams.set('options', `-c search_path=${schema}`);
      storeUrl = url.toString();
    }
    const dataDirs = [join(dir, 'data-a'), join(dir, 'data-b')];
    const dbUrl = storeUrl ?? `sqlite:${join(dataDirs[0]!, 'nimbus.db')}`;
    const nodes: NimbusProcess[] = [await this.#nodes.start({ dataDir: dataDirs[0]!, store: storeUrl })];
    const creds = readLocalCredentials(dataDirs[0]!, {});
    assert.ok(creds?.token, 'the first start wrote credentials.json');
    const token = creds.token;
    if (options.twoNodes === true)
      nodes.push(await this.#nodes.start({ dataDir: dataDirs[1]!, store: storeUrl }));
    const call = async (url: string, method: string, path: string, body?: unknown) => {
      const res = await fetch(`${url}${path}`, {
        method,
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
      const text = await res.text();
      return { status: res.status, body: (text === '' ? {} : JSON.parse(text)) as Answer };
    };

    const quiet = new Spinner(createOutput({ write: () => true } as never, { env: {} }));
    await deployApp(appDir, new ApiClient({ endpoint: nodes[0]!.url, token }), quiet);
    const put = await call(nodes[0]!.url, 'PUT', '/v1/workflows/crash-flow', {
      app: 'crash',
      definition: DEFINITION,
    });
    assert.equal(put.status, 201, JSON.stringify(put.body));

    // Most executions are started first; once a quarter of all have finished (the others are
    // at every stage, tasks in flight), the rest are sent and the victim is killed among them:
    // those acknowledged must finish, the others are started again under the same name.
    const names = Array.from({ length: options.executions }, (_, i) => `e${i}`);
    const acked = new Set<string>();
    let killed = false;
    const start = async (i: number) => {
      const node = nodes[i % nodes.length]!;
      try {
        const res = await call(node.url, 'POST', '/v1/workflows/crash-flow/executions', {
          name: names[i],
          input: inputOf(i),
        });
        assert.equal(res.status, 201, `start ${names[i]}: ${JSON.stringify(res.body)}`);
        acked.add(names[i]!);
      } catch (err) {
        if (!killed) throw err; // only requests cut by the kill may fail
      }
    };
    const first = Math.floor(options.executions * 0.7);
    for (let i = 0; i < first; i += 10) {
      await Promise.all(names.slice(i, Math.min(first, i + 10)).map((_, j) => start(i + j)));
    }
    const until0 = Date.now() + 60_000;
    for (;;) {
      const done = await call(
        nodes[0]!.url,
        'GET',
        '/v1/workflows/crash-flow/executions?status=SUCCEEDED&limit=1000',
      );
      if (done.body.executions.length >= options.executions / 4) break;
      assert.ok(Date.now() < until0, 'executions finish before the kill');
      await new Promise((r) => setTimeout(r, 20));
    }
    const rest = Promise.all(names.slice(first).map((_, j) => start(first + j)));
    await new Promise((r) => setTimeout(r, Math.random() * 30));
    const victim = nodes.at(-1)!;
    const killAt = Date.now();
    killed = true;
    await this.#nodes.kill(victim.child);
    await rest;

    const survivor =
      options.twoNodes === true
        ? nodes[0]!
        : await this.#nodes.start({ dataDir: dataDirs[0]!, store: storeUrl });
    for (const name of names) {
      if (acked.has(name)) continue;
      const i = Number(name.slice(1));
      const res = await call(survivor.url, 'POST', '/v1/workflows/crash-flow/executions', {
        name,
        input: inputOf(i),
      });
      // Created now (201), or the victim created it before dying (200 while RUNNING, or
      // ExecutionAlreadyExists once it finished).
      assert.ok(
        res.status === 201 || res.status === 200 || res.body.code === 'ExecutionAlreadyExists',
        `restart ${name}: ${res.status} ${JSON.stringify(res.body)}`,
      );
    }

    // Wait for every execution to finish.
    const until = Date.now() + options.finishWithinMs;
    for (;;) {
      const running = await call(
        survivor.url,
        'GET',
        '/v1/workflows/crash-flow/executions?status=RUNNING&limit=1',
      );
      if (running.body.executions.length === 0) break;
      if (Date.now() > until) {
        // What is stuck, for the failure message.
        const stuck = await query(
          options.store,
          dbUrl,
          `SELECT e.name, e.next_run_at, e.lease_owner, e.lease_until, e.parent_id IS NOT NULL AS child,
             (SELECT COUNT(*) FROM workflow_tasks t WHERE t.execution_id = e.id AND t.status = 'PENDING') AS pending_tasks,
             (SELECT MIN(t.lease_until) FROM workflow_tasks t WHERE t.execution_id = e.id AND t.status = 'PENDING') AS task_lease,
             (SELECT MIN(m.due_at) FROM workflow_timers m WHERE m.execution_id = e.id AND m.fired_at IS NULL) AS timer_due,
             (SELECT COUNT(*) FROM workflow_timers m WHERE m.execution_id = e.id AND m.fired_at IS NOT NULL AND m.consumed = 0) AS timers_fired,
             (SELECT COUNT(*) FROM workflow_executions c WHERE c.parent_id = e.id AND c.status = 'RUNNING') AS children_running,
             (SELECT COUNT(*) FROM workflow_executions c WHERE c.parent_id = e.id AND c.status <> 'RUNNING' AND c.parent_consumed = 0) AS children_done
           FROM workflow_executions e WHERE e.status = 'RUNNING' LIMIT 10`,
        );
        assert.fail(
          `executions still running ${options.finishWithinMs} ms after the kill (now ${Date.now()}): ${JSON.stringify(stuck)}`,
        );
      }
      await new Promise((r) => setTimeout(r, 250));
    }

    // 1. Every execution SUCCEEDED with the right output; its Wait was honoured.
    for (const [i, name] of names.entries()) {
      const path = `/v1/workflows/crash-flow/executions/${name}`;
      const e = await call(survivor.url, 'GET', path);
      assert.equal(e.status, 200, `${name} exists`);
      assert.deepEqual([e.body.status, e.body.output], ['SUCCEEDED', expectedOutput(i)], `${name}'s end`);
      const history = await call(survivor.url, 'GET', `${path}/history?limit=1000`);
      const at = (type: string) => {
        const ev = (history.body.events as Answer[]).filter((x) => x.type === type);
        assert.equal(
          ev.length,
          1,
          `${name}: one ${type}: ${JSON.stringify((history.body.events as Answer[]).map((x) => [x.id, x.type, x.timestamp, x.details?.name]))}`,
        );
        return Date.parse(ev[0]!.timestamp as string);
      };
      assert.ok(
        at('WaitStateExited') - at('WaitStateEntered') >= WAIT_SECONDS * 1000,
        `${name}: the Wait left before its ${WAIT_SECONDS} s`,
      );
    }

    // 2. The invocations, from the function's durable log.
    const calls = new Map<string, number[]>();
    for (;;) {
      const got = await call(survivor.url, 'POST', '/v1/queues/calls/receive', {
        maxMessages: 10,
        waitTimeSeconds: 0,
      });
      const messages = got.body.messages as Array<{ body: string; receiptHandle: string }>;
      if (messages.length === 0) break;
      for (const m of messages) {
        const c = JSON.parse(m.body) as { key: CallKey; t: number };
        const k = keyText(c.key);
        calls.set(
          k,
          [...(calls.get(k) ?? []), c.t].sort((a, b) => a - b),
        );
      }
      await call(survivor.url, 'POST', '/v1/queues/calls/delete', {
        receiptHandles: messages.map((m) => m.receiptHandle),
      });
    }
    const rows = await readTaskRows(options.store, dbUrl);
    const rowOf = new Map(rows.map((r) => [r.key, r]));
    assert.equal(rowOf.size, rows.length, 'one task row per execution, state, retry and item');

    let reRuns = 0;
    for (const name of names) {
      const keys = expectedKeys(name);
      for (const k of keys) {
        const row = rowOf.get(k);
        const times = calls.get(k) ?? [];
        assert.ok(row !== undefined, `${k}: a task was recorded`);
        assert.ok(times.length >= 1, `${k}: the function was invoked`);
        // Each invocation follows a dispatch under a lease (the first at the commit, one per
        // claim after a lease ran out or was freed): never more invocations than dispatches.
        assert.ok(
          times.length <= row.attempts,
          `${k}: ${times.length} invocations, ${row.attempts} dispatches`,
        );
        if (row.recordedAt < killAt) {
          // Recorded before the kill: a closed task is never claimed again.
          assert.equal(times.length, 1, `${k}: recorded before the kill, yet invoked ${times.length} times`);
        } else if (times.length > 1) {
          // One kill: at most one re-run, of an invocation in flight at the kill, started after it.
          assert.equal(times.length, 2, `${k}: invoked ${times.length} times across one kill`);
          assert.ok(
            times[0]! < killAt && times[1]! >= killAt,
            `${k}: re-run ${times.join(', ')}, kill ${killAt}`,
          );
          reRuns++;
        }
      }
      // The retry waited its interval after the failed attempt.
      const flaky = [calls.get(`${name}/Flaky/0`)![0]!, calls.get(`${name}/Flaky/1`)![0]!];
      assert.ok(flaky[1]! - flaky[0]! >= RETRY_SECONDS * 1000, `${name}: the retry came before its interval`);
    }
    const extra = [...calls.keys()].filter((k) => !rowOf.has(k));
    assert.deepEqual(extra, [], 'every invocation belongs to a task row');
    for (const n of nodes) if (n !== victim) await this.#nodes.kill(n.child);
    if (survivor !== nodes[0]) await this.#nodes.kill(survivor.child);
    const recordedBefore = rows.filter((r) => r.recordedAt < killAt).length;
    return `${options.store}${options.twoNodes === true ? ' (two nodes)' : ''}: ${names.length} executions, ${acked.size} starts acknowledged before the kill, ${recordedBefore}/${rows.length} tasks recorded before it, ${reRuns} in-flight task(s) re-run`;
  }
}

/** Rows of `sql` on the scenario's database (PostgreSQL: `url` sets the schema's search_path). */
async function query<T>(store: TestStoreName, url: string, sql: string): Promise<T[]> {
  if (store === 'postgres') {
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    try {
      return (await client.query(sql)).rows as T[];
    } finally {
      await client.end();
    }
  }
  const db = new Database(url.slice('sqlite:'.length), { readonly: true });
  try {
    return db.prepare(sql).all() as T[];
  } finally {
    db.close();
  }
}

/** Every task row, keyed as the function reports its invocations. */
async function readTaskRows(store: TestStoreName, url: string): Promise<TaskRow[]> {
  type Raw = {
    invoke: string | null;
    status: string;
    attempts: number | string;
    updated_at: number | string;
  };
  const raw = await query<Raw>(store, url, 'SELECT invoke, status, attempts, updated_at FROM workflow_tasks');
  return raw.map((r) => {
    const invoke = JSON.parse(r.invoke!) as { payload: string };
    const payload = JSON.parse(invoke.payload) as { key: CallKey };
    return {
      key: keyText(payload.key),
      status: r.status,
      attempts: Number(r.attempts),
      recordedAt: Number(r.updated_at),
    };
  });
}
