// Destinations of async invocations: Lambda's invocation record, the dead-letter message, and
// their routing to queues, topics and functions through a small transport interface.

import type { DestinationTarget, FunctionConfig } from '../functions/function-model.js';
import type { AsyncInvocation, InvocationCondition } from '../store/store.js';

/** A message attribute in the SQS/SNS shape. */
export interface DestinationAttribute {
  readonly DataType: string;
  readonly StringValue: string;
}

/**
 * How records leave: one method per target type. The server binds the real queue and topic
 * services and `enqueueAsync`; tests may bind their own.
 */
export interface DestinationTransports {
  sendToQueue(queue: string, body: string, attributes?: Record<string, DestinationAttribute>): Promise<void>;
  publishToTopic(
    topic: string,
    message: string,
    attributes?: Record<string, DestinationAttribute>,
  ): Promise<void>;
  /**
   * Enqueue an async invocation of `functionName` (full name). `idempotencyKey` is stable per
   * source invocation, so a redelivery after a crash does not invoke the destination twice.
   */
  invokeFunction(functionName: string, payload: Buffer, idempotencyKey: string): Promise<void>;
}

/** Lambda's destination record (`version` 1.0), as sent to onSuccess/onFailure targets. */
export interface InvocationRecord {
  readonly version: '1.0';
  readonly timestamp: string;
  readonly requestContext: {
    readonly requestId: string;
    readonly functionArn: string;
    readonly condition: InvocationCondition;
    readonly approximateInvokeCount: number;
  };
  readonly requestPayload: unknown;
  readonly responseContext?: {
    readonly statusCode: number;
    readonly executedVersion: string;
    readonly functionError?: string;
  };
  readonly responsePayload?: unknown;
}

/** A finished invocation as the router needs it (a stored row, or the outcome just computed). */
export type FinishedInvocation = Pick<
  AsyncInvocation,
  'id' | 'functionName' | 'qualifier' | 'payload' | 'attempts' | 'result' | 'error' | 'finishedAt'
> & {
  readonly status: 'succeeded' | 'failed';
  readonly condition: InvocationCondition;
  readonly executedVersion?: string | undefined;
};

function parseOrText(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

/** Where each kind of outcome goes, from a function's config. */
export function targetsFor(
  config: Pick<FunctionConfig, 'destinations' | 'deadLetter'> | undefined,
  inv: Pick<FinishedInvocation, 'status'>,
): { record?: DestinationTarget; deadLetter?: DestinationTarget } {
  if (config === undefined) return {};
  // Configs stored before migration 004 have no async keys: nothing to deliver.
  const destinations = config.destinations ?? {};
  if (inv.status === 'succeeded') return destinations.onSuccess ? { record: destinations.onSuccess } : {};
  return {
    ...(destinations.onFailure ? { record: destinations.onFailure } : {}),
    ...(config.deadLetter ? { deadLetter: config.deadLetter } : {}),
  };
}

/** Routes records and dead letters. Bound to its transports after the services exist. */
export class DestinationRouter {
  readonly #region: string;
  readonly #accountId: string;
  #transports: DestinationTransports | undefined;

  constructor(options: { region: string; accountId: string; transports?: DestinationTransports }) {
    this.#region = options.region;
    this.#accountId = options.accountId;
    this.#transports = options.transports;
  }

  /**
   * Set the transports. Why late: the dispatcher is built before the queue and topic services
   * (which themselves need `enqueueAsync`, i.e. the dispatcher).
   */
  bind(transports: DestinationTransports): void {
    this.#transports = transports;
  }

  /** Lambda's record for a finished invocation; deterministic, so a redelivery sends the same. */
  record(inv: FinishedInvocation): InvocationRecord {
    const qualifier = inv.qualifier === '' ? '$LATEST' : inv.qualifier;
    const requestContext = {
      requestId: inv.id,
      functionArn: `arn:aws:lambda:${this.#region}:${this.#accountId}:function:${inv.functionName}:${qualifier}`,
      condition: inv.condition,
      approximateInvokeCount: inv.attempts,
    };
    const base = {
      version: '1.0' as const,
      timestamp: new Date(inv.finishedAt ?? Date.now()).toISOString(),
      requestContext,
      requestPayload: parseOrText(inv.payload.toString()),
    };
    // An event dropped for its age was not run (this time): Lambda's record has no response.
    if (inv.condition === 'EventAgeExceeded') return base;
    const failed = inv.status === 'failed';
    const platform = failed ? platformStatus(inv.error) : undefined;
    return {
      ...base,
      responseContext: {
        statusCode: platform ?? 200,
        executedVersion: inv.executedVersion ?? qualifier,
        ...(failed && platform === undefined ? { functionError: 'Unhandled' } : {}),
      },
      responsePayload: failed
        ? parseOrText(inv.error ?? '')
        : inv.result === undefined || inv.result.length === 0
          ? null
          : parseOrText(inv.result.toString()),
    };
  }

  /** Deliver a finished invocation's record and dead letter to their targets. Throws if any fails. */
  async deliver(
    inv: FinishedInvocation,
    targets: { record?: DestinationTarget | undefined; deadLetter?: DestinationTarget | undefined },
  ): Promise<void> {
    const transports = this.#transports;
    if (transports === undefined)
      throw new Error('destinations are not bound to the queue/topic services yet');
    const work: Promise<void>[] = [];
    if (targets.record) {
      const body = JSON.stringify(this.record(inv));
      work.push(send(transports, targets.record, body, undefined, `nimbus-destination:${inv.id}`));
    }
    if (targets.deadLetter) {
      // Lambda's DLQ message: the original event, with the failure in message attributes.
      const error = parseOrText(inv.error ?? '') as { errorMessage?: unknown; errorType?: unknown } | string;
      const message =
        typeof error === 'object' && error !== null && typeof error.errorMessage === 'string'
          ? error.errorMessage
          : String(inv.error ?? '');
      const attributes: Record<string, DestinationAttribute> = {
        RequestID: { DataType: 'String', StringValue: inv.id },
        ErrorCode: { DataType: 'Number', StringValue: String(platformStatus(inv.error) ?? 200) },
        ErrorMessage: { DataType: 'String', StringValue: (message || inv.condition).slice(0, 1024) },
      };
      work.push(
        send(transports, targets.deadLetter, inv.payload.toString(), attributes, `nimbus-dlq:${inv.id}`),
      );
    }
    const results = await Promise.allSettled(work);
    const failures = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failures.length > 0) {
      throw new Error(failures.map((f) => String((f.reason as Error)?.message ?? f.reason)).join('; '), {
        cause: failures[0]!.reason,
      });
    }
  }
}

async function send(
  transports: DestinationTransports,
  target: DestinationTarget,
  body: string,
  attributes: Record<string, DestinationAttribute> | undefined,
  idempotencyKey: string,
): Promise<void> {
  switch (target.type) {
    case 'queue':
      return transports.sendToQueue(target.name, body, attributes);
    case 'topic':
      return transports.publishToTopic(target.name, body, attributes);
    case 'function':
      return transports.invokeFunction(target.name, Buffer.from(body), idempotencyKey);
  }
}

// Platform failures (throttling, service errors) are stored with the platform's error code as
// errorType; a function error is a function's own type (the function ran: 200 with
// functionError, as Lambda reports it).
const PLATFORM_STATUS: Readonly<Record<string, number>> = {
  TooManyRequestsException: 429,
  ServiceException: 500,
  ResourceNotFoundException: 404,
};

function platformStatus(error: string | undefined): number | undefined {
  if (error === undefined) return undefined;
  const parsed = parseOrText(error) as { errorType?: unknown };
  if (typeof parsed !== 'object' || parsed === null || typeof parsed.errorType !== 'string') return undefined;
  return PLATFORM_STATUS[parsed.errorType];
}

/** Transports over the node's services (queue and topic services and `enqueueAsync`). */
export function serviceTransports(services: {
  queues: {
    sendMessage(
      queue: string,
      input: { body: string; attributes?: Record<string, DestinationAttribute> | undefined },
    ): Promise<unknown>;
  };
  topics: {
    publish(
      topic: string,
      message: string,
      options?: { attributes?: Record<string, DestinationAttribute> },
    ): Promise<unknown>;
  };
  enqueueAsync(functionName: string, payload: Buffer, options?: { idempotencyKey?: string }): Promise<string>;
}): DestinationTransports {
  return {
    sendToQueue: async (queue, body, attributes) => {
      await services.queues.sendMessage(queue, { body, attributes });
    },
    publishToTopic: async (topic, message, attributes) => {
      await services.topics.publish(topic, message, attributes ? { attributes } : {});
    },
    invokeFunction: async (functionName, payload, idempotencyKey) => {
      await services.enqueueAsync(functionName, payload, { idempotencyKey });
    },
  };
}
