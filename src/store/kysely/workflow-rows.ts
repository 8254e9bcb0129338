// Row conversions and shared statements of the workflow store (kysely/workflow-store.ts).

import { sql, type Kysely, type Selectable } from 'kysely';
import type {
  ExecutionRecord,
  ExecutionStatus,
  HistoryEvent,
  NewHistoryEvent,
  TaskRecord,
  TaskStatus,
  WorkflowRecord,
  WorkflowType,
} from '../ports/workflows.js';
import type { Database } from './database.js';
import { toMs, toMsOrUndefined } from './database.js';
import type {
  WorkflowExecutionsTable,
  WorkflowHistoryTable,
  WorkflowTasksTable,
  WorkflowVersionsTable,
  WorkflowsTable,
} from './schema/workflows.js';

/** Task statuses that can still change. */
export const OPEN_TASK: readonly TaskStatus[] = ['PENDING', 'STARTED'];
/** Execution statuses a parent may consume. */
export const ENDED: readonly ExecutionStatus[] = ['SUCCEEDED', 'FAILED', 'TIMED_OUT', 'ABORTED'];

const opt = (v: string | null): string | undefined => v ?? undefined;

export function toWorkflow(
  row: Selectable<WorkflowsTable>,
  version: Selectable<WorkflowVersionsTable>,
): WorkflowRecord {
  return {
    name: row.name,
    app: row.app,
    type: version.type as WorkflowType,
    frontEnd: version.front_end,
    definition: version.definition,
    version: version.version,
    createdAt: toMs(row.created_at),
    updatedAt: toMs(row.updated_at),
  };
}

export function toExecution(row: Selectable<WorkflowExecutionsTable>): ExecutionRecord {
  return {
    id: row.id,
    workflow: row.workflow,
    workflowVersion: Number(row.workflow_version),
    frontEnd: row.front_end,
    name: row.name,
    input: row.input,
    status: row.status as ExecutionStatus,
    output: opt(row.output),
    error: opt(row.error),
    cause: opt(row.cause),
    state: row.state,
    startedAt: toMs(row.started_at),
    stoppedAt: toMsOrUndefined(row.stopped_at),
    deadlineAt: toMsOrUndefined(row.deadline_at),
    nextRunAt: toMsOrUndefined(row.next_run_at),
    leaseOwner: opt(row.lease_owner),
    leaseUntil: toMsOrUndefined(row.lease_until),
    lastEventId: Number(row.last_event_id),
    parentId: opt(row.parent_id),
    parentRef: opt(row.parent_ref),
    redriveCount: Number(row.redrive_count),
  };
}

export function toEvent(row: Selectable<WorkflowHistoryTable>): HistoryEvent {
  return {
    id: Number(row.id),
    previousEventId: Number(row.previous_id),
    type: row.type,
    timestamp: toMs(row.timestamp),
    details: row.details,
  };
}

export function toTask(row: Selectable<WorkflowTasksTable>): TaskRecord {
  return {
    token: row.token,
    executionId: row.execution_id,
    ref: row.ref,
    stateName: opt(row.state_name),
    status: row.status as TaskStatus,
    invoke: row.invoke === null ? undefined : (JSON.parse(row.invoke) as TaskRecord['invoke']),
    callback: Number(row.callback) === 1,
    result: opt(row.result),
    error: opt(row.error),
    cause: opt(row.cause),
    timeoutAt: toMsOrUndefined(row.timeout_at),
    heartbeatSeconds: row.heartbeat_seconds === null ? undefined : Number(row.heartbeat_seconds),
    heartbeatAt: toMsOrUndefined(row.heartbeat_at),
    leaseOwner: opt(row.lease_owner),
    leaseUntil: toMsOrUndefined(row.lease_until),
    attempts: Number(row.attempts),
    createdAt: toMs(row.created_at),
    updatedAt: toMs(row.updated_at),
  };
}

/** The earliest of two optional times. */
export function earliest(a: number | undefined, b: number | undefined): number | undefined {
  if (a === undefined) return b;
  if (b === undefined) return a;
  return Math.min(a, b);
}

/**
 * Inserts `events` as ids `lastId + 1 ...` of an execution (the caller has already moved the
 * execution's `last_event_id` past them, under its row lock).
 */
export async function insertEvents(
  db: Kysely<Database>,
  executionId: string,
  lastId: number,
  events: readonly NewHistoryEvent[],
  now: number,
): Promise<void> {
  if (events.length === 0) return;
  await db
    .insertInto('workflow_history')
    .values(
      events.map((e, i) => {
        const id = lastId + i + 1;
        const prev = e.previousEventId ?? -1;
        return {
          execution_id: executionId,
          id,
          previous_id: prev < 0 ? Math.max(0, id + prev) : prev,
          type: e.type,
          timestamp: e.timestamp ?? now,
          details: e.details ?? '{}',
        };
      }),
    )
    .execute();
}

/**
 * Closes what an ended execution left open: open tasks cancelled, unfired timers deleted, RUNNING
 * descendants aborted (with theirs), all in the caller's transaction.
 */
export async function closeOpenWork(db: Kysely<Database>, executionId: string, now: number): Promise<void> {
  let ids = [executionId];
  while (ids.length > 0) {
    await db
      .updateTable('workflow_tasks')
      .set({ status: 'CANCELLED', expires_at: null, lease_owner: null, lease_until: null, updated_at: now })
      .where('execution_id', 'in', ids)
      .where('status', 'in', [...OPEN_TASK])
      .execute();
    await db
      .deleteFrom('workflow_timers')
      .where('execution_id', 'in', ids)
      .where('fired_at', 'is', null)
      .execute();
    const children = await db
      .updateTable('workflow_executions')
      .set({
        status: 'ABORTED',
        stopped_at: now,
        next_run_at: null,
        lease_owner: null,
        lease_until: null,
        // The parent is ending too: nothing will consume these.
        parent_consumed: 1,
      })
      .where('parent_id', 'in', ids)
      .where('status', '=', 'RUNNING')
      .returning('id')
      .execute();
    ids = children.map((c) => c.id);
  }
}

/** Makes RUNNING executions runnable now (a completion arrived for them). */
export async function wake(db: Kysely<Database>, ids: readonly string[], now: number): Promise<void> {
  const unique = [...new Set(ids)];
  if (unique.length === 0) return;
  // Every RUNNING row is written, even one already due: on PostgreSQL an UPDATE whose WHERE
  // skips a row (next_run_at <= now while a node decides its step) does not wait for that step's
  // commit, which then set next_run_at to null after its own pending check ran: a lost wakeup
  // (parents waited forever for a finished child in the workflow crash test). Matching the row
  // makes this wait for the step's commit and apply the minimum to what it wrote.
  await db
    .updateTable('workflow_executions')
    .set({
      next_run_at: sql<number>`CASE WHEN next_run_at IS NULL OR next_run_at > ${now} THEN ${now} ELSE next_run_at END`,
    })
    .where('id', 'in', unique)
    .where('status', '=', 'RUNNING')
    .execute();
}
