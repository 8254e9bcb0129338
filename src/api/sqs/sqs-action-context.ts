// What every SQS action handler gets: the queue operations, how to build queue URLs and ARNs,
// and the request's abort signal.

import type { QueueInfo, QueueOperations } from '../../services/queues/queue-types.js';
import { SqsError } from './sqs-errors.js';
import { queueNameOf, queueUrl, requiredString, type SqsInput } from './sqs-shapes.js';

/** The environment of one SQS request. */
export interface SqsActionContext {
  readonly ops: QueueOperations;
  /** `http://<Host header>`: queue URLs point back at the endpoint the client used. */
  readonly origin: string;
  readonly region: string;
  readonly accountId: string;
  /** Who signed the request (the access key id). */
  readonly principal: string;
  /** Aborted when the client disconnects (ends a long poll). */
  readonly signal: AbortSignal;
  /** The request's `X-Amzn-Trace-Id` (sent by the AWS SDK inside a function): a send's AWSTraceHeader. */
  readonly traceHeader?: string | undefined;
}

/** One SQS action: a JSON input in, a JSON output out; failures throw. */
export type SqsAction = (ctx: SqsActionContext, input: SqsInput) => Promise<Record<string, unknown>>;

/** The URL of queue `name` as this client addresses the endpoint. */
export function urlOf(ctx: SqsActionContext, name: string): string {
  return queueUrl(ctx.origin, ctx.accountId, name);
}

/** The queue name of the request's `QueueUrl`. */
export function queueNameFrom(input: SqsInput): string {
  return queueNameOf(requiredString(input, 'QueueUrl'));
}

/** The queue, or `QueueDoesNotExist`. */
export async function existingQueue(ctx: SqsActionContext, name: string): Promise<QueueInfo> {
  const info = await ctx.ops.getQueue(name);
  if (info === undefined) throw queueDoesNotExist(name);
  return info;
}

/** SQS's error for an unknown queue, naming the fix. */
export function queueDoesNotExist(name: string): SqsError {
  return new SqsError(
    'QueueDoesNotExist',
    `The specified queue '${name}' does not exist. Create it with CreateQueue, \`nimbus queues create ${name}\`, or under resources.queues in nimbus.yml.`,
  );
}
