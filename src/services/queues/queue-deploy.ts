// The queues' part in deploys: `resources.queues` (created if missing, updated if different;
// dead-letter queues created too). The functions' `queue`/`sqs` events are the queue triggers'
// own hook (src/events/queues/queue-trigger-deploy.ts): a resource knows nothing of its consumers.

import type { AppDeployHook, AppEventSpec } from '../../deploy/app-deploy-hook.js';
import {
  DEFAULT_QUEUE_SETTINGS,
  canonicalSettings,
  checkQueueName,
  parseStoredSettings,
  resolveQueueSettings,
  sameSettings,
} from './queue-settings.js';
import type { QueueStore } from '../../store/ports/queues.js';
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

/**
 * Creates missing queues (dead-letter queues first: a redrive policy needs its target) and
 * updates declared ones whose settings changed, all through `store`.
 */
async function writeQueues(spec: AppEventSpec, store: QueueStore): Promise<void> {
  const order = [...declaredQueues(spec).entries()].sort(
    ([, a], [, b]) =>
      Number(a.settings.deadLetter !== undefined) - Number(b.settings.deadLetter !== undefined),
  );
  const now = Date.now();
  for (const [name, { settings, declared }] of order) {
    const existing = await store.getQueue(name);
    if (existing === undefined) {
      await store.createQueue({
        name,
        settings: canonicalSettings(settings),
        createdAt: now,
        updatedAt: now,
      });
    } else if (declared && !sameSettings(parseStoredSettings(existing.settings), settings)) {
      // Other nodes (and this one's settings cache) see the change within its 2 s cache time.
      await store.updateQueue(name, canonicalSettings(settings), now);
    }
  }
}

/** Builds the deploy hook of the queue service. */
export function createQueueDeployHook(queues: QueueOperations): AppDeployHook {
  return {
    validate(spec) {
      declaredQueues(spec);
    },
    write: (spec, tx) => writeQueues(spec, tx.queues),
    async apply(spec) {
      // Outside a deploy: through the service, which also drops its cached settings.
      const order = [...declaredQueues(spec).entries()].sort(
        ([, a], [, b]) =>
          Number(a.settings.deadLetter !== undefined) - Number(b.settings.deadLetter !== undefined),
      );
      for (const [name, { settings, declared }] of order) {
        const existing = await queues.getQueue(name);
        if (existing === undefined) await queues.createQueue(name, settings);
        else if (declared && !sameSettings(existing.settings, settings))
          await queues.updateQueue(name, settings);
      }
    },
    // Queues and their messages outlive the app's deploys.
    removeApp: async () => undefined,
  };
}
