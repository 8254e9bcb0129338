// The queue triggers' part in deploys: the functions' `queue`/`sqs` events, validated against the
// queues the app declares or that exist, stored, and picked up by this node's pollers at once.

import type { AppDeployHook, AppEventSpec } from '../../deploy/app-deploy-hook.js';
import { eventsOfType } from '../../deploy/app-deploy-hook.js';
import { NimbusError } from '../../errors.js';
import { declaredQueues } from '../../services/queues/queue-deploy.js';
import type { QueueOperations } from '../../services/queues/queue-types.js';
import type { QueueStore, QueueTriggerRecord } from '../../store/ports/queues.js';
import { parseQueueTrigger } from './queue-trigger-config.js';
import type { QueueTriggerSettings } from './queue-trigger-config.js';
import type { QueueTriggers } from './queue-triggers.js';

const TRIGGER_TYPES = ['queue', 'sqs'];

/** The triggers of `spec`, validated, with their function. */
function declaredTriggers(
  spec: AppEventSpec,
): Array<{ fullName: string; index: number; settings: QueueTriggerSettings; where: string }> {
  const out: Array<{ fullName: string; index: number; settings: QueueTriggerSettings; where: string }> = [];
  for (const fn of spec.functions) {
    for (const { index, type, value } of eventsOfType(fn, TRIGGER_TYPES)) {
      const where = `functions.${fn.name}.events[${index}].${type}`;
      out.push({ fullName: fn.fullName, index, settings: parseQueueTrigger(type, value, where), where });
    }
  }
  return out;
}

/** Replaces the app's queue triggers with those of `spec`, through `store`. */
async function storeTriggers(spec: AppEventSpec, store: QueueStore): Promise<void> {
  const now = Date.now();
  const records: QueueTriggerRecord[] = declaredTriggers(spec).map((t) => ({
    id: `${t.fullName}#${t.index}`,
    app: spec.app,
    functionName: t.fullName,
    queue: t.settings.queue,
    settings: JSON.stringify(t.settings),
    createdAt: now,
  }));
  await store.replaceTriggers(
    spec.app,
    spec.prune ? undefined : spec.functions.map((f) => f.fullName),
    records,
  );
}

/** Builds the deploy hook of the queue triggers (listed after the queues' own hook, which creates the queues). */
export function createQueueTriggerDeployHook(
  queues: Pick<QueueOperations, 'getQueue'>,
  triggers: QueueTriggers,
): AppDeployHook {
  return {
    async validate(spec) {
      const declared = declaredQueues(spec);
      for (const t of declaredTriggers(spec)) {
        if (declared.has(t.settings.queue)) continue;
        if ((await queues.getQueue(t.settings.queue)) === undefined) {
          throw new NimbusError(
            'InvalidParameterValueException',
            `${t.where}: queue '${t.settings.queue}' does not exist; declare it under resources.queues in nimbus.yml or create it with \`nimbus queues create ${t.settings.queue}\`.`,
          );
        }
      }
    },

    // In the deploy's transaction, through its queue store; the pollers follow after the commit.
    write: (spec, tx) => storeTriggers(spec, tx.queues),
    afterCommit: () => triggers.refresh(),

    async apply(spec) {
      await storeTriggers(spec, triggers.store);
      await triggers.refresh();
    },

    async removeApp(app) {
      await triggers.store.replaceTriggers(app, undefined, []);
      await triggers.refresh();
    },

    async removeFunction(app, fullName) {
      await triggers.store.replaceTriggers(app, [fullName], []);
      await triggers.refresh();
    },
  };
}
