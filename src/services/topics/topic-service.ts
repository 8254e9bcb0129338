// Topics: publish and fan out to subscriptions (functions, queues, webhooks) through filter policies.

import type { AppDeployHook } from '../../deploy/app-deploy-hook.js';
import type { Lifecycle } from '../../server/lifecycle.js';
import { NimbusError } from '../../errors.js';
import type { QueueService } from '../queues/queue-service.js';
import type { ServiceContext } from '../service-context.js';

/** Options of {@link TopicService.publish}. */
export interface PublishOptions {
  readonly subject?: string;
  /** SNS-style message attributes (filter policies match on these). */
  readonly attributes?: Readonly<Record<string, { DataType: string; StringValue?: string }>>;
}

/** Topics: publish and fan out to subscriptions (functions, queues, webhooks) through filter policies. */
export class TopicService implements Lifecycle {
  constructor(_ctx: ServiceContext, _queues: QueueService) {}

  /**
   * Publish one message to `topic` (a topic name) and fan it out to the matching subscriptions.
   * @throws NimbusError `ResourceNotFoundException` (naming the fix) when the topic does not exist.
   */
  async publish(
    topic: string,
    message: string,
    options: PublishOptions = {},
  ): Promise<{ messageId: string }> {
    void message;
    void options;
    throw new NimbusError('ServiceException', `topic ${topic}: publish is not implemented yet`);
  }

  /** Validates and applies the app's declared resources and triggers of this kind on deploy. */
  readonly deployHook: AppDeployHook = {
    validate: () => undefined,
    apply: async () => undefined,
    removeApp: async () => undefined,
  };

  start(): void {}

  async stop(): Promise<void> {}
}
