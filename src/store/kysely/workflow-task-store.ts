// The tasks, tokens, timers and leases half of the Kysely WorkflowStore (see workflow-store.ts).

import type { Kysely } from 'kysely';
import type { NewTask, TaskRecord, TokenOutcome } from '../ports/workflows.js';
import type { Capabilities } from '../store.js';
import type { Database } from './database.js';
import { toMs } from './database.js';
import { earliest, OPEN_TASK, toTask, wake } from './workflow-rows.js';

type InvocationOutcome =
  | { readonly status: 'SUCCEEDED'; readonly result: string }
  | { readonly status: 'FAILED'; readonly error: string; readonly cause: string }
  | { readonly status: 'STARTED' };

/** Task, token and timer operations over any Kysely dialect; the base of KyselyWorkflowStore. */
export class WorkflowTaskStore {
  readonly #db: Kysely<Database>;
  protected readonly capabilities: Capabilities;

  constructor(db: Kysely<Database>, capabilities: Capabilities) {
    this.#db = db;
    this.capabilities = capabilities;
  }

  /** Inserts the tasks of a step (leased to `lease.owner` when given, so it invokes them first). */
  protected async insertTasks(
    db: Kysely<Database>,
    executionId: string,
    tasks: readonly NewTask[],
    lease: { readonly owner: string; readonly until: number } | undefined,
    now: number,
  ): Promise<void> {
    if (tasks.length === 0) return;
    await db
      .insertInto('workflow_tasks')
      .values(
        tasks.map((t) => {
          const heartbeatAt = t.heartbeatSeconds === undefined ? undefined : now + t.heartbeatSeconds * 1000;
          const leased = lease !== undefined && t.invoke !== undefined;
          return {
            token: t.token,
            execution_id: executionId,
            ref: t.ref,
            state_name: t.stateName ?? null,
            status: 'PENDING',
            invoke: t.invoke === undefined ? null : JSON.stringify(t.invoke),
            callback: t.callback ? 1 : 0,
            result: null,
            error: null,
            cause: null,
            timeout_at: t.timeoutAt ?? null,
            heartbeat_seconds: t.heartbeatSeconds ?? null,
            heartbeat_at: heartbeatAt ?? null,
            expires_at: earliest(t.timeoutAt, heartbeatAt) ?? null,
            lease_owner: leased ? lease.owner : null,
            lease_until: leased ? lease.until : null,
            attempts: leased ? 1 : 0,
            consumed: 0,
            created_at: now,
            updated_at: now,
          };
        }),
      )
      .execute();
  }

  async claimTasks(owner: string, limit: number, leaseMs: number, now = Date.now()): Promise<TaskRecord[]> {
    if (limit <= 0) return [];
    let pick = this.#db
      .selectFrom('workflow_tasks')
      .select('token')
      .where('status', '=', 'PENDING')
      .where('invoke', 'is not', null)
      .where((eb) => eb.or([eb('lease_until', 'is', null), eb('lease_until', '<=', now)]))
      .limit(limit);
    if (this.capabilities.skipLocked) pick = pick.forUpdate().skipLocked();
    const rows = await this.#db
      .with(
        (cte) => cte('picked').materialized(),
        () => pick,
      )
      .updateTable('workflow_tasks')
      .set((eb) => ({
        lease_owner: owner,
        lease_until: now + leaseMs,
        attempts: eb('attempts', '+', 1),
        updated_at: now,
      }))
      .where('token', 'in', (eb) => eb.selectFrom('picked').select('picked.token'))
      .returningAll()
      .execute();
    return rows.map(toTask);
  }

  async getTask(token: string): Promise<TaskRecord | undefined> {
    const row = await this.#db
      .selectFrom('workflow_tasks')
      .selectAll()
      .where('token', '=', token)
      .executeTakeFirst();
    return row === undefined ? undefined : toTask(row);
  }

  async openTasks(executionId: string): Promise<TaskRecord[]> {
    const rows = await this.#db
      .selectFrom('workflow_tasks')
      .selectAll()
      .where('execution_id', '=', executionId)
      .where('status', 'in', [...OPEN_TASK])
      .orderBy('created_at')
      .execute();
    return rows.map(toTask);
  }

  async recordInvocation(
    token: string,
    owner: string | undefined,
    outcome: InvocationOutcome,
    now = Date.now(),
  ): Promise<boolean> {
    return this.#db.transaction().execute(async (trx) => {
      const terminal = outcome.status !== 'STARTED';
      let q = trx
        .updateTable('workflow_tasks')
        .set({
          status: outcome.status,
          lease_owner: null,
          lease_until: null,
          updated_at: now,
          ...(outcome.status === 'SUCCEEDED' ? { result: outcome.result } : {}),
          ...(outcome.status === 'FAILED' ? { error: outcome.error, cause: outcome.cause } : {}),
          ...(terminal ? { expires_at: null } : {}),
        })
        .where('token', '=', token)
        .where('status', '=', 'PENDING');
      if (owner !== undefined) q = q.where('lease_owner', '=', owner);
      const row = await q.returning('execution_id').executeTakeFirst();
      if (row === undefined) return false;
      if (terminal) await wake(trx, [row.execution_id], now);
      return true;
    });
  }

  async completeToken(
    token: string,
    outcome:
      | { readonly status: 'SUCCEEDED'; readonly result: string }
      | { readonly status: 'FAILED'; readonly error: string; readonly cause: string },
    now = Date.now(),
  ): Promise<TokenOutcome> {
    return this.#db.transaction().execute(async (trx) => {
      const row = await trx
        .updateTable('workflow_tasks')
        .set({
          status: outcome.status,
          lease_owner: null,
          lease_until: null,
          expires_at: null,
          updated_at: now,
          ...(outcome.status === 'SUCCEEDED'
            ? { result: outcome.result }
            : { error: outcome.error, cause: outcome.cause }),
        })
        .where('token', '=', token)
        .where('callback', '=', 1)
        .where('status', 'in', [...OPEN_TASK])
        .returning('execution_id')
        .executeTakeFirst();
      if (row !== undefined) {
        await wake(trx, [row.execution_id], now);
        return 'ok';
      }
      return this.#whyNot(trx, token);
    });
  }

  async heartbeatToken(token: string, now = Date.now()): Promise<TokenOutcome> {
    return this.#db.transaction().execute(async (trx) => {
      const row = await trx
        .selectFrom('workflow_tasks')
        .selectAll()
        .where('token', '=', token)
        .where('callback', '=', 1)
        .where('status', 'in', [...OPEN_TASK])
        .executeTakeFirst();
      if (row === undefined) return this.#whyNot(trx, token);
      if (row.heartbeat_seconds !== null) {
        const heartbeatAt = now + Number(row.heartbeat_seconds) * 1000;
        const timeoutAt = row.timeout_at === null ? undefined : toMs(row.timeout_at);
        await trx
          .updateTable('workflow_tasks')
          .set({
            heartbeat_at: heartbeatAt,
            expires_at: earliest(timeoutAt, heartbeatAt) ?? null,
            updated_at: now,
          })
          .where('token', '=', token)
          .where('status', 'in', [...OPEN_TASK])
          .execute();
      }
      return 'ok';
    });
  }

  async #whyNot(db: Kysely<Database>, token: string): Promise<TokenOutcome> {
    const row = await db
      .selectFrom('workflow_tasks')
      .select(['status', 'callback'])
      .where('token', '=', token)
      .executeTakeFirst();
    if (row === undefined || Number(row.callback) !== 1) return 'unknown';
    return row.status === 'TIMED_OUT' ? 'timed-out' : 'closed';
  }

  async fireDue(now: number, limit: number): Promise<{ timers: number; tasks: number }> {
    return this.#db.transaction().execute(async (trx) => {
      let timerPick = trx
        .selectFrom('workflow_timers')
        .select('id')
        .where('fired_at', 'is', null)
        .where('due_at', '<=', now)
        .orderBy('due_at')
        .limit(limit);
      if (this.capabilities.skipLocked) timerPick = timerPick.forUpdate().skipLocked();
      const timers = await trx
        .with(
          (cte) => cte('picked').materialized(),
          () => timerPick,
        )
        .updateTable('workflow_timers')
        .set({ fired_at: now })
        .where('id', 'in', (eb) => eb.selectFrom('picked').select('picked.id'))
        // Fire once: a concurrent firer that picked the same row finds it fired already.
        .where('fired_at', 'is', null)
        .returning('execution_id')
        .execute();
      let taskPick = trx
        .selectFrom('workflow_tasks')
        .select('token')
        .where('expires_at', 'is not', null)
        .where('expires_at', '<=', now)
        .where('status', 'in', [...OPEN_TASK])
        .orderBy('expires_at')
        .limit(limit);
      if (this.capabilities.skipLocked) taskPick = taskPick.forUpdate().skipLocked();
      const tasks = await trx
        .with(
          (cte) => cte('picked').materialized(),
          () => taskPick,
        )
        .updateTable('workflow_tasks')
        .set((eb) => ({
          status: 'TIMED_OUT',
          error: eb
            .case()
            .when('heartbeat_at', '<=', now)
            .then('States.HeartbeatTimeout')
            .else('States.Timeout')
            .end(),
          cause: eb
            .case()
            .when('heartbeat_at', '<=', now)
            .then('No heartbeat arrived within HeartbeatSeconds.')
            .else('The task did not finish within TimeoutSeconds.')
            .end(),
          expires_at: null,
          lease_owner: null,
          lease_until: null,
          updated_at: now,
        }))
        .where('token', 'in', (eb) => eb.selectFrom('picked').select('picked.token'))
        .where('status', 'in', [...OPEN_TASK])
        .returning('execution_id')
        .execute();
      await wake(
        trx,
        [...timers, ...tasks].map((r) => r.execution_id),
        now,
      );
      return { timers: timers.length, tasks: tasks.length };
    });
  }

  async nextDue(): Promise<number | undefined> {
    const [timer, task] = await Promise.all([
      this.#db
        .selectFrom('workflow_timers')
        .select((eb) => eb.fn.min('due_at').as('t'))
        .where('fired_at', 'is', null)
        .executeTakeFirst(),
      this.#db
        .selectFrom('workflow_tasks')
        .select((eb) => eb.fn.min('expires_at').as('t'))
        .where('expires_at', 'is not', null)
        .executeTakeFirst(),
    ]);
    const ms = (v: unknown): number | undefined =>
      v === null || v === undefined ? undefined : toMs(v as number | string);
    return earliest(ms(timer?.t), ms(task?.t));
  }

  async releaseLeases(owner?: string): Promise<number> {
    let ex = this.#db
      .updateTable('workflow_executions')
      .set({ lease_owner: null, lease_until: null })
      .where('lease_owner', 'is not', null);
    if (owner !== undefined) ex = ex.where('lease_owner', '=', owner);
    let tasks = this.#db
      .updateTable('workflow_tasks')
      .set({ lease_owner: null, lease_until: null })
      .where('status', '=', 'PENDING')
      .where('lease_owner', 'is not', null);
    if (owner !== undefined) tasks = tasks.where('lease_owner', '=', owner);
    const [a, b] = [await ex.executeTakeFirst(), await tasks.executeTakeFirst()];
    return Number(a.numUpdatedRows) + Number(b.numUpdatedRows);
  }
}
