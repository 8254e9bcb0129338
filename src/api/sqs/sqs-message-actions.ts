// SQS message actions: SendMessage(Batch), ReceiveMessage, DeleteMessage(Batch),
// ChangeMessageVisibility(Batch).

import type {
  BatchResult,
  ReceivedMessage,
  SendMessageInput,
  SendMessageResult,
} from '../../services/queues/queue-types.js';
import { queueNameFrom, type SqsAction, type SqsActionContext } from './sqs-action-context.js';
import { SqsError, sqsTypeOfCode, toSqsError } from './sqs-errors.js';
import { md5OfBody, md5OfMessageAttributes } from './message-md5.js';
import {
  asObject,
  checkMessageContents,
  optionalInt,
  optionalObjectList,
  optionalString,
  optionalStringList,
  parseMessageAttributes,
  requiredString,
  selectMessageAttributes,
  type SqsInput,
} from './sqs-shapes.js';

/** SQS's limit on entries per batch call. */
export const MAX_BATCH_ENTRIES = 10;
const BATCH_ID_RE = /^[A-Za-z0-9_-]{1,80}$/;
/** The longest a message can be hidden, seconds (12 hours). */
const MAX_VISIBILITY_TIMEOUT = 43_200;

/** The message system attributes ReceiveMessage can return. */
const SYSTEM_ATTRIBUTE_NAMES = [
  'SenderId',
  'SentTimestamp',
  'ApproximateReceiveCount',
  'ApproximateFirstReceiveTimestamp',
  'SequenceNumber',
  'MessageDeduplicationId',
  'MessageGroupId',
] as const;

/** A SendMessage / batch entry's members as the queue service takes them. */
function sendInput(input: SqsInput, traceHeader: string | undefined): SendMessageInput {
  const body = requiredString(input, 'MessageBody');
  checkMessageContents(body, 'the message body');
  // SQS takes AWSTraceHeader from MessageSystemAttributes, else from the X-Amzn-Trace-Id header.
  const system = asObject(input['MessageSystemAttributes']);
  const trace = asObject(system?.['AWSTraceHeader'])?.['StringValue'];
  return {
    traceHeader: typeof trace === 'string' ? trace : traceHeader,
    body,
    delaySeconds: optionalInt(input, 'DelaySeconds', 0, 900),
    attributes: parseMessageAttributes(input['MessageAttributes']),
    groupId: optionalString(input, 'MessageGroupId'),
    deduplicationId: optionalString(input, 'MessageDeduplicationId'),
  };
}

function sendOutput(input: SendMessageInput, result: SendMessageResult): Record<string, unknown> {
  const out: Record<string, unknown> = {
    MessageId: result.messageId,
    MD5OfMessageBody: md5OfBody(input.body),
  };
  const attributesMd5 = md5OfMessageAttributes(input.attributes);
  if (attributesMd5 !== undefined) out['MD5OfMessageAttributes'] = attributesMd5;
  if (result.sequenceNumber !== undefined) out['SequenceNumber'] = result.sequenceNumber;
  return out;
}

/** The checked `Entries` of a batch call: 1-10 entries with distinct, well-formed ids. */
function batchEntries(input: SqsInput): SqsInput[] {
  const entries = optionalObjectList(input, 'Entries') ?? [];
  if (entries.length === 0) {
    throw new SqsError('EmptyBatchRequest', 'There should be at least one entry in the request (Entries).');
  }
  if (entries.length > MAX_BATCH_ENTRIES) {
    throw new SqsError(
      'TooManyEntriesInBatchRequest',
      `Maximum number of entries per request are ${MAX_BATCH_ENTRIES}. You have sent ${entries.length}.`,
    );
  }
  const seen = new Set<string>();
  for (const entry of entries) {
    const id = entry['Id'];
    if (typeof id !== 'string' || !BATCH_ID_RE.test(id)) {
      throw new SqsError(
        'InvalidBatchEntryId',
        `A batch entry id (${JSON.stringify(id)}) can only contain alphanumeric characters, hyphens and underscores. It can be at most 80 letters long.`,
      );
    }
    if (seen.has(id)) throw new SqsError('BatchEntryIdsNotDistinct', `Id ${id} repeated.`);
    seen.add(id);
  }
  return entries;
}

/** A failed batch entry in SQS's shape. */
function failed(id: string, err: unknown): Record<string, unknown> {
  const { error } = toSqsError(err);
  return { Id: id, SenderFault: error.sender, Code: error.type, Message: error.message };
}

function failedFromService(result: BatchResult<object> & { ok: false }): Record<string, unknown> {
  return {
    Id: result.id,
    SenderFault: result.senderFault,
    Code: sqsTypeOfCode(result.code, result.senderFault ? 400 : 500),
    Message: result.message,
  };
}

function batchOutput(successful: unknown[], failures: unknown[]): Record<string, unknown> {
  return { Successful: successful, Failed: failures };
}

const sendMessage: SqsAction = async (ctx, input) => {
  const name = queueNameFrom(input);
  const message = sendInput(input, ctx.traceHeader);
  return sendOutput(message, await ctx.ops.sendMessage(name, message));
};

const sendMessageBatch: SqsAction = async (ctx, input) => {
  const name = queueNameFrom(input);
  const failures: Record<string, unknown>[] = [];
  const valid: Array<SendMessageInput & { id: string }> = [];
  for (const entry of batchEntries(input)) {
    const id = entry['Id'] as string;
    try {
      valid.push({ ...sendInput(entry, ctx.traceHeader), id });
    } catch (err) {
      failures.push(failed(id, err));
    }
  }
  const successful: Record<string, unknown>[] = [];
  if (valid.length > 0) {
    const results = await ctx.ops.sendMessageBatch(name, valid);
    const byId = new Map(valid.map((v) => [v.id, v]));
    for (const result of results) {
      if (!result.ok) failures.push(failedFromService(result));
      else successful.push({ Id: result.id, ...sendOutput(byId.get(result.id)!, result) });
    }
  }
  return batchOutput(successful, failures);
};

function systemAttributes(
  ctx: SqsActionContext,
  message: ReceivedMessage,
  wanted: ReadonlySet<string>,
): Record<string, string> | undefined {
  if (wanted.size === 0) return undefined;
  const all = wanted.has('All');
  const values: Record<(typeof SYSTEM_ATTRIBUTE_NAMES)[number], string | undefined> = {
    // The sender is not recorded per message; every sender is the node's one account.
    SenderId: ctx.accountId,
    SentTimestamp: String(message.sentAt),
    ApproximateReceiveCount: String(message.receiveCount),
    ApproximateFirstReceiveTimestamp: String(message.firstReceivedAt),
    SequenceNumber: message.sequenceNumber,
    MessageDeduplicationId: message.deduplicationId,
    MessageGroupId: message.groupId,
  };
  const out: Record<string, string> = {};
  for (const name of SYSTEM_ATTRIBUTE_NAMES) {
    const value = values[name];
    if (value !== undefined && (all || wanted.has(name))) out[name] = value;
  }
  return Object.keys(out).length === 0 ? undefined : out;
}

const receiveMessage: SqsAction = async (ctx, input) => {
  const name = queueNameFrom(input);
  const maxMessages = optionalInt(input, 'MaxNumberOfMessages', 1, MAX_BATCH_ENTRIES);
  const visibilityTimeout = optionalInt(input, 'VisibilityTimeout', 0, MAX_VISIBILITY_TIMEOUT);
  const waitTimeSeconds = optionalInt(input, 'WaitTimeSeconds', 0, 20);
  const wantedSystem = new Set([
    ...(optionalStringList(input, 'AttributeNames') ?? []),
    ...(optionalStringList(input, 'MessageSystemAttributeNames') ?? []),
  ]);
  const wantedAttributes = optionalStringList(input, 'MessageAttributeNames');
  const messages = await ctx.ops.receiveMessages(name, {
    maxMessages,
    visibilityTimeout,
    waitTimeSeconds,
    signal: ctx.signal,
  });
  if (messages.length === 0) return {};
  return {
    Messages: messages.map((m) => {
      const out: Record<string, unknown> = {
        MessageId: m.messageId,
        ReceiptHandle: m.receiptHandle,
        MD5OfBody: md5OfBody(m.body),
        Body: m.body,
      };
      const attributes = systemAttributes(ctx, m, wantedSystem);
      if (attributes) out['Attributes'] = attributes;
      const messageAttributes = selectMessageAttributes(m.attributes, wantedAttributes);
      if (messageAttributes) {
        out['MessageAttributes'] = messageAttributes;
        out['MD5OfMessageAttributes'] = md5OfMessageAttributes(messageAttributes);
      }
      return out;
    }),
  };
};

const deleteMessage: SqsAction = async (ctx, input) => {
  const name = queueNameFrom(input);
  await ctx.ops.deleteMessage(name, requiredString(input, 'ReceiptHandle'));
  return {};
};

const deleteMessageBatch: SqsAction = async (ctx, input) => {
  const name = queueNameFrom(input);
  const failures: Record<string, unknown>[] = [];
  const valid: Array<{ id: string; receiptHandle: string }> = [];
  for (const entry of batchEntries(input)) {
    const id = entry['Id'] as string;
    try {
      valid.push({ id, receiptHandle: requiredString(entry, 'ReceiptHandle') });
    } catch (err) {
      failures.push(failed(id, err));
    }
  }
  const successful: Record<string, unknown>[] = [];
  if (valid.length > 0) {
    for (const result of await ctx.ops.deleteMessageBatch(name, valid)) {
      if (result.ok) successful.push({ Id: result.id });
      else failures.push(failedFromService(result));
    }
  }
  return batchOutput(successful, failures);
};

const changeMessageVisibility: SqsAction = async (ctx, input) => {
  const name = queueNameFrom(input);
  const handle = requiredString(input, 'ReceiptHandle');
  const timeout = optionalInt(input, 'VisibilityTimeout', 0, MAX_VISIBILITY_TIMEOUT);
  if (timeout === undefined) {
    throw new SqsError('MissingParameter', 'The request must contain the parameter VisibilityTimeout.');
  }
  await ctx.ops.changeMessageVisibility(name, handle, timeout);
  return {};
};

/** One entry at a time: the contract has no batch form, and each entry may fail on its own. */
const changeMessageVisibilityBatch: SqsAction = async (ctx, input) => {
  const name = queueNameFrom(input);
  const successful: Record<string, unknown>[] = [];
  const failures: Record<string, unknown>[] = [];
  for (const entry of batchEntries(input)) {
    const id = entry['Id'] as string;
    try {
      const handle = requiredString(entry, 'ReceiptHandle');
      const timeout = optionalInt(entry, 'VisibilityTimeout', 0, MAX_VISIBILITY_TIMEOUT);
      if (timeout === undefined) {
        throw new SqsError('MissingParameter', 'The request must contain the parameter VisibilityTimeout.');
      }
      await ctx.ops.changeMessageVisibility(name, handle, timeout);
      successful.push({ Id: id });
    } catch (err) {
      const { error } = toSqsError(err);
      // A missing queue fails the whole call, as on SQS.
      if (error.type === 'QueueDoesNotExist') throw error;
      failures.push(failed(id, error));
    }
  }
  return batchOutput(successful, failures);
};

/** The message-level actions by name. */
export const MESSAGE_ACTIONS: Readonly<Record<string, SqsAction>> = {
  SendMessage: sendMessage,
  SendMessageBatch: sendMessageBatch,
  ReceiveMessage: receiveMessage,
  DeleteMessage: deleteMessage,
  DeleteMessageBatch: deleteMessageBatch,
  ChangeMessageVisibility: changeMessageVisibility,
  ChangeMessageVisibilityBatch: changeMessageVisibilityBatch,
};
