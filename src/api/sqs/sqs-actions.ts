// The table of SQS actions the facade serves, and the ones it knows but does not support.

import type { SqsAction } from './sqs-action-context.js';
import { MESSAGE_ACTIONS } from './sqs-message-actions.js';
import { QUEUE_ACTIONS } from './sqs-queue-actions.js';

/** Every supported action by its `X-Amz-Target` name (`AmazonSQS.<name>`). */
export const SQS_ACTIONS: Readonly<Record<string, SqsAction>> = { ...QUEUE_ACTIONS, ...MESSAGE_ACTIONS };

/** Names of the supported actions, sorted (for error messages and docs). */
export const SUPPORTED_SQS_ACTIONS: readonly string[] = Object.keys(SQS_ACTIONS).sort();

/**
 * Actions of the SQS API that Nimbus does not serve: permissions and tags have no meaning on a
 * node without IAM, and message move tasks other than the synchronous one are not tracked.
 */
export const UNSUPPORTED_SQS_ACTIONS: ReadonlySet<string> = new Set([
  'AddPermission',
  'RemovePermission',
  'TagQueue',
  'UntagQueue',
  'ListQueueTags',
  'CancelMessageMoveTask',
  'ListMessageMoveTasks',
]);
