// WorkflowStore over Kysely (SQLite and PostgreSQL): definitions, executions, history and steps.
// Tasks, timers and tokens live in workflow-task-store.ts (the same port, split for size).

import type { Kysely } from 'kysely';
import { NimbusError } from '../../errors.js';
import type {
  Completion,
  ExecutionEnd,
  ExecutionQuery,
  ExecutionRecord,
  HistoryEvent,
  NewHistoryEvent,
  StepCommit,
  WorkflowDefinition,
  WorkflowRecord,
  WorkflowStore,
} from '../ports/workflows.js';
import type { Capabilities } from '../store.js';
import type { Database } from './database.js';
import { toMs } from './database.js';
import { WorkflowTaskStore } from './workflow-task-store.js';
import {
  closeOpenWork,
  earliest,
  ENDED,
  insertEvents,
  toEvent,
  toExecution,
  toWorkflow,
  wake,
} from './workflow-rows.js';

/**
 * {@link WorkflowStore} for any Kysely dialect. Every step is guarded by one UPDATE of the
 * execution row (`WHERE lease_owner = :me AND status = 'RUNNING'`): PostgreSQL's row lock and
 * SQLite's single writer make it the point where a stop, a timeout or a second node loses.
 */
export class KyselyWorkflowStore extends WorkflowTaskStore implements WorkflowStore {
  readonly #db: Kysely<Database>;

  constructor(db: Kysely<Database>, capabilities: Capabilities) {
    super(db, capabilities);
    this.#db = db;
  }

  async putWorkflow(def: WorkflowDefinition, now = Date.now()): Promise<WorkflowRecord> {
    return this.#db.transaction().execute(async (trx) => {
      const row = await trx
        .selectFrom('workflows')
        .selectAll()
        .where('name', '=', def.name)
        .executeTakeFirst();
      if (row !== undefined && row.app !== def.app) {
        throw new NimbusError(
          'ResourceConflictException',
          `Workflow name '${def.name}' is taken by app '${row.app}'; choose another name or remove it from that app first.`,
        );
      }
      if (row !== undefined) {
        const current = await trx
          .selectFrom('workflow_versions')
          .selectAll()
          .where('workflow', '=', def.name)
          .where('version', '=', row.version)
          .executeTakeFirstOrThrow();
        if (
          current.definition === def.definition &&
          current.type === def.type &&
          current.front_end === def.frontEnd
        ) {
          return toWorkflow(row, current);
        }
      }
      const version = (row?.version ?? 0) + 1;
      const versionRow = {
        workflow: def.name,
        version,
        type: def.type,
        front_end: def.frontEnd,
        definition: def.definition,
        created_at: now,
      };
      await trx.insertInto('workflow_versions').values(versionRow).execute();
      const values = { app: def.app, type: def.type, front_end: def.frontEnd, version, updated_at: now };
      if (row === undefined) {
        await trx
          .insertInto('workflows')
          .values({ name: def.name, ...values, created_at: now })
          .execute();
      } else {
        await trx.updateTable('workflows').set(values).where('name', '=', def.name).execute();
      }
      return toWorkflow({ name: def.name, ...values, created_at: row?.created_at ?? now }, { ...versionRow });
    });
  }

  async getWorkflow(name: string): Promise<WorkflowRecord | undefined> {
    const row = await this.#db
      .selectFrom('workflows')
      .select('version')
      .where('name', '=', name)
      .executeTakeFirst();
    return row === undefined ? undefined : this.getWorkflowVersion(name, Number(row.version));
  }

  async getWorkflowVersion(name: string, version: number): Promise<WorkflowRecord | undefined> {
    const v = await this.#db
      .selectFrom('workflow_versions')
      .selectAll()
      .where('workflow', '=', name)
      .where('version', '=', version)
      .executeTakeFirst();
    if (v === undefined) return undefined;
    const row = await this.#db
      .selectFrom('workflows')
      .selectAll()
      .where('name', '=', name)
      .executeTakeFirst();
    // A deleted workflow's versions still serve its running executions.
    return toWorkflow(
      row ?? {
        name,
        app: '',
        type: v.type,
        front_end: v.front_end,
        version,
        created_at: v.created_at,
        updated_at: v.created_at,
      },
      v,
    );
  }

  async listWorkflows(app?: string): Promise<WorkflowRecord[]> {
    let q = this.#db
      .selectFrom('workflows')
      .innerJoin('workflow_versions', (j) =>
        j
          .onRef('workflow_versions.workflow', '=', 'workflows.name')
          .onRef('workflow_versions.version', '=', 'workflows.version'),
      )
      .select([
        'workflows.name',
        'workflows.app',
        'workflows.created_at',
        'workflows.updated_at',
        'workflow_versions.type',
        'workflow_versions.front_end',
        'workflow_versions.version',
        'workflow_versions.definition',
      ])
      .orderBy('workflows.name');
    if (app !== undefined) q = q.where('workflows.app', '=', app);
    return (await q.execute()).map((r) => ({
      name: r.name,
      app: r.app,
      type: r.type as WorkflowRecord['type'],
      frontEnd: r.front_end,
      definition: r.definition,
      version: Number(r.version),
      createdAt: toMs(r.created_at),
      updatedAt: toMs(r.updated_at),
    }));
  }

  async deleteWorkflow(name: string): Promise<boolean> {
    const r = await this.#db.deleteFrom('workflows').where('name', '=', name).executeTakeFirst();
    return Number(r.numDeletedRows) > 0;
  }

  async startExecution(start: {
    readonly id: string;
    readonly workflow: string;
    readonly name: string;
    readonly input: string;
    readonly state: string;
    readonly events: readonly NewHistoryEvent[];
    readonly deadlineAt?: number | undefined;
    readonly now?: number | undefined;
  }): Promise<{ created: boolean; execution: ExecutionRecord }> {
    const now = start.now ?? Date.now();
    try {
      return await this.#db.transaction().execute(async (trx) => {
        const existing = await trx
          .selectFrom('workflow_executions')
          .selectAll()
          .where('workflow', '=', start.workflow)
          .where('name', '=', start.name)
          .executeTakeFirst();
        if (existing !== undefined) return { created: false, execution: toExecution(existing) };
        const wf = await trx
          .selectFrom('workflows')
          .selectAll()
          .where('name', '=', start.workflow)
          .executeTakeFirst();
        if (wf === undefined) {
          throw new NimbusError(
            'StateMachineDoesNotExist',
            `State Machine Does Not Exist: '${start.workflow}'; create it first (nimbus.yml workflows: or POST /v1/workflows).`,
          );
        }
        const row = {
          id: start.id,
          workflow: start.workflow,
          workflow_version: Number(wf.version),
          front_end: wf.front_end,
          name: start.name,
          input: start.input,
          status: 'RUNNING',
          output: null,
          error: null,
          cause: null,
          state: start.state,
          started_at: now,
          stopped_at: null,
          deadline_at: start.deadlineAt ?? null,
          next_run_at: now,
          lease_owner: null,
          lease_until: null,
          last_event_id: start.events.length,
          parent_id: null,
          parent_ref: null,
          parent_consumed: 0,
          redrive_count: 0,
        };
        await trx.insertInto('workflow_executions').values(row).execute();
        await insertEvents(trx, start.id, 0, start.events, now);
        return { created: true, execution: toExecution(row) };
      });
    } catch (err) {
      // Two starts with one name at once: the unique key let one in; answer as its duplicate.
      const again = await this.findExecution(start.workflow, start.name);
      if (again !== undefined && again.id !== start.id) return { created: false, execution: again };
      throw err;
    }
  }

  async getExecution(id: string): Promise<ExecutionRecord | undefined> {
    const row = await this.#db
      .selectFrom('workflow_executions')
      .selectAll()
      .where('id', '=', id)
      .executeTakeFirst();
    return row === undefined ? undefined : toExecution(row);
  }

  async findExecution(workflow: string, name: string): Promise<ExecutionRecord | undefined> {
    const row = await this.#db
      .selectFrom('workflow_executions')
      .selectAll()
      .where('workflow', '=', workflow)
      .where('name', '=', name)
      .executeTakeFirst();
    return row === undefined ? undefined : toExecution(row);
  }

  async listExecutions(query: ExecutionQuery = {}): Promise<ExecutionRecord[]> {
    let q = this.#db
      .selectFrom('workflow_executions')
      .selectAll()
      .orderBy('started_at', 'desc')
      .orderBy('id', 'desc')
      .limit(query.limit ?? 100);
    if (query.workflow !== undefined) q = q.where('workflow', '=', query.workflow);
    if (query.status !== undefined) q = q.where('status', '=', query.status);
    if (query.parentId !== undefined) q = q.where('parent_id', '=', query.parentId);
    else if (query.children !== true) q = q.where('parent_id', 'is', null);
    const after = query.after;
    if (after !== undefined) {
      q = q.where((eb) =>
        eb.or([
          eb('started_at', '<', after.startedAt),
          eb.and([eb('started_at', '=', after.startedAt), eb('id', '<', after.id)]),
        ]),
      );
    }
    return (await q.execute()).map(toExecution);
  }

  async getHistory(
    executionId: string,
    options: { readonly afterId?: number; readonly limit?: number; readonly reverse?: boolean } = {},
  ): Promise<HistoryEvent[]> {
    let q = this.#db
      .selectFrom('workflow_history')
      .selectAll()
      .where('execution_id', '=', executionId)
      .orderBy('id', options.reverse === true ? 'desc' : 'asc');
    if (options.afterId !== undefined)
      q = q.where('id', options.reverse === true ? '<' : '>', options.afterId);
    if (options.limit !== undefined) q = q.limit(options.limit);
    return (await q.execute()).map(toEvent);
  }

  async claimExecutions(
    owner: string,
    limit: number,
    leaseMs: number,
    now = Date.now(),
  ): Promise<ExecutionRecord[]> {
    if (limit <= 0) return [];
    let pick = this.#db
      .selectFrom('workflow_executions')
      .select('id')
      .where('next_run_at', '<=', now)
      .where('status', '=', 'RUNNING')
      .where((eb) => eb.or([eb('lease_until', 'is', null), eb('lease_until', '<=', now)]))
      .orderBy('next_run_at')
      .limit(limit);
    // As the invocation queue: skip rows another node is claiming where rows can be locked; on a
    // single-writer backend the one UPDATE below is exclusive already.
    if (this.capabilities.skipLocked) pick = pick.forUpdate().skipLocked();
    const rows = await this.#db
      .with(
        (cte) => cte('picked').materialized(),
        () => pick,
      )
      .updateTable('workflow_executions')
      .set({ lease_owner: owner, lease_until: now + leaseMs })
      .where('id', 'in', (eb) => eb.selectFrom('picked').select('picked.id'))
      .returningAll()
      .execute();
    return rows.map(toExecution).sort((a, b) => (a.nextRunAt ?? 0) - (b.nextRunAt ?? 0));
  }

  async pendingCompletions(executionId: string): Promise<Completion[]> {
    const db = this.#db;
    const [tasks, timers, children] = await Promise.all([
      db
        .selectFrom('workflow_tasks')
        .selectAll()
        .where('execution_id', '=', executionId)
        .where('consumed', '=', 0)
        .where('status', 'in', ['SUCCEEDED', 'FAILED', 'TIMED_OUT'])
        .execute(),
      db
        .selectFrom('workflow_timers')
        .selectAll()
        .where('execution_id', '=', executionId)
        .where('consumed', '=', 0)
        .where('fired_at', 'is not', null)
        .execute(),
      db
        .selectFrom('workflow_executions')
        .selectAll()
        .where('parent_id', '=', executionId)
        .where('parent_consumed', '=', 0)
        .where('status', 'in', [...ENDED])
        .execute(),
    ]);
    const timed: Array<[number, Completion]> = [
      ...tasks.map((t): [number, Completion] => [
        toMs(t.updated_at),
        {
          kind: 'task',
          ref: t.ref,
          token: t.token,
          status: t.status as 'SUCCEEDED' | 'FAILED' | 'TIMED_OUT',
          result: t.result ?? undefined,
          error: t.error ?? undefined,
          cause: t.cause ?? undefined,
        },
      ]),
      ...timers.map((t): [number, Completion] => [
        toMs(t.fired_at ?? t.due_at),
        { kind: 'timer', ref: t.ref, id: t.id, payload: t.payload ?? undefined },
      ]),
      ...children.map((c): [number, Completion] => [
        toMs(c.stopped_at ?? c.started_at),
        {
          kind: 'child',
          ref: c.parent_ref ?? '',
          id: c.id,
          status: toExecution(c).status,
          output: c.output ?? undefined,
          error: c.error ?? undefined,
          cause: c.cause ?? undefined,
        },
      ]),
    ];
    return timed.sort((a, b) => a[0] - b[0]).map(([, c]) => c);
  }

  async commitStep(executionId: string, owner: string, step: StepCommit, now = Date.now()): Promise<boolean> {
    return this.#db.transaction().execute(async (trx) => {
      const end = step.end;
      const guard = await trx
        .updateTable('workflow_executions')
        .set((eb) => ({
          lease_owner: null,
          lease_until: null,
          state: step.state,
          last_event_id: eb('last_event_id', '+', step.events.length),
          next_run_at: end === undefined ? (step.nextRunAt ?? null) : null,
          ...(end === undefined
            ? {}
            : {
                status: end.status,
                output: end.output ?? null,
                error: end.error ?? null,
                cause: end.cause ?? null,
                stopped_at: now,
              }),
        }))
        .where('id', '=', executionId)
        .where('lease_owner', '=', owner)
        .where('status', '=', 'RUNNING')
        .returning(['last_event_id', 'parent_id', 'workflow', 'workflow_version', 'front_end', 'name'])
        .executeTakeFirst();
      if (guard === undefined) return false;
      const last = Number(guard.last_event_id);
      await insertEvents(trx, executionId, last - step.events.length, step.events, now);
      await this.#consume(trx, executionId, step.consumed);
      if (step.cancelTasks !== undefined && step.cancelTasks.length > 0) {
        await trx
          .updateTable('workflow_tasks')
          .set({
            status: 'CANCELLED',
            expires_at: null,
            lease_owner: null,
            lease_until: null,
            updated_at: now,
          })
          .where('execution_id', '=', executionId)
          .where('ref', 'in', [...step.cancelTasks])
          .where('status', 'in', ['PENDING', 'STARTED'])
          .execute();
      }
      if (end !== undefined) {
        await closeOpenWork(trx, executionId, now);
        if (guard.parent_id !== null) await wake(trx, [guard.parent_id], now);
        return true;
      }
      await this.insertTasks(trx, executionId, step.tasks ?? [], step.taskLease, now);
      if (step.timers !== undefined && step.timers.length > 0) {
        await trx
          .insertInto('workflow_timers')
          .values(
            step.timers.map((t) => ({
              id: t.id,
              execution_id: executionId,
              ref: t.ref,
              due_at: t.dueAt,
              payload: t.payload ?? null,
              fired_at: null,
              consumed: 0,
            })),
          )
          .execute();
      }
      if (step.children !== undefined && step.children.length > 0) {
        await trx
          .insertInto('workflow_executions')
          .values(
            step.children.map((c) => ({
              id: c.id,
              workflow: c.workflow ?? guard.workflow,
              workflow_version: c.workflowVersion ?? Number(guard.workflow_version),
              front_end: c.frontEnd ?? guard.front_end,
              name: c.name,
              input: c.input,
              status: 'RUNNING',
              output: null,
              error: null,
              cause: null,
              state: c.state,
              started_at: now,
              stopped_at: null,
              deadline_at: c.deadlineAt ?? null,
              next_run_at: now,
              lease_owner: null,
              lease_until: null,
              last_event_id: 0,
              parent_id: executionId,
              parent_ref: c.ref,
              parent_consumed: 0,
              redrive_count: 0,
            })),
          )
          .execute();
      }
      // A completion recorded while this step was being decided must not be slept through.
      if (step.nextRunAt === undefined && (await this.#hasPending(trx, executionId))) {
        await trx
          .updateTable('workflow_executions')
          .set({ next_run_at: now })
          .where('id', '=', executionId)
          .execute();
      }
      return true;
    });
  }

  async #consume(db: Kysely<Database>, executionId: string, consumed: readonly Completion[]): Promise<void> {
    const tokens = consumed.flatMap((c) => (c.kind === 'task' ? [c.token] : []));
    const timers = consumed.flatMap((c) => (c.kind === 'timer' ? [c.id] : []));
    const children = consumed.flatMap((c) => (c.kind === 'child' ? [c.id] : []));
    if (tokens.length > 0) {
      await db.updateTable('workflow_tasks').set({ consumed: 1 }).where('token', 'in', tokens).execute();
    }
    if (timers.length > 0) {
      await db.updateTable('workflow_timers').set({ consumed: 1 }).where('id', 'in', timers).execute();
    }
    if (children.length > 0) {
      await db
        .updateTable('workflow_executions')
        .set({ parent_consumed: 1 })
        .where('parent_id', '=', executionId)
        .where('id', 'in', children)
        .execute();
    }
  }

  async #hasPending(db: Kysely<Database>, executionId: string): Promise<boolean> {
    const task = await db
      .selectFrom('workflow_tasks')
      .select('token')
      .where('execution_id', '=', executionId)
      .where('consumed', '=', 0)
      .where('status', 'in', ['SUCCEEDED', 'FAILED', 'TIMED_OUT'])
      .limit(1)
      .executeTakeFirst();
    if (task !== undefined) return true;
    const timer = await db
      .selectFrom('workflow_timers')
      .select('id')
      .where('execution_id', '=', executionId)
      .where('consumed', '=', 0)
      .where('fired_at', 'is not', null)
      .limit(1)
      .executeTakeFirst();
    if (timer !== undefined) return true;
    const child = await db
      .selectFrom('workflow_executions')
      .select('id')
      .where('parent_id', '=', executionId)
      .where('parent_consumed', '=', 0)
      .where('status', 'in', [...ENDED])
      .limit(1)
      .executeTakeFirst();
    return child !== undefined;
  }

  async releaseExecution(executionId: string, owner: string, nextRunAt?: number): Promise<void> {
    await this.#db
      .updateTable('workflow_executions')
      .set({
        lease_owner: null,
        lease_until: null,
        ...(nextRunAt === undefined ? {} : { next_run_at: nextRunAt }),
      })
      .where('id', '=', executionId)
      .where('lease_owner', '=', owner)
      .execute();
  }

  async endExecution(
    executionId: string,
    end: ExecutionEnd,
    events: readonly NewHistoryEvent[],
    now = Date.now(),
  ): Promise<boolean> {
    return this.#db.transaction().execute(async (trx) => {
      const guard = await trx
        .updateTable('workflow_executions')
        .set((eb) => ({
          status: end.status,
          output: end.output ?? null,
          error: end.error ?? null,
          cause: end.cause ?? null,
          stopped_at: now,
          next_run_at: null,
          lease_owner: null,
          lease_until: null,
          last_event_id: eb('last_event_id', '+', events.length),
        }))
        .where('id', '=', executionId)
        .where('status', '=', 'RUNNING')
        .returning(['last_event_id', 'parent_id'])
        .executeTakeFirst();
      if (guard === undefined) return false;
      await insertEvents(trx, executionId, Number(guard.last_event_id) - events.length, events, now);
      await closeOpenWork(trx, executionId, now);
      if (guard.parent_id !== null) await wake(trx, [guard.parent_id], now);
      return true;
    });
  }

  async appendEvents(
    executionId: string,
    expectedLastEventId: number,
    events: readonly NewHistoryEvent[],
    state?: string,
    now = Date.now(),
  ): Promise<boolean> {
    return this.#db.transaction().execute(async (trx) => {
      const r = await trx
        .updateTable('workflow_executions')
        .set({
          last_event_id: expectedLastEventId + events.length,
          ...(state === undefined ? {} : { state }),
        })
        .where('id', '=', executionId)
        .where('status', '=', 'RUNNING')
        .where('last_event_id', '=', expectedLastEventId)
        .executeTakeFirst();
      if (Number(r.numUpdatedRows) !== 1) return false;
      await insertEvents(trx, executionId, expectedLastEventId, events, now);
      return true;
    });
  }

  async overdueExecutions(now: number, limit: number): Promise<ExecutionRecord[]> {
    const rows = await this.#db
      .selectFrom('workflow_executions')
      .selectAll()
      .where('status', '=', 'RUNNING')
      .where('deadline_at', 'is not', null)
      .where('deadline_at', '<=', now)
      .orderBy('deadline_at')
      .limit(limit)
      .execute();
    return rows.map(toExecution);
  }

  override async nextDue(): Promise<number | undefined> {
    const [tasksAndTimers, deadline] = await Promise.all([
      super.nextDue(),
      this.#db
        .selectFrom('workflow_executions')
        .select((eb) => eb.fn.min('deadline_at').as('t'))
        .where('status', '=', 'RUNNING')
        .where('deadline_at', 'is not', null)
        .executeTakeFirst(),
    ]);
    const t = deadline?.t as number | string | null | undefined;
    return earliest(tasksAndTimers, t === null || t === undefined ? undefined : toMs(t));
  }
}
