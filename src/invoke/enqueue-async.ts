// Accepting an async (`Event`) invocation: check the function exists, check the size, and
// commit the event to the store before the caller answers 202.

import { randomUUID } from 'node:crypto';
import { NimbusError } from '../errors.js';
import type { InvocationQueue } from '../store/store.js';
import type { AsyncDispatcher } from './async-dispatcher.js';
import type { FunctionResolver } from './function-resolver.js';
import { ASYNC_PAYLOAD_LIMIT } from './invoke-service.js';

/** Durably enqueue an async invocation and return its id (also its request id). */
export async function enqueueAsync(
  deps: { resolver: FunctionResolver; queue: InvocationQueue; dispatcher: AsyncDispatcher },
  req: { functionName: string; qualifier?: string | undefined; payload: Buffer },
): Promise<string> {
  if (req.payload.length > ASYNC_PAYLOAD_LIMIT) {
    throw new NimbusError(
      'RequestEntityTooLargeException',
      `Request must be smaller than ${ASYNC_PAYLOAD_LIMIT} bytes for an Event invocation; store large inputs in a bucket and pass a reference.`,
    );
  }
  // Lambda answers 404 for an unknown function at accept time, not later.
  await deps.resolver.resolve(req.functionName, req.qualifier);
  const id = randomUUID();
  await deps.queue.enqueue({
    id,
    functionName: req.functionName,
    qualifier: req.qualifier ?? '',
    payload: req.payload,
  });
  deps.dispatcher.notify();
  return id;
}
