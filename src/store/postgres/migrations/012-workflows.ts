// PostgreSQL migration 012: the durable execution core (workflows, executions, history, timers, tasks).

import { sql } from 'kysely';
import type { Kysely, Migration } from 'kysely';

// Statements run in order; see 001-initial.ts for the style (one `sql` template each).
const STATEMENTS: ReadonlyArray<{ execute(db: Kysely<unknown>): Promise<unknown> }> = [
  sql`CREATE TABLE workflows (
    name TEXT PRIMARY KEY,
    app TEXT NOT NULL,
    type TEXT NOT NULL,
    front_end TEXT NOT NULL,
    version INTEGER NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
  )`,
  sql`CREATE INDEX workflows_app ON workflows (app)`,
  // Every version stays readable: an execution runs the definition it started with.
  sql`CREATE TABLE workflow_versions (
    workflow TEXT NOT NULL,
    version INTEGER NOT NULL,
    type TEXT NOT NULL,
    front_end TEXT NOT NULL,
    definition TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (workflow, version)
  )`,
  sql`CREATE TABLE workflow_executions (
    id TEXT PRIMARY KEY,
    workflow TEXT NOT NULL,
    workflow_version INTEGER NOT NULL,
    front_end TEXT NOT NULL,
    name TEXT NOT NULL,
    input TEXT NOT NULL,
    status TEXT NOT NULL,
    output TEXT,
    error TEXT,
    cause TEXT,
    state TEXT NOT NULL,
    started_at BIGINT NOT NULL,
    stopped_at BIGINT,
    deadline_at BIGINT,
    next_run_at BIGINT,
    lease_owner TEXT,
    lease_until BIGINT,
    last_event_id INTEGER NOT NULL,
    parent_id TEXT,
    parent_ref TEXT,
    parent_consumed INTEGER NOT NULL DEFAULT 0,
    redrive_count INTEGER NOT NULL DEFAULT 0,
    UNIQUE (workflow, name)
  )`,
  // The claim's one hot query: runnable executions by time.
  sql`CREATE INDEX workflow_executions_runnable ON workflow_executions (next_run_at) WHERE next_run_at IS NOT NULL`,
  sql`CREATE INDEX workflow_executions_deadline ON workflow_executions (deadline_at) WHERE status = 'RUNNING' AND deadline_at IS NOT NULL`,
  sql`CREATE INDEX workflow_executions_list ON workflow_executions (workflow, started_at)`,
  sql`CREATE INDEX workflow_executions_parent ON workflow_executions (parent_id) WHERE parent_id IS NOT NULL`,
  sql`CREATE TABLE workflow_history (
    execution_id TEXT NOT NULL,
    id INTEGER NOT NULL,
    previous_id INTEGER NOT NULL,
    type TEXT NOT NULL,
    timestamp BIGINT NOT NULL,
    details TEXT NOT NULL,
    PRIMARY KEY (execution_id, id)
  )`,
  sql`CREATE TABLE workflow_timers (
    id TEXT PRIMARY KEY,
    execution_id TEXT NOT NULL,
    ref TEXT NOT NULL,
    due_at BIGINT NOT NULL,
    payload TEXT,
    fired_at BIGINT,
    consumed INTEGER NOT NULL DEFAULT 0
  )`,
  sql`CREATE INDEX workflow_timers_due ON workflow_timers (due_at) WHERE fired_at IS NULL`,
  sql`CREATE INDEX workflow_timers_execution ON workflow_timers (execution_id)`,
  sql`CREATE TABLE workflow_tasks (
    token TEXT PRIMARY KEY,
    execution_id TEXT NOT NULL,
    ref TEXT NOT NULL,
    state_name TEXT,
    status TEXT NOT NULL,
    invoke TEXT,
    callback INTEGER NOT NULL,
    result TEXT,
    error TEXT,
    cause TEXT,
    timeout_at BIGINT,
    heartbeat_seconds INTEGER,
    heartbeat_at BIGINT,
    expires_at BIGINT,
    lease_owner TEXT,
    lease_until BIGINT,
    attempts INTEGER NOT NULL DEFAULT 0,
    consumed INTEGER NOT NULL DEFAULT 0,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
  )`,
  sql`CREATE INDEX workflow_tasks_execution ON workflow_tasks (execution_id)`,
  // Invocations to (re)claim, and open tasks by their earliest deadline.
  sql`CREATE INDEX workflow_tasks_invocable ON workflow_tasks (lease_until) WHERE status = 'PENDING' AND invoke IS NOT NULL`,
  sql`CREATE INDEX workflow_tasks_expiry ON workflow_tasks (expires_at) WHERE expires_at IS NOT NULL`,
];

/** Creates the durable execution core's tables. */
export const migration012Workflows: Migration = {
  async up(db: Kysely<unknown>): Promise<void> {
    for (const statement of STATEMENTS) await statement.execute(db);
  },
};
