// Queues: create, send, receive with visibility timeouts, FIFO groups, redrive; and queue triggers.

import type { AppDeployHook } from '../../deploy/app-deploy-hook.js';
import type { Lifecycle } from '../../server/lifecycle.js';
import { NimbusError } from '../../errors.js';
import type { ServiceContext } from '../service-context.js';
import type { SendMessageInput, SendMessageResult } from './queue-types.js';

/** Queues: create, send, receive with visibility timeouts, FIFO groups, redrive; and queue triggers. */
export class QueueService implements Lifecycle {
  constructor(_ctx: ServiceContext) {}

  /** Validates and applies the app's declared resources and triggers of this kind on deploy. */
  readonly deployHook: AppDeployHook = {
    validate: () => undefined,
    apply: async () => undefined,
    removeApp: async () => undefined,
  };

  /**
   * Send one message to `queue` (a queue name). Other services (topic subscriptions, async
   * destinations, the SDK) deliver through this.
   * @throws NimbusError `ResourceNotFoundException` (naming the fix) when the queue does not exist.
   */
  async sendMessage(queue: string, input: SendMessageInput): Promise<SendMessageResult> {
    void input;
    throw new NimbusError('ServiceException', `queue ${queue}: sendMessage is not implemented yet`);
  }

  start(): void {}

  async stop(): Promise<void> {}
}
