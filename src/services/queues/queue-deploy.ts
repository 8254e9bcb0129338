// The queues' part in deploys: `resources.queues` (created if missing, updated if different;
// dead-letter queues created too) and the functions' `queue`/`sqs` events (stored triggers).

import type { AppDeployHook, AppEventSpec } from '../../deploy/app-deploy-hook.js';
import { eventsOfType } from '../../deploy/app-deploy-hook.js';
import { NimbusError } from '../../errors.js';
import { parseQueueTrigger } from '../../events/queues/queue-trigger-config.js';
import type { QueueTriggerSettings } from '../../events/queues/queue-trigger-config.js';
import type { QueueTriggers } from '../../events/queues/queue-triggers.js';
import type { QueueTriggerRecord } from '../../store/ports/queues.js';
import {
  DEFAULT_QUEUE_SETTINGS,
  checkQueueName,
  resolveQueueSettings,
  sameSettings,
} from './queue-settings.js';
import type { QueueOperations, QueueSettings } from './queue-types.js';

const TRIGGER_TYPES = ['queue', 'sqs'];

/** The declared queues of `spec`, validated (name → settings), plus undeclared dead-letter queues. */
function declaredQueues(spec: AppEventSpec): Map<string, { settings: QueueSettings; declared: boolean }> {
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

/** Builds the deploy hook of the queue service. */
export function createQueueDeployHook(queues: QueueOperations, triggers: QueueTriggers): AppDeployHook {
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
      const now = Date.now();
      const records: QueueTriggerRecord[] = declaredTriggers(spec).map((t) => ({
        id: `${t.fullName}#${t.index}`,
        app: spec.app,
        functionName: t.fullName,
        queue: t.settings.queue,
        settings: JSON.stringify(t.settings),
        createdAt: now,
      }));
      await triggers.store.replaceTriggers(
        spec.app,
        spec.prune ? undefined : spec.functions.map((f) => f.fullName),
        records,
      );
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
