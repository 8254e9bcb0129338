// Kysely table types of the durable execution core (migration 012 of both backends).

import type { ColumnType } from 'kysely';
import type { EpochMs } from '../database.js';

/** An INTEGER flag (0/1) with a default of 0. */
type Flag = ColumnType<number, number | undefined, number>;

/** A workflow's current version (the definitions live in `workflow_versions`). */
export interface WorkflowsTable {
  name: string;
  app: string;
  /** STANDARD or EXPRESS. */
  type: string;
  front_end: string;
  version: number;
  created_at: EpochMs;
  updated_at: EpochMs;
}

/** Every version of every workflow. */
export interface WorkflowVersionsTable {
  workflow: string;
  version: number;
  type: string;
  front_end: string;
  definition: string;
  created_at: EpochMs;
}

/**
 * One execution. `next_run_at` non-null means runnable from then (a claim leases it through
 * `lease_owner`/`lease_until`); `parent_consumed` is 1 once the parent took a finished child's result.
 */
export interface WorkflowExecutionsTable {
  id: string;
  workflow: string;
  workflow_version: number;
  front_end: string;
  name: string;
  input: string;
  status: string;
  output: string | null;
  error: string | null;
  cause: string | null;
  /** The front end's state as JSON text. */
  state: string;
  started_at: EpochMs;
  stopped_at: EpochMs | null;
  deadline_at: EpochMs | null;
  next_run_at: EpochMs | null;
  lease_owner: string | null;
  lease_until: EpochMs | null;
  last_event_id: number;
  parent_id: string | null;
  parent_ref: string | null;
  parent_consumed: Flag;
  redrive_count: ColumnType<number, number | undefined, number>;
}

/** The append-only history: ids 1, 2, ... per execution. */
export interface WorkflowHistoryTable {
  execution_id: string;
  id: number;
  previous_id: number;
  type: string;
  timestamp: EpochMs;
  /** The `*EventDetails` object as JSON text. */
  details: string;
}

/** Durable timers: `fired_at` is set exactly once, `consumed` once the front end took it. */
export interface WorkflowTimersTable {
  id: string;
  execution_id: string;
  ref: string;
  due_at: EpochMs;
  payload: string | null;
  fired_at: EpochMs | null;
  consumed: Flag;
}

/**
 * Tasks and their tokens. `invoke` (JSON) is what the engine runs; `callback` 1 waits for
 * SendTask* after it; `expires_at` is the earliest of `timeout_at` and `heartbeat_at` while open.
 */
export interface WorkflowTasksTable {
  token: string;
  execution_id: string;
  ref: string;
  state_name: string | null;
  status: string;
  invoke: string | null;
  callback: number;
  result: string | null;
  error: string | null;
  cause: string | null;
  timeout_at: EpochMs | null;
  heartbeat_seconds: number | null;
  heartbeat_at: EpochMs | null;
  expires_at: EpochMs | null;
  lease_owner: string | null;
  lease_until: EpochMs | null;
  attempts: ColumnType<number, number | undefined, number>;
  consumed: Flag;
  created_at: EpochMs;
  updated_at: EpochMs;
}

/** The tables of the durable execution core, merged into {@link Database}. */
export interface WorkflowTables {
  workflows: WorkflowsTable;
  workflow_versions: WorkflowVersionsTable;
  workflow_executions: WorkflowExecutionsTable;
  workflow_history: WorkflowHistoryTable;
  workflow_timers: WorkflowTimersTable;
  workflow_tasks: WorkflowTasksTable;
}
