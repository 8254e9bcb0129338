// The table types both backends share: the one description of the schema Kysely queries against.

import type { ColumnType, Generated } from 'kysely';
import type { AppTokenTables } from './schema/app-tokens.js';
import type { DocumentTables } from './schema/documents.js';
import type { ObjectTables } from './schema/objects.js';
import type { QueueTables } from './schema/queues.js';
import type { ScheduleTables } from './schema/schedules.js';
import type { TopicTables } from './schema/topics.js';
import type { WorkflowTables } from './schema/workflows.js';

/**
 * An epoch-ms column. SQLite returns a number; PostgreSQL stores `bigint`, which `pg` returns as
 * a string, so readers always pass it through `Number()` (see `toMs`).
 */
export type EpochMs = ColumnType<number | string, number, number>;

/** A bytes column: `blob` on SQLite, `bytea` on PostgreSQL; both drivers return a Buffer. */
export type Bytes = Buffer;

/** One function: its Lambda full name and which app owns it. */
export interface FunctionsTable {
  full_name: string;
  app: string;
  name: string;
  created_at: string;
}

/** One version of a function; `seq` 0 is `$LATEST`, published versions are 1, 2, ... */
export interface FunctionVersionsTable {
  function_name: string;
  seq: number;
  code_sha256: string;
  code_size: number;
  /** FunctionConfig as canonical JSON (sorted keys), so equal configs compare equal as text. */
  config: string;
  /** Description given at publish time; overrides `config.description` when read. */
  description: string | null;
  created_at: string;
}

/** Aliases; `additional_*` hold the optional canary version and its weight. */
export interface AliasesTable {
  function_name: string;
  name: string;
  version: string;
  additional_version: string | null;
  additional_weight: number | null;
  description: string;
  updated_at: string;
}

/** Content-addressed code bundles. */
export interface CodeBlobsTable {
  sha256: string;
  bytes: Bytes;
  size: number;
  created_at: string;
}

/** The async invocation queue. */
export interface InvocationsTable {
  id: string;
  function_name: string;
  qualifier: string;
  payload: Bytes;
  status: string;
  attempts: number;
  created_at: EpochMs;
  available_at: EpochMs;
  /** Epoch ms when the running claim expires; null unless running. */
  lease_until: EpochMs | null;
  result: Bytes | null;
  error: string | null;
  finished_at: EpochMs | null;
  /** Destination delivery: null (none), 'pending', 'delivered' or 'failed' (migration 004). */
  delivery: ColumnType<string | null, string | null | undefined, string | null>;
  delivery_attempts: ColumnType<number, number | undefined, number>;
  delivery_error: ColumnType<string | null, string | null | undefined, string | null>;
  /** Lambda's record condition: Success, RetriesExhausted, EventAgeExceeded, ... */
  outcome_condition: ColumnType<string | null, string | null | undefined, string | null>;
  executed_version: ColumnType<string | null, string | null | undefined, string | null>;
  idempotency_key: ColumnType<string | null, string | null | undefined, string | null>;
  /** Node id of the last claimer (migration 004). */
  claimed_by: ColumnType<string | null, string | null | undefined, string | null>;
  /** Epoch ms of the first claim. */
  started_at: ColumnType<number | string | null, number | null | undefined, number | null>;
  /** X-Ray header of the enqueuing request, with its recursion Lineage (migration 013). */
  trace_header: ColumnType<string | null, string | null | undefined, string | null>;
}

/** Idempotency keys of async enqueues: (function, key) → the first invocation (migration 004). */
export interface InvocationIdempotencyTable {
  function_name: string;
  idempotency_key: string;
  invocation_id: string;
  created_at: EpochMs;
}

/** Function log lines; `id` is the cursor. */
export interface LogLinesTable {
  id: Generated<number | string>;
  function_name: string;
  version: string;
  request_id: string;
  timestamp: EpochMs;
  stream: string;
  message: string;
}

/** Issued access keys. */
export interface AccessKeysTable {
  access_key_id: string;
  secret_hash: string;
  secret_encrypted: string;
  name: string;
  created_at: string;
}

/** Issued bearer tokens (hash only). */
export interface TokensTable {
  token_hash: string;
  name: string;
  /** JSON array of scopes. */
  scopes: string;
  created_at: string;
}

/** Node-level key/value settings. */
export interface SettingsTable {
  key: string;
  value: string;
}

/** HTTP routes; `route_key` (method + full path, variable names erased) is unique across apps. */
export interface RoutesTable {
  route_key: string;
  app: string;
  /** Lambda full name of the target function. */
  function_name: string;
  method: string;
  /** Path relative to the app's base path, or `$default`. */
  path: string;
  payload: string;
  /** Order as declared, for stable listings. */
  position: number;
  /** RouteAuth as JSON, or null for an open route. */
  auth: ColumnType<string | null, string | null | undefined, string | null>;
}

/** Per-app gateway settings. */
export interface AppGatewaysTable {
  app: string;
  base_path: string;
  /** CorsConfig as JSON, or null for no CORS. */
  cors: string | null;
  updated_at: string;
  /** `{ authorizers, usagePlans }` as JSON, or null. */
  auth: ColumnType<string | null, string | null | undefined, string | null>;
}

/** Issued gateway API keys (sha256 only). */
export interface ApiKeysTable {
  id: string;
  name: string;
  key_hash: string;
  key_prefix: string;
  app: string;
  plan: string;
  created_at: string;
  revoked_at: string | null;
}

/** Requests per API key per quota period. */
export interface ApiKeyUsageTable {
  key_id: string;
  period: string;
  /** bigint on PostgreSQL (a string from `pg`); read through Number(). */
  count: ColumnType<number | string, number, number>;
}

/** Every table of the store, as Kysely sees it (the event resources' tables live in schema/). */
export interface Database
  extends
    QueueTables,
    TopicTables,
    ObjectTables,
    DocumentTables,
    ScheduleTables,
    AppTokenTables,
    WorkflowTables {
  functions: FunctionsTable;
  function_versions: FunctionVersionsTable;
  aliases: AliasesTable;
  code_blobs: CodeBlobsTable;
  invocations: InvocationsTable;
  invocation_idempotency: InvocationIdempotencyTable;
  log_lines: LogLinesTable;
  access_keys: AccessKeysTable;
  tokens: TokensTable;
  settings: SettingsTable;
  routes: RoutesTable;
  app_gateways: AppGatewaysTable;
  api_keys: ApiKeysTable;
  api_key_usage: ApiKeyUsageTable;
}

/** Reads an epoch-ms column (number on SQLite, bigint-as-string on PostgreSQL) as a number. */
export function toMs(value: number | string): number {
  return typeof value === 'number' ? value : Number(value);
}

/** Like {@link toMs} for nullable columns. */
export function toMsOrUndefined(value: number | string | null): number | undefined {
  return value === null ? undefined : toMs(value);
}
