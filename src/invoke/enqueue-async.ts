// Accepting an async (`Event`) invocation: check the function exists, check the size, and
// commit the event to the store (deduplicated by an optional idempotency key) before the
// caller answers 202.

import { randomUUID } from 'node:crypto';
import { NimbusError } from '../errors.js';
import type { InvocationQueue } from '../store/store.js';
import type { AsyncDispatcher } from './async-dispatcher.js';
import type { FunctionResolver } from './function-resolver.js';
import { ASYNC_PAYLOAD_LIMIT } from './invoke-service.js';

/** Longest accepted idempotency key (as SQS's deduplication ids). */
export const IDEMPOTENCY_KEY_MAX = 128;
const IDEMPOTENCY_KEY_PATTERN = /^[\x21-\x7e]{1,128}$/;

/**
 * Durably enqueue an async invocation and return its id (also its request id). With an
 * idempotency key used for the same function within the dispatcher's window, nothing is
 * enqueued and the first invocation's id is returned.
 */
export async function enqueueAsync(
  deps: { resolver: FunctionResolver; queue: InvocationQueue; dispatcher: AsyncDispatcher },
  req: {
    functionName: string;
    qualifier?: string | undefined;
    payload: Buffer;
    idempotencyKey?: string | undefined;
    /** The request's X-Ray header: the run continues its chain (recursion-guard.ts). */
    traceHeader?: string | undefined;
  },
): Promise<string> {
  if (req.payload.length > ASYNC_PAYLOAD_LIMIT) {
    throw new NimbusError(
      'RequestEntityTooLargeException',
      `Request must be smaller than ${ASYNC_PAYLOAD_LIMIT} bytes for an Event invocation; store large inputs in a bucket and pass a reference.`,
    );
  }
  if (req.idempotencyKey !== undefined && !IDEMPOTENCY_KEY_PATTERN.test(req.idempotencyKey)) {
    throw new NimbusError(
      'InvalidParameterValueException',
      `The idempotency key must be 1-${IDEMPOTENCY_KEY_MAX} printable ASCII characters without spaces (e.g. an order id or a UUID).`,
    );
  }
  // Lambda answers 404 for an unknown function at accept time, not later.
  await deps.resolver.resolve(req.functionName, req.qualifier);
  const id = randomUUID();
  const stored = await deps.queue.enqueue({
    id,
    functionName: req.functionName,
    qualifier: req.qualifier ?? '',
    payload: req.payload,
    idempotencyKey: req.idempotencyKey,
    idempotencyWindowMs: deps.dispatcher.idempotencyWindowMs,
    traceHeader: req.traceHeader,
  });
  if (stored === id) deps.dispatcher.notify();
  return stored;
}
