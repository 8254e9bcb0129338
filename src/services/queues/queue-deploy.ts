// The queues' part in deploys: `resources.queues` (created if missing, updated if different;
// dead-letter queues created too). The functions' `queue`/`sqs` events are the queue triggers'
// own hook (src/events/queues/queue-trigger-deploy.ts): a resource knows nothing of its consumers.

import type { AppDeployHook, AppEventSpec } from '../../deploy/app-deploy-hook.js';
import {
  DEFAULT_QUEUE_SETTINGS,
  checkQueueName,
  resolveQueueSettings,
  sameSettings,
} from './queue-settings.js';
import type { QueueOperations, QueueSettings } from './queue-types.js';

/** The declared queues of `spec`, validated (name → settings), plus undeclared dead-letter queues. */
export function declaredQueues(
  spec: AppEventSpec,
): Map<string, { settings: QueueSettings; declared: boolean }> {
  const out = new Map<string, { settings: QueueSettings; declared: boolean }>();
  for (const [name, options] of Object.entries(spec.resources.queues ?? {})) {
    const where = `resources.queues.${name}`;
    checkQueueName(name, where);
    out.set(name, {
      settings: resolveQueueSettings(name, options, DEFAULT_QUEUE_SETTINGS, where),
      declared: true,
    });
  }
  for (const { settings } of [...out.values()]) {
    const dlq = settings.deadLetter?.queue;
    if (dlq !== undefined && !out.has(dlq)) {
      out.set(dlq, { settings: resolveQueueSettings(dlq, {}), declared: false });
    }
  }
  return out;
}

/** Builds the deploy hook of the queue service. */
export function createQueueDeployHook(queues: QueueOperations): AppDeployHook {
  return {
    validate(spec) {
      declaredQueues(spec);
    },

    async apply(spec) {
      const declared = declaredQueues(spec);
      // Dead-letter queues first: a queue's redrive policy needs its DLQ to exist.
      const order = [...declared.entries()].sort(
        ([, a], [, b]) =>
          Number(a.settings.deadLetter !== undefined) - Number(b.settings.deadLetter !== undefined),
      );
      for (const [name, { settings, declared: isDeclared }] of order) {
        const existing = await queues.getQueue(name);
        if (existing === undefined) {
          await queues.createQueue(name, settings);
        } else if (isDeclared && !sameSettings(existing.settings, settings)) {
          await queues.updateQueue(name, settings);
        }
      }
    },

    // Queues and their messages stay when an app goes.
    removeApp: () => Promise.resolve(),
  };
}
