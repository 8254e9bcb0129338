// GetExecutionHistory: the stored history events in AWS's shape (ids, previous ids, epoch-second
// timestamps, the type's `*EventDetails` member), with reverse order, paging and
// includeExecutionData.

import type { HistoryEvent } from '../../store/ports/workflows.js';
import { roleArnOf, type SfnAction, type SfnActionContext } from './sfn-action-context.js';
import { existingExecution } from './sfn-execution-actions.js';
import {
  decodeToken,
  encodeToken,
  epochSeconds,
  invalidPageToken,
  optionalBoolean,
  optionalString,
  pageSize,
  stateMachineArn,
} from './sfn-shapes.js';

/** The `*EventDetails` member of each event type that has one (others carry no details). */
const DETAILS_MEMBER: Readonly<Record<string, string>> = {
  ExecutionStarted: 'executionStartedEventDetails',
  ExecutionSucceeded: 'executionSucceededEventDetails',
  ExecutionFailed: 'executionFailedEventDetails',
  ExecutionAborted: 'executionAbortedEventDetails',
  ExecutionTimedOut: 'executionTimedOutEventDetails',
  ExecutionRedriven: 'executionRedrivenEventDetails',
  TaskScheduled: 'taskScheduledEventDetails',
  TaskStarted: 'taskStartedEventDetails',
  TaskStartFailed: 'taskStartFailedEventDetails',
  TaskSubmitted: 'taskSubmittedEventDetails',
  TaskSubmitFailed: 'taskSubmitFailedEventDetails',
  TaskSucceeded: 'taskSucceededEventDetails',
  TaskFailed: 'taskFailedEventDetails',
  TaskTimedOut: 'taskTimedOutEventDetails',
  LambdaFunctionScheduled: 'lambdaFunctionScheduledEventDetails',
  LambdaFunctionScheduleFailed: 'lambdaFunctionScheduleFailedEventDetails',
  LambdaFunctionStartFailed: 'lambdaFunctionStartFailedEventDetails',
  LambdaFunctionSucceeded: 'lambdaFunctionSucceededEventDetails',
  LambdaFunctionFailed: 'lambdaFunctionFailedEventDetails',
  LambdaFunctionTimedOut: 'lambdaFunctionTimedOutEventDetails',
  MapStateStarted: 'mapStateStartedEventDetails',
  MapIterationStarted: 'mapIterationStartedEventDetails',
  MapIterationSucceeded: 'mapIterationSucceededEventDetails',
  MapIterationFailed: 'mapIterationFailedEventDetails',
  MapIterationAborted: 'mapIterationAbortedEventDetails',
};

/** A Task's resource as AWS's events name it. */
type TaskResource =
  | { readonly kind: 'lambda'; readonly arn: string }
  | { readonly kind: 'service'; readonly resourceType: string; readonly resource: string };

/**
 * A Task state's `Resource`: a Lambda function (ARN or Nimbus name), whose events AWS records as
 * `LambdaFunction*`, or a service integration `arn:aws:states:::<type>:<resource>`, recorded
 * as `Task*` with `resourceType`/`resource`.
 */
function taskResource(ctx: SfnActionContext, resource: string): TaskResource {
  const m = /^arn:aws[a-z-]*:states:[^:]*:[^:]*:([^:]+):(.+)$/.exec(resource);
  if (m !== null) return { kind: 'service', resourceType: m[1]!, resource: m[2]! };
  if (resource.startsWith('arn:')) return { kind: 'lambda', arn: resource };
  return { kind: 'lambda', arn: `arn:aws:lambda:${ctx.region}:${ctx.accountId}:function:${resource}` };
}

/** Renames of `Task*` events for a Lambda-function resource. */
const LAMBDA_TYPES: Readonly<Record<string, string>> = {
  TaskScheduled: 'LambdaFunctionScheduled',
  TaskStarted: 'LambdaFunctionStarted',
  TaskSucceeded: 'LambdaFunctionSucceeded',
  TaskFailed: 'LambdaFunctionFailed',
  TaskTimedOut: 'LambdaFunctionTimedOut',
  TaskStartFailed: 'LambdaFunctionStartFailed',
};

/** Maps stored events in id order to AWS's shape (Task events need the resource scheduled before them). */
function awsEvents(
  ctx: SfnActionContext,
  events: readonly HistoryEvent[],
  includeData: boolean,
): Record<string, unknown>[] {
  let resource: TaskResource | undefined;
  return events.map((e) => {
    let details: Record<string, unknown>;
    try {
      details = JSON.parse(e.details) as Record<string, unknown>;
    } catch {
      details = {};
    }
    let type = e.type;
    if (type === 'TaskScheduled' && typeof details['resource'] === 'string') {
      resource = taskResource(ctx, details['resource']);
    }
    if (type.startsWith('Task') && resource !== undefined) {
      const lambdaType = LAMBDA_TYPES[type];
      if (resource.kind === 'lambda' && lambdaType !== undefined) {
        type = lambdaType;
        if (type === 'LambdaFunctionScheduled') {
          details = { resource: resource.arn, input: details['parameters'] };
        } else {
          delete details['resource'];
        }
      } else if (resource.kind === 'service') {
        details = { ...details, resourceType: resource.resourceType, resource: resource.resource };
        if (type === 'TaskScheduled') details['region'] = ctx.region;
      }
    }
    if (type === 'ExecutionStarted') {
      details = { ...details, roleArn: roleArnOf(ctx) };
      if (typeof details['stateMachineArn'] === 'string' && !details['stateMachineArn'].startsWith('arn:')) {
        details['stateMachineArn'] = stateMachineArn(ctx, details['stateMachineArn']);
      }
    }
    for (const field of ['input', 'output'] as const) {
      if (details[field] === undefined) continue;
      if (includeData) details[`${field}Details`] = { truncated: false };
      else delete details[field];
    }
    if (!includeData) delete details['parameters'];
    const member =
      DETAILS_MEMBER[type] ??
      (/StateEntered$/.test(type)
        ? 'stateEnteredEventDetails'
        : /StateExited$/.test(type)
          ? 'stateExitedEventDetails'
          : undefined);
    return {
      timestamp: epochSeconds(e.timestamp),
      type,
      id: e.id,
      previousEventId: e.previousEventId,
      ...(member === undefined ? {} : { [member]: details }),
    };
  });
}

const getExecutionHistory: SfnAction = async (ctx, input) => {
  const execution = await existingExecution(ctx, input);
  const reverse = optionalBoolean(input, 'reverseOrder') ?? false;
  const includeData = optionalBoolean(input, 'includeExecutionData') ?? true;
  const size = pageSize(input);
  const token = optionalString(input, 'nextToken');
  const listing = `history:${execution.id}:${reverse ? 'desc' : 'asc'}`;
  let afterId: number | undefined;
  if (token !== undefined) {
    const c = decodeToken(listing, token);
    if (typeof c !== 'number') throw invalidPageToken();
    afterId = c;
  }
  // The whole history is read (AWS caps it at 25,000 events): a Task event's resource comes from
  // the TaskScheduled before it, which may sit on an earlier page.
  const all = awsEvents(ctx, await ctx.engine.store.getHistory(execution.id), includeData);
  const ordered = reverse ? all.reverse() : all;
  const rest =
    afterId === undefined
      ? ordered
      : ordered.filter((e) => (reverse ? (e['id'] as number) < afterId : (e['id'] as number) > afterId));
  const page = rest.slice(0, size);
  return {
    events: page,
    ...(rest.length > size ? { nextToken: encodeToken(listing, page.at(-1)!['id']) } : {}),
  };
};

/** The history action by name. */
export const HISTORY_ACTIONS: Readonly<Record<string, SfnAction>> = {
  GetExecutionHistory: getExecutionHistory,
};
