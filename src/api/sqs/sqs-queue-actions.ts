// SQS queue management actions: CreateQueue, GetQueueUrl, ListQueues, DeleteQueue,
// Get/SetQueueAttributes, PurgeQueue, ListDeadLetterSourceQueues, StartMessageMoveTask.

import { randomUUID } from 'node:crypto';
import {
  existingQueue,
  queueDoesNotExist,
  queueNameFrom,
  urlOf,
  type SqsAction,
} from './sqs-action-context.js';
import { SqsError } from './sqs-errors.js';
import {
  differingAttributes,
  needsCounts,
  queueAttributes,
  resolveQueueAttributeNames,
  settingsFromAttributes,
} from './sqs-queue-attributes.js';
import {
  optionalInt,
  optionalString,
  optionalStringList,
  optionalStringMap,
  queueNameOfArn,
  requiredString,
} from './sqs-shapes.js';

const QUEUE_NAME_RE = /^[A-Za-z0-9_-]{1,80}$/;

function checkQueueName(name: string): void {
  const base = name.endsWith('.fifo') ? name.slice(0, -5) : name;
  if (!QUEUE_NAME_RE.test(base) || name.length > 80) {
    throw new SqsError(
      'InvalidParameterValue',
      `Can only include alphanumeric characters, hyphens, or underscores. 1 to 80 in length (queue name '${name}'; FIFO names end in '.fifo').`,
    );
  }
}

const createQueue: SqsAction = async (ctx, input) => {
  const name = requiredString(input, 'QueueName');
  checkQueueName(name);
  const settings = settingsFromAttributes(optionalStringMap(input, 'Attributes'), true);
  if (name.endsWith('.fifo') && settings.fifo === undefined) {
    throw new SqsError(
      'InvalidParameterValue',
      `The name of a FIFO queue can only include alphanumeric characters, hyphens, or underscores, must end with .fifo suffix; set Attributes.FifoQueue to 'true' to create FIFO queue '${name}'.`,
    );
  }
  // tags are accepted and ignored (see docs/resources.md).
  optionalStringMap(input, 'tags');
  const existing = await ctx.ops.getQueue(name);
  if (existing !== undefined) {
    const differing = differingAttributes(existing.settings, settings);
    if (differing.length > 0) {
      throw new SqsError(
        'QueueNameExists',
        `A queue named '${name}' already exists with a different value for ${differing.join(', ')}; change it with SetQueueAttributes, or pick another name.`,
      );
    }
    return { QueueUrl: urlOf(ctx, existing.name) };
  }
  const info = await ctx.ops.createQueue(name, settings);
  return { QueueUrl: urlOf(ctx, info.name) };
};

const getQueueUrl: SqsAction = async (ctx, input) => {
  const name = requiredString(input, 'QueueName');
  const info = await existingQueue(ctx, name);
  return { QueueUrl: urlOf(ctx, info.name) };
};

/** ListQueues pages by name: the token is the last name returned, base64url-encoded. */
const listQueues: SqsAction = async (ctx, input) => {
  const prefix = optionalString(input, 'QueueNamePrefix');
  const max = optionalInt(input, 'MaxResults', 1, 1000);
  const token = optionalString(input, 'NextToken');
  let after: string | undefined;
  if (token !== undefined) {
    if (max === undefined) {
      throw new SqsError(
        'InvalidParameterValue',
        'NextToken requires MaxResults; pass the MaxResults of the first call.',
      );
    }
    after = Buffer.from(token, 'base64url').toString('utf8');
  }
  // Sorted here, by code units, because the NextToken comparison below uses the same order
  // (a database collation could order names differently).
  let queues = (await ctx.ops.listQueues(prefix === '' ? undefined : prefix)).sort((a, b) =>
    a.name < b.name ? -1 : a.name > b.name ? 1 : 0,
  );
  if (after !== undefined) queues = queues.filter((q) => q.name > after);
  const limit = max ?? 1000;
  const page = queues.slice(0, limit);
  const out: Record<string, unknown> = {};
  if (page.length > 0) out['QueueUrls'] = page.map((q) => urlOf(ctx, q.name));
  if (max !== undefined && queues.length > limit) {
    out['NextToken'] = Buffer.from(page[page.length - 1]!.name, 'utf8').toString('base64url');
  }
  return out;
};

const deleteQueue: SqsAction = async (ctx, input) => {
  const name = queueNameFrom(input);
  if (!(await ctx.ops.deleteQueue(name))) throw queueDoesNotExist(name);
  return {};
};

const getQueueAttributes: SqsAction = async (ctx, input) => {
  const name = queueNameFrom(input);
  const names = resolveQueueAttributeNames(optionalStringList(input, 'AttributeNames'));
  const info = await existingQueue(ctx, name);
  const counts = needsCounts(names) ? await ctx.ops.counts(name) : undefined;
  const attributes = queueAttributes(info, counts, names, ctx.region, ctx.accountId);
  return Object.keys(attributes).length === 0 ? {} : { Attributes: attributes };
};

const setQueueAttributes: SqsAction = async (ctx, input) => {
  const name = queueNameFrom(input);
  const attributes = optionalStringMap(input, 'Attributes');
  if (attributes === undefined) {
    throw new SqsError('MissingParameter', 'The request must contain the parameter Attributes.');
  }
  await ctx.ops.updateQueue(name, settingsFromAttributes(attributes, false));
  return {};
};

const purgeQueue: SqsAction = async (ctx, input) => {
  await ctx.ops.purgeQueue(queueNameFrom(input));
  return {};
};

const listDeadLetterSourceQueues: SqsAction = async (ctx, input) => {
  const name = queueNameFrom(input);
  await existingQueue(ctx, name);
  const sources = (await ctx.ops.listQueues()).filter((q) => q.settings.deadLetter?.queue === name);
  // Lower-case `queueUrls`: that is the member's name in the SQS model.
  return { queueUrls: sources.map((q) => urlOf(ctx, q.name)) };
};

/**
 * Moves a dead-letter queue's messages back (the console's "redrive"). Done before the answer,
 * so the task is complete when the handle is returned.
 */
const startMessageMoveTask: SqsAction = async (ctx, input) => {
  const source = queueNameOfArn(requiredString(input, 'SourceArn'));
  const destination = optionalString(input, 'DestinationArn');
  await ctx.ops.redriveBack(source, destination === undefined ? undefined : queueNameOfArn(destination));
  return { TaskHandle: randomUUID() };
};

/** The queue-level actions by name. */
export const QUEUE_ACTIONS: Readonly<Record<string, SqsAction>> = {
  CreateQueue: createQueue,
  GetQueueUrl: getQueueUrl,
  ListQueues: listQueues,
  DeleteQueue: deleteQueue,
  GetQueueAttributes: getQueueAttributes,
  SetQueueAttributes: setQueueAttributes,
  PurgeQueue: purgeQueue,
  ListDeadLetterSourceQueues: listDeadLetterSourceQueues,
  StartMessageMoveTask: startMessageMoveTask,
};
