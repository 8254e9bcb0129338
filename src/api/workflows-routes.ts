// The /v1 routes of workflows (bearer tokens): state machines, their executions, history and
// task tokens, over the durable engine (src/workflow/core); see docs/api.md#workflows.

import { z } from 'zod';
import { NimbusError, errors, type ErrorCode } from '../errors.js';
import { parseWith } from '../functions/function-config-schema.js';
import type { Platform } from '../server/platform.js';
import {
  FINISHED_STATUSES,
  type ExecutionRecord,
  type ExecutionStatus,
  type HistoryEvent,
  type WorkflowRecord,
} from '../store/ports/workflows.js';
import { MAX_WORKFLOW_PAYLOAD } from '../workflow/core/workflow-engine.js';
import { parseJsonBody, type ApiResponse } from './http-io.js';
import type { RouteContext, RouteTable } from './route-context.js';

const json = (status: number, body: unknown): ApiResponse => ({ status, body });

const iso = (ms: number | undefined): string | undefined =>
  ms === undefined ? undefined : new Date(ms).toISOString();

/** Largest request body: a definition (1 MiB as AWS) or a 256 KiB payload with its envelope. */
const BODY_LIMIT = 1024 * 1024 + 4096;

const STATUSES = ['RUNNING', 'SUCCEEDED', 'FAILED', 'TIMED_OUT', 'ABORTED', 'PENDING_REDRIVE'] as const;

const putSchema = z
  .object({
    app: z.string().min(1).max(64),
    // The ASL document as an object, or as its JSON text (as AWS's `definition`).
    definition: z.union([z.string().min(1), z.record(z.string(), z.unknown())]),
    type: z.enum(['STANDARD', 'EXPRESS']).default('STANDARD'),
  })
  .strict();

const startSchema = z
  .object({
    name: z.string().optional(),
    // Any JSON value (default `{}`); `inputText` is the same as JSON text, byte for byte.
    input: z.unknown().optional(),
    inputText: z.string().optional(),
  })
  .strict()
  .refine((b) => b.input === undefined || b.inputText === undefined, 'give input or inputText, not both');

const stopSchema = z
  .object({ error: z.string().max(256).optional(), cause: z.string().max(32768).optional() })
  .strict();

const successSchema = z
  .object({ output: z.unknown().optional(), outputText: z.string().optional() })
  .strict()
  .refine((b) => b.output === undefined || b.outputText === undefined, 'give output or outputText, not both');
const failureSchema = z
  .object({ error: z.string().max(256).optional(), cause: z.string().max(32768).optional() })
  .strict();

/** A page size from `?limit=` (1-1000, default 100). */
function pageSize(query: URLSearchParams): number {
  const raw = query.get('limit');
  if (raw === null) return 100;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1 || n > 1000) {
    throw new NimbusError(
      'InvalidParameterValueException',
      `Invalid limit '${raw}': use a whole number from 1 to 1000.`,
    );
  }
  return n;
}

/** Decode a `nextToken` this module issued (base64url JSON), or answer 400. */
function decodeToken<T>(raw: string | null, check: (v: unknown) => v is T): T | undefined {
  if (raw === null || raw === '') return undefined;
  try {
    const v: unknown = JSON.parse(Buffer.from(raw, 'base64url').toString('utf8'));
    if (check(v)) return v;
  } catch {
    // Falls through to the error below.
  }
  throw new NimbusError(
    'InvalidParameterValueException',
    'Invalid nextToken: pass the nextToken of the previous page unchanged.',
  );
}

const encodeToken = (v: unknown): string => Buffer.from(JSON.stringify(v)).toString('base64url');

const missing = (code: ErrorCode, message: string): NimbusError =>
  // The Step Functions codes, answered as 404 on /v1 like every other missing resource.
  new NimbusError(code, message, { status: 404 });

const noWorkflow = (name: string) =>
  missing(
    'StateMachineDoesNotExist',
    `State Machine Does Not Exist: '${name}'; list workflows with GET /v1/workflows (or \`nimbus workflows ls\`).`,
  );

const noExecution = (workflow: string, name: string) =>
  missing(
    'ExecutionDoesNotExist',
    `Execution Does Not Exist: '${name}' of workflow '${workflow}'; list its executions with GET /v1/workflows/${workflow}/executions.`,
  );

/** Whether the caller may use the workflow; another app's answers exactly as a missing one. */
async function mayUse(ctx: Pick<RouteContext, 'authorize'>, name: string): Promise<boolean> {
  return ctx.authorize({ kind: 'workflow', name }).then(
    () => true,
    (err: unknown) => {
      if ((err as { code?: unknown })?.code === 'AccessDeniedException') return false;
      throw err;
    },
  );
}

/** The workflow `name` if it exists and the caller may use it, else 404. */
async function requireWorkflow(ctx: RouteContext, name: string): Promise<WorkflowRecord> {
  // Both questions are always asked, so the answer takes as long for either case.
  const [allowed, wf] = await Promise.all([
    mayUse(ctx, name),
    ctx.platform.workflows.store.getWorkflow(name),
  ]);
  if (!allowed || wf === undefined) throw noWorkflow(name);
  return wf;
}

/** A top-level execution of a workflow the caller may use, else 404. */
async function requireExecution(ctx: RouteContext, workflow: string, name: string): Promise<ExecutionRecord> {
  const [allowed, e] = await Promise.all([
    mayUse(ctx, workflow),
    ctx.platform.workflows.store.findExecution(workflow, name),
  ]);
  if (!allowed || e === undefined || e.parentId !== undefined) throw noExecution(workflow, name);
  return e;
}

function parsedOrText(text: string | undefined): unknown {
  if (text === undefined) return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

function describeWorkflow(p: Platform, w: WorkflowRecord, withDefinition: boolean): Record<string, unknown> {
  return {
    name: w.name,
    arn: `arn:aws:states:${p.region}:${p.accountId}:stateMachine:${w.name}`,
    app: w.app,
    type: w.type,
    version: w.version,
    createdAt: iso(w.createdAt),
    updatedAt: iso(w.updatedAt),
    ...(withDefinition ? { definition: parsedOrText(w.definition) } : {}),
  };
}

function describeExecution(e: ExecutionRecord, full: boolean): Record<string, unknown> {
  return {
    executionArn: e.id,
    name: e.name,
    workflow: e.workflow,
    workflowVersion: e.workflowVersion,
    status: e.status,
    startDate: iso(e.startedAt),
    ...(e.stoppedAt === undefined ? {} : { stopDate: iso(e.stoppedAt) }),
    ...(full
      ? {
          input: parsedOrText(e.input),
          ...(e.output === undefined ? {} : { output: parsedOrText(e.output) }),
          ...(e.error === undefined ? {} : { error: e.error }),
          ...(e.cause === undefined ? {} : { cause: e.cause }),
        }
      : {}),
  };
}

function describeEvent(h: HistoryEvent): Record<string, unknown> {
  return {
    id: h.id,
    previousEventId: h.previousEventId,
    type: h.type,
    timestamp: iso(h.timestamp),
    details: parsedOrText(h.details) ?? {},
  };
}

/** JSON text of a body's `value` or `text` field (default `{}`), checked against the 256 KiB limit. */
function payloadText(value: unknown, text: string | undefined, what: string): string {
  const out = text ?? JSON.stringify(value === undefined ? {} : value);
  if (Buffer.byteLength(out) > MAX_WORKFLOW_PAYLOAD) {
    throw new NimbusError(
      'InvalidParameterValueException',
      `States.DataLimitExceeded: the ${what} is larger than ${MAX_WORKFLOW_PAYLOAD} bytes; pass a reference (a bucket key) instead.`,
    );
  }
  return out;
}

/** The execution a task token belongs to must be of a workflow the caller may use. */
async function requireTokenAccess(ctx: RouteContext, token: string): Promise<void> {
  const store = ctx.platform.workflows.store;
  const task = await store.getTask(token);
  const execution = task === undefined ? undefined : await store.getExecution(task.executionId);
  const allowed = execution !== undefined && (await mayUse(ctx, execution.workflow));
  if (!allowed) {
    throw missing(
      'TaskDoesNotExist',
      'Task Does Not Exist: no open task has this token; use the token from $$.Task.Token.',
    );
  }
}

/**
 * The functions a definition's Tasks name (Lambda ARNs, names, lambda:invoke `FunctionName`);
 * `dynamic` when one is computed at run time (`FunctionName.$`, JSONata), so unknown here.
 */
function taskFunctions(definition: unknown): { names: Set<string>; dynamic: boolean } {
  const names = new Set<string>();
  let dynamic = false;
  const nameOf = (ref: string) =>
    /^arn:aws:lambda:[^:]*:[^:]*:function:([^:]+)/.exec(ref)?.[1] ?? ref.split(':')[0]!;
  const walk = (v: unknown): void => {
    if (Array.isArray(v)) return v.forEach(walk);
    if (typeof v !== 'object' || v === null) return;
    const o = v as Record<string, unknown>;
    if (o.Type === 'Task' && typeof o.Resource === 'string') {
      const base = o.Resource.replace(/\.(waitForTaskToken|sync(:2)?)$/, '');
      if (base === 'arn:aws:states:::lambda:invoke') {
        const args = (o.Parameters ?? o.Arguments) as Record<string, unknown> | undefined;
        const fn = args?.FunctionName;
        if (typeof fn === 'string' && !fn.includes('{%')) names.add(nameOf(fn));
        else dynamic = true;
      } else if (!base.startsWith('arn:aws:states:')) names.add(nameOf(base));
    }
    Object.values(o).forEach(walk);
  };
  walk(definition);
  return { names, dynamic };
}

/**
 * A workflow's Tasks run with the platform's rights: the caller must be allowed to use every
 * function they name (an app token only its own app's; one it may not use answers as a missing
 * function), and a function name computed at run time needs `function:*`. Whether a function
 * exists is not checked (as AWS: it may be deployed after the workflow).
 */
async function checkTaskFunctions(ctx: RouteContext, definition: string): Promise<void> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(definition);
  } catch {
    return; // The ASL module refuses it with InvalidDefinition.
  }
  const { names, dynamic } = taskFunctions(parsed);
  if (dynamic) await ctx.authorize({ kind: 'function', name: '*' });
  for (const name of names) {
    const allowed = await ctx.authorize({ kind: 'function', name }).then(
      () => true,
      (err: unknown) => {
        if ((err as { code?: unknown })?.code === 'AccessDeniedException') return false;
        throw err;
      },
    );
    if (!allowed) throw errors.functionNotFound(name);
  }
}

/** Rethrow the engine's not-found codes with the /v1 status (404). */
async function on404<T>(run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (err) {
    const code = (err as { code?: unknown })?.code;
    if (
      err instanceof NimbusError &&
      (code === 'StateMachineDoesNotExist' || code === 'ExecutionDoesNotExist' || code === 'TaskDoesNotExist')
    ) {
      throw missing(code, err.message);
    }
    throw err;
  }
}

/** Register the /v1 workflows routes. */
export function workflowsRoutes(routes: RouteTable): void {
  routes.bearer('GET', '/v1/workflows', async ({ platform, query, authorize }) => {
    await authorize({ kind: 'workflow', name: '*' });
    const list = await platform.workflows.store.listWorkflows(query.get('app') ?? undefined);
    return json(200, { workflows: list.map((w) => describeWorkflow(platform, w, false)) });
  });

  routes.bearer('PUT', '/v1/workflows/{name}', async (ctx) => {
    const { platform, params } = ctx;
    const name = params.name!;
    const existing = await platform.workflows.store.getWorkflow(name);
    // Updating needs the workflow; creating a name (or one the caller may not see) needs `workflow:*`.
    const allowed = existing !== undefined && (await mayUse(ctx, name));
    if (!allowed) await ctx.authorize({ kind: 'workflow', name: '*' });
    const body = parseWith(putSchema, parseJsonBody(await ctx.body(BODY_LIMIT)), 'workflow');
    if (body.type === 'EXPRESS') {
      throw new NimbusError(
        'InvalidParameterValueException',
        `Workflow '${name}': EXPRESS workflows are not run by this version yet; use type STANDARD.`,
      );
    }
    const definition =
      typeof body.definition === 'string' ? body.definition : JSON.stringify(body.definition);
    await checkTaskFunctions(ctx, definition);
    const w = await platform.workflows.putWorkflow({
      name,
      app: body.app,
      type: body.type,
      frontEnd: 'asl',
      definition,
    });
    return json(existing === undefined ? 201 : 200, describeWorkflow(platform, w, true));
  });

  routes.bearer('GET', '/v1/workflows/{name}', async (ctx) =>
    json(200, describeWorkflow(ctx.platform, await requireWorkflow(ctx, ctx.params.name!), true)),
  );

  routes.bearer('DELETE', '/v1/workflows/{name}', async (ctx) => {
    const w = await requireWorkflow(ctx, ctx.params.name!);
    await ctx.platform.workflows.store.deleteWorkflow(w.name);
    return { status: 204 };
  });

  routes.bearer('POST', '/v1/workflows/{name}/executions', async (ctx) => {
    const w = await requireWorkflow(ctx, ctx.params.name!);
    const body = parseWith(startSchema, parseJsonBody(await ctx.body(BODY_LIMIT)), 'start request');
    const input = payloadText(body.input, body.inputText, 'execution input');
    const { execution, created } = await on404(() =>
      ctx.platform.workflows.startExecution({ workflow: w.name, name: body.name, input }),
    );
    return json(created ? 201 : 200, describeExecution(execution, false));
  });

  routes.bearer('GET', '/v1/workflows/{name}/executions', async (ctx) => {
    const w = await requireWorkflow(ctx, ctx.params.name!);
    const statusRaw = ctx.query.get('status');
    if (statusRaw !== null && !(STATUSES as readonly string[]).includes(statusRaw)) {
      throw new NimbusError(
        'InvalidParameterValueException',
        `Invalid status '${statusRaw}': use one of ${STATUSES.join(', ')}.`,
      );
    }
    const limit = pageSize(ctx.query);
    const after = decodeToken(
      ctx.query.get('nextToken'),
      (v): v is { startedAt: number; id: string } =>
        typeof v === 'object' &&
        v !== null &&
        typeof (v as { startedAt?: unknown }).startedAt === 'number' &&
        typeof (v as { id?: unknown }).id === 'string',
    );
    // One more than asked tells whether there is a next page.
    const rows = await ctx.platform.workflows.store.listExecutions({
      workflow: w.name,
      status: (statusRaw ?? undefined) as ExecutionStatus | undefined,
      limit: limit + 1,
      after,
    });
    const page = rows.slice(0, limit);
    const last = page.at(-1);
    return json(200, {
      executions: page.map((e) => describeExecution(e, false)),
      ...(rows.length > limit && last
        ? { nextToken: encodeToken({ startedAt: last.startedAt, id: last.id }) }
        : {}),
    });
  });

  routes.bearer('GET', '/v1/workflows/{name}/executions/{execution}', async (ctx) =>
    json(200, describeExecution(await requireExecution(ctx, ctx.params.name!, ctx.params.execution!), true)),
  );

  routes.bearer('POST', '/v1/workflows/{name}/executions/{execution}/stop', async (ctx) => {
    const e = await requireExecution(ctx, ctx.params.name!, ctx.params.execution!);
    const body = parseWith(stopSchema, parseJsonBody(await ctx.body(64 * 1024)), 'stop request');
    if (FINISHED_STATUSES.has(e.status)) return json(200, describeExecution(e, true));
    const stopped = await on404(() => ctx.platform.workflows.stopExecution(e.id, body.error, body.cause));
    return json(200, describeExecution(stopped, true));
  });

  routes.bearer('GET', '/v1/workflows/{name}/executions/{execution}/history', async (ctx) => {
    const e = await requireExecution(ctx, ctx.params.name!, ctx.params.execution!);
    const limit = pageSize(ctx.query);
    const reverseRaw = ctx.query.get('reverse');
    if (reverseRaw !== null && reverseRaw !== 'true' && reverseRaw !== 'false') {
      throw new NimbusError(
        'InvalidParameterValueException',
        `Invalid reverse '${reverseRaw}': use true or false.`,
      );
    }
    const reverse = reverseRaw === 'true';
    const afterId = decodeToken(
      ctx.query.get('nextToken'),
      (v): v is number => Number.isInteger(v) && (v as number) >= 0,
    );
    const rows = await ctx.platform.workflows.store.getHistory(e.id, {
      limit: limit + 1,
      reverse,
      ...(afterId === undefined ? {} : { afterId }),
    });
    const page = rows.slice(0, limit);
    const last = page.at(-1);
    return json(200, {
      events: page.map(describeEvent),
      ...(rows.length > limit && last ? { nextToken: encodeToken(last.id) } : {}),
    });
  });

  // The token is in the path: a route must authorize before it reads the body, and the token
  // says which workflow (and so which app) the call is about.
  routes.bearer('POST', '/v1/workflow-tasks/{token}/success', async (ctx) => {
    const token = ctx.params.token!;
    await requireTokenAccess(ctx, token);
    const body = parseWith(successSchema, parseJsonBody(await ctx.body(BODY_LIMIT)), 'task success');
    const output = payloadText(body.output, body.outputText, 'task output');
    await on404(() => ctx.platform.workflows.sendTaskSuccess(token, output));
    return json(200, {});
  });

  routes.bearer('POST', '/v1/workflow-tasks/{token}/failure', async (ctx) => {
    const token = ctx.params.token!;
    await requireTokenAccess(ctx, token);
    const body = parseWith(failureSchema, parseJsonBody(await ctx.body(64 * 1024)), 'task failure');
    await on404(() => ctx.platform.workflows.sendTaskFailure(token, body.error, body.cause));
    return json(200, {});
  });

  routes.bearer('POST', '/v1/workflow-tasks/{token}/heartbeat', async (ctx) => {
    const token = ctx.params.token!;
    await requireTokenAccess(ctx, token);
    await on404(() => ctx.platform.workflows.sendTaskHeartbeat(token));
    return json(200, {});
  });
}
