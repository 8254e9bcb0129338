// Queues: create, send, receive with visibility timeouts, FIFO groups, redrive; and queue triggers.

import type { AppDeployHook } from '../../deploy/app-deploy-hook.js';
import type { Lifecycle } from '../../server/lifecycle.js';
import { NimbusError } from '../../errors.js';
import type { ServiceContext } from '../service-context.js';

/** Options of {@link QueueService.sendMessage}. */
export interface SendMessageOptions {
  /** Seconds before the message becomes visible (0-900). @default the queue's delay */
  readonly delaySeconds?: number;
  /** FIFO queues: the message group. */
  readonly groupId?: string;
  /** FIFO queues: the deduplication id (5-minute window). */
  readonly deduplicationId?: string;
  /** SQS-style message attributes. */
  readonly attributes?: Readonly<
    Record<string, { DataType: string; StringValue?: string; BinaryValue?: string }>
  >;
}

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
  async sendMessage(
    queue: string,
    body: string,
    options: SendMessageOptions = {},
  ): Promise<{ messageId: string }> {
    void body;
    void options;
    throw new NimbusError('ServiceException', `queue ${queue}: sendMessage is not implemented yet`);
  }

  start(): void {}

  async stop(): Promise<void> {}
}
