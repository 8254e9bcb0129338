// A QueueService over a real store for tests, without the invoke path (queue semantics only).
import type { AppDeployHook } from '../../../src/deploy/app-deploy-hook.js';
import { createQueueTriggerDeployHook } from '../../../src/events/queues/queue-trigger-deploy.js';
import { QueueTriggers } from '../../../src/events/queues/queue-triggers.js';
import type { InvokeService } from '../../../src/invoke/invoke-service.js';
import { QueueService } from '../../../src/services/queues/queue-service.js';
import type { ServiceContext } from '../../../src/services/service-context.js';
import type { Store } from '../../../src/store/store.js';
import { combinedDeployHook } from '../combined-deploy-hook.js';

/** A service context over `store`; invoking or enqueueing fails (these tests do neither). */
export function queueTestContext(store: Store, errors: unknown[] = []): ServiceContext {
  return {
    store,
    dataDir: '/nonexistent',
    invoker: {
      invoke: () => Promise.reject(new Error('queue tests do not invoke')),
    } as unknown as InvokeService,
    enqueueAsync: () => Promise.reject(new Error('queue tests do not enqueue')),
    region: 'us-east-1',
    accountId: '000000000000',
    logger: { info: () => undefined, warn: () => undefined, error: () => undefined },
    onError: (err) => errors.push(err),
  };
}

/** A QueueService over `store` (not started: no pollers, no sweep timer). */
export function queueService(store: Store): QueueService {
  return new QueueService(queueTestContext(store));
}

/** The queues' deploy hook and the queue triggers' (pollers not started), as deploys run them. */
export function queueDeployHook(store: Store, queues: QueueService): AppDeployHook {
  const triggers = new QueueTriggers(queueTestContext(store), queues);
  return combinedDeployHook(queues.deployHook, createQueueTriggerDeployHook(queues, triggers));
}
