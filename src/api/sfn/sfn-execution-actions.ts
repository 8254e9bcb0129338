// Step Functions execution actions: Start(Sync)Execution, DescribeExecution, ListExecutions,
// StopExecution, DescribeStateMachineForExecution and the task token callbacks.

import { setTimeout as sleep } from 'node:timers/promises';
import { isNimbusError } from '../../errors.js';
import type { ExecutionRecord, ExecutionStatus } from '../../store/ports/workflows.js';
import { FINISHED_STATUSES } from '../../store/ports/workflows.js';
import { roleArnOf, type SfnAction, type SfnActionContext } from './sfn-action-context.js';
import { SfnError } from './sfn-errors.js';
import { existingMachine } from './sfn-machine-actions.js';
import {
  decodeToken,
  encodeToken,
  epochSeconds,
  executionDoesNotExist,
  executionIdOf,
  invalidPageToken,
  optionalString,
  pageSize,
  requiredString,
  stateMachineArn,
  type SfnInput,
} from './sfn-shapes.js';

const STATUSES: ReadonlySet<string> = new Set<ExecutionStatus>([
  'RUNNING',
  'SUCCEEDED',
  'FAILED',
  'TIMED_OUT',
  'ABORTED',
  'PENDING_REDRIVE',
]);

/** Longest StartSyncExecution wait: an Express execution's 5-minute limit. */
const SYNC_LIMIT_MS = 5 * 60_000;

/** The top-level execution of an `executionArn` member, or `ExecutionDoesNotExist`. */
export async function existingExecution(ctx: SfnActionContext, input: SfnInput): Promise<ExecutionRecord> {
  const arn = requiredString(input, 'executionArn');
  const e = await ctx.engine.store.getExecution(executionIdOf(ctx, arn));
  // Child executions (Map iterations, Parallel branches) are not executions on AWS.
  if (e === undefined || e.parentId !== undefined) throw executionDoesNotExist(arn);
  return e;
}

/** Rethrows the engine's complaint about a payload as the action's own error type. */
function payloadError(err: unknown, type: 'InvalidExecutionInput' | 'InvalidOutput'): unknown {
  if (isNimbusError(err) && err.code === 'InvalidParameterValueException') {
    return new SfnError(type, err.message, { cause: err });
  }
  return err;
}

/** DescribeExecution's answer. */
function describe(ctx: SfnActionContext, e: ExecutionRecord): Record<string, unknown> {
  return {
    executionArn: e.id,
    stateMachineArn: stateMachineArn(ctx, e.workflow),
    name: e.name,
    status: e.status,
    startDate: epochSeconds(e.startedAt),
    ...(e.stoppedAt === undefined ? {} : { stopDate: epochSeconds(e.stoppedAt) }),
    input: e.input,
    inputDetails: { included: true },
    ...(e.output === undefined ? {} : { output: e.output, outputDetails: { included: true } }),
    ...(e.error === undefined ? {} : { error: e.error }),
    ...(e.cause === undefined ? {} : { cause: e.cause }),
    redriveCount: e.redriveCount,
    redriveStatus: 'NOT_REDRIVABLE',
    redriveStatusReason: 'Nimbus does not redrive executions yet.',
  };
}

/** Starts an execution of the `stateMachineArn` machine. */
async function start(ctx: SfnActionContext, input: SfnInput): Promise<ExecutionRecord> {
  const machine = await existingMachine(ctx, input);
  const name = optionalString(input, 'name');
  const text = optionalString(input, 'input');
  try {
    const { execution } = await ctx.engine.startExecution({ workflow: machine.name, name, input: text });
    return execution;
  } catch (err) {
    throw payloadError(err, 'InvalidExecutionInput');
  }
}

const startExecution: SfnAction = async (ctx, input) => {
  const e = await start(ctx, input);
  return { executionArn: e.id, startDate: epochSeconds(e.startedAt) };
};

/**
 * StartSyncExecution: an EXPRESS machine's execution, answered when it ends. Nimbus runs it on
 * the durable core (so its history is kept) and waits for it here.
 */
const startSyncExecution: SfnAction = async (ctx, input) => {
  const machine = await existingMachine(ctx, input);
  if (machine.type !== 'EXPRESS') {
    throw new SfnError(
      'StateMachineTypeNotSupported',
      `StartSyncExecution runs EXPRESS state machines only; '${machine.name}' is ${machine.type}. Use StartExecution, or create the machine with type EXPRESS.`,
    );
  }
  let e = await start(ctx, input);
  const until = Date.now() + SYNC_LIMIT_MS;
  let pause = 2;
  while (!FINISHED_STATUSES.has(e.status)) {
    if (Date.now() > until) {
      e = await ctx.engine.stopExecution(
        e.id,
        'States.Timeout',
        'An Express execution runs at most 5 minutes.',
      );
      break;
    }
    // Ends with the client's request (AbortError), whose answer is then never sent.
    await sleep(pause, undefined, { signal: ctx.signal });
    pause = Math.min(pause * 2, 50);
    e = await ctx.engine.describeExecution(e.id);
  }
  const stopped = e.stoppedAt ?? Date.now();
  return {
    ...describe(ctx, e),
    status: e.status === 'ABORTED' ? 'FAILED' : e.status,
    billingDetails: {
      billedMemoryUsedInMB: 64,
      billedDurationInMilliseconds: Math.max(100, Math.ceil((stopped - e.startedAt) / 100) * 100),
    },
    redriveCount: undefined,
    redriveStatus: undefined,
    redriveStatusReason: undefined,
  };
};

const describeExecution: SfnAction = async (ctx, input) => describe(ctx, await existingExecution(ctx, input));

const listExecutions: SfnAction = async (ctx, input) => {
  if (input['mapRunArn'] !== undefined) {
    throw new SfnError(
      'ValidationException',
      'Nimbus has no Map Runs (distributed Map); list executions by stateMachineArn.',
    );
  }
  const machine = await existingMachine(ctx, input);
  const status = optionalString(input, 'statusFilter');
  if (status !== undefined && !STATUSES.has(status)) {
    throw new SfnError(
      'ValidationException',
      `1 validation error detected: Value '${status}' at 'statusFilter' failed to satisfy constraint: Member must satisfy enum value set: [${[...STATUSES].join(', ')}].`,
    );
  }
  const size = pageSize(input);
  const token = optionalString(input, 'nextToken');
  let after: { startedAt: number; id: string } | undefined;
  if (token !== undefined) {
    const c = decodeToken(`executions:${machine.name}:${status ?? ''}`, token) as {
      s?: unknown;
      i?: unknown;
    };
    if (typeof c?.s !== 'number' || typeof c.i !== 'string') throw invalidPageToken();
    after = { startedAt: c.s, id: c.i };
  }
  const rows = await ctx.engine.store.listExecutions({
    workflow: machine.name,
    status: status as ExecutionStatus | undefined,
    limit: size + 1,
    after,
  });
  const page = rows.slice(0, size);
  const last = page.at(-1);
  return {
    executions: page.map((e) => ({
      executionArn: e.id,
      stateMachineArn: stateMachineArn(ctx, e.workflow),
      name: e.name,
      status: e.status,
      startDate: epochSeconds(e.startedAt),
      ...(e.stoppedAt === undefined ? {} : { stopDate: epochSeconds(e.stoppedAt) }),
      redriveCount: e.redriveCount,
    })),
    ...(rows.length > size && last !== undefined
      ? {
          nextToken: encodeToken(`executions:${machine.name}:${status ?? ''}`, {
            s: last.startedAt,
            i: last.id,
          }),
        }
      : {}),
  };
};

/** A string member no longer than `max` characters (AWS's limits on error and cause). */
function bounded(input: SfnInput, member: string, max: number): string | undefined {
  const v = optionalString(input, member);
  if (v !== undefined && v.length > max) {
    throw new SfnError(
      'ValidationException',
      `1 validation error detected: Value at '${member}' failed to satisfy constraint: Member must have length less than or equal to ${max}.`,
    );
  }
  return v;
}

const stopExecution: SfnAction = async (ctx, input) => {
  const e = await existingExecution(ctx, input);
  const stopped = await ctx.engine.stopExecution(
    e.id,
    bounded(input, 'error', 256),
    bounded(input, 'cause', 32_768),
  );
  return { stopDate: epochSeconds(stopped.stoppedAt ?? Date.now()) };
};

const describeStateMachineForExecution: SfnAction = async (ctx, input) => {
  const e = await existingExecution(ctx, input);
  const w = await ctx.engine.store.getWorkflowVersion(e.workflow, e.workflowVersion);
  if (w === undefined) {
    throw new SfnError(
      'StateMachineDoesNotExist',
      `State Machine Does Not Exist: the version of '${e.workflow}' that ran '${e.id}' is gone.`,
    );
  }
  return {
    stateMachineArn: stateMachineArn(ctx, w.name),
    name: w.name,
    definition: w.definition,
    roleArn: roleArnOf(ctx),
    updateDate: epochSeconds(w.updatedAt),
    loggingConfiguration: { level: 'OFF', includeExecutionData: false },
    tracingConfiguration: { enabled: false },
    revisionId: String(w.version),
  };
};

/** The `taskToken` member, or `InvalidToken` (AWS's length limits: 1-2048). */
function taskToken(input: SfnInput): string {
  const t = input['taskToken'];
  if (typeof t !== 'string' || t.length === 0 || t.length > 2048) {
    throw new SfnError(
      'InvalidToken',
      'Invalid Token: taskToken must be the 1-2048 character token the state received in $$.Task.Token.',
    );
  }
  return t;
}

const sendTaskSuccess: SfnAction = async (ctx, input) => {
  const token = taskToken(input);
  const output = input['output'];
  if (typeof output !== 'string') {
    throw new SfnError('InvalidOutput', 'Invalid Output: output must be a JSON text (a string).');
  }
  try {
    await ctx.engine.sendTaskSuccess(token, output);
  } catch (err) {
    throw payloadError(err, 'InvalidOutput');
  }
  return {};
};

const sendTaskFailure: SfnAction = async (ctx, input) => {
  const token = taskToken(input);
  await ctx.engine.sendTaskFailure(token, bounded(input, 'error', 256), bounded(input, 'cause', 32_768));
  return {};
};

const sendTaskHeartbeat: SfnAction = async (ctx, input) => {
  await ctx.engine.sendTaskHeartbeat(taskToken(input));
  return {};
};

/** The execution and task token actions by name. */
export const EXECUTION_ACTIONS: Readonly<Record<string, SfnAction>> = {
  StartExecution: startExecution,
  StartSyncExecution: startSyncExecution,
  DescribeExecution: describeExecution,
  ListExecutions: listExecutions,
  StopExecution: stopExecution,
  DescribeStateMachineForExecution: describeStateMachineForExecution,
  SendTaskSuccess: sendTaskSuccess,
  SendTaskFailure: sendTaskFailure,
  SendTaskHeartbeat: sendTaskHeartbeat,
};
