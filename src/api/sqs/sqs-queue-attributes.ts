// Queue attributes: SQS's string attribute map (CreateQueue, SetQueueAttributes,
// GetQueueAttributes) to and from the queue service's camelCase settings.

import type {
  QueueCounts,
  QueueInfo,
  QueueSettings,
  QueueSettingsInput,
} from '../../services/queues/queue-types.js';
import { SqsError } from './sqs-errors.js';
import { asObject, queueArn, queueNameOfArn } from './sqs-shapes.js';

/** Integer attributes and the setting each maps to. Ranges are checked by the queue service. */
const INT_ATTRIBUTES = {
  VisibilityTimeout: 'visibilityTimeout',
  DelaySeconds: 'delaySeconds',
  MessageRetentionPeriod: 'messageRetentionPeriod',
  MaximumMessageSize: 'maximumMessageSize',
  ReceiveMessageWaitTimeSeconds: 'receiveMessageWaitTime',
} as const;

/**
 * Attributes accepted and ignored: encryption, access policies and throughput modes have no
 * meaning on a single-tenant node, and tools (Terraform, CDK) send them routinely.
 */
const IGNORED_ATTRIBUTES = new Set([
  'Policy',
  'KmsMasterKeyId',
  'KmsDataKeyReusePeriodSeconds',
  'SqsManagedSseEnabled',
  'DeduplicationScope',
  'FifoThroughputLimit',
  'RedriveAllowPolicy',
]);

/** Every attribute GetQueueAttributes can report, in SQS's order. */
export const QUEUE_ATTRIBUTE_NAMES = [
  'QueueArn',
  'ApproximateNumberOfMessages',
  'ApproximateNumberOfMessagesNotVisible',
  'ApproximateNumberOfMessagesDelayed',
  'CreatedTimestamp',
  'LastModifiedTimestamp',
  'VisibilityTimeout',
  'MaximumMessageSize',
  'MessageRetentionPeriod',
  'DelaySeconds',
  'ReceiveMessageWaitTimeSeconds',
  'RedrivePolicy',
  'FifoQueue',
  'ContentBasedDeduplication',
  'SqsManagedSseEnabled',
] as const;

const COUNT_ATTRIBUTES = new Set([
  'ApproximateNumberOfMessages',
  'ApproximateNumberOfMessagesNotVisible',
  'ApproximateNumberOfMessagesDelayed',
]);

function parseBool(name: string, value: string): boolean {
  if (value === 'true') return true;
  if (value === 'false') return false;
  throw new SqsError(
    'InvalidAttributeValue',
    `Invalid value for the parameter ${name}: use 'true' or 'false'.`,
  );
}

function parseRedrivePolicy(value: string): QueueSettingsInput['deadLetter'] {
  let policy: Record<string, unknown> | undefined;
  try {
    policy = asObject(JSON.parse(value)) as Record<string, unknown> | undefined;
  } catch {
    policy = undefined;
  }
  const target = policy?.['deadLetterTargetArn'];
  const rawCount = policy?.['maxReceiveCount'];
  const count = typeof rawCount === 'string' && /^\d+$/.test(rawCount) ? Number(rawCount) : rawCount;
  if (typeof target !== 'string' || typeof count !== 'number' || !Number.isInteger(count) || count < 1) {
    throw new SqsError(
      'InvalidAttributeValue',
      `Value ${value} for parameter RedrivePolicy is invalid. Reason: use a JSON string like {"deadLetterTargetArn":"arn:aws:sqs:<region>:<account>:<dlq name>","maxReceiveCount":5}.`,
    );
  }
  return { queue: queueNameOfArn(target), maxReceiveCount: count };
}

/**
 * Queue settings from SQS `Attributes`. `FifoQueue` is only allowed on create (`creating`); an
 * empty `RedrivePolicy` removes the dead-letter queue (SetQueueAttributes).
 * @throws SqsError `InvalidAttributeName` for an unknown name, `InvalidAttributeValue` for a bad value.
 */
export function settingsFromAttributes(
  attributes: Readonly<Record<string, string>> | undefined,
  creating: boolean,
): QueueSettingsInput {
  const settings: { -readonly [K in keyof QueueSettingsInput]: QueueSettingsInput[K] } = {};
  for (const [name, value] of Object.entries(attributes ?? {})) {
    if (name in INT_ATTRIBUTES) {
      if (!/^\d+$/.test(value)) {
        throw new SqsError(
          'InvalidAttributeValue',
          `Invalid value for the parameter ${name}: '${value}' is not a whole number.`,
        );
      }
      settings[INT_ATTRIBUTES[name as keyof typeof INT_ATTRIBUTES]] = Number(value);
    } else if (name === 'FifoQueue') {
      if (!creating) {
        throw new SqsError('InvalidAttributeName', 'FifoQueue can only be set when the queue is created.');
      }
      settings.fifo = parseBool(name, value);
    } else if (name === 'ContentBasedDeduplication') {
      settings.contentBasedDeduplication = parseBool(name, value);
    } else if (name === 'RedrivePolicy') {
      // Why an explicit undefined: SQS removes the redrive policy when it is set to ''.
      settings.deadLetter = value === '' ? undefined : parseRedrivePolicy(value);
    } else if (!IGNORED_ATTRIBUTES.has(name)) {
      throw new SqsError(
        'InvalidAttributeName',
        `Unknown Attribute ${name}. Supported: ${Object.keys(INT_ATTRIBUTES).join(', ')}, FifoQueue, ContentBasedDeduplication, RedrivePolicy (and ignored: ${[...IGNORED_ATTRIBUTES].join(', ')}).`,
      );
    }
  }
  return settings;
}

const ATTRIBUTE_OF_SETTING: Readonly<Record<keyof QueueSettings, string>> = {
  visibilityTimeout: 'VisibilityTimeout',
  delaySeconds: 'DelaySeconds',
  messageRetentionPeriod: 'MessageRetentionPeriod',
  maximumMessageSize: 'MaximumMessageSize',
  receiveMessageWaitTime: 'ReceiveMessageWaitTimeSeconds',
  fifo: 'FifoQueue',
  contentBasedDeduplication: 'ContentBasedDeduplication',
  deadLetter: 'RedrivePolicy',
};

/**
 * The SQS attribute names whose value in `given` differs from the queue's `current` settings.
 * Only what was given is compared: CreateQueue with fewer attributes than the queue has (or none)
 * returns the existing queue, as SQS does, so "create if missing" code works on queues declared
 * with settings in nimbus.yml.
 */
export function differingAttributes(current: QueueSettings, given: QueueSettingsInput): string[] {
  const out: string[] = [];
  for (const [key, value] of Object.entries(given) as Array<[keyof QueueSettings, unknown]>) {
    const now = current[key];
    const same =
      key === 'deadLetter' ? JSON.stringify(now ?? null) === JSON.stringify(value ?? null) : now === value;
    if (!same) out.push(ATTRIBUTE_OF_SETTING[key]);
  }
  return out;
}

/** The attribute names a GetQueueAttributes call asked for (`All` expands). */
export function resolveQueueAttributeNames(names: readonly string[] | undefined): string[] {
  if (names === undefined || names.length === 0) return [];
  if (names.includes('All')) return [...QUEUE_ATTRIBUTE_NAMES];
  for (const name of names) {
    if (!(QUEUE_ATTRIBUTE_NAMES as readonly string[]).includes(name) && !IGNORED_ATTRIBUTES.has(name)) {
      throw new SqsError(
        'InvalidAttributeName',
        `Unknown Attribute ${name}. Use All or some of: ${QUEUE_ATTRIBUTE_NAMES.join(', ')}.`,
      );
    }
  }
  return [...new Set(names)];
}

/** Whether any of `names` needs the message counts (one more store query). */
export function needsCounts(names: readonly string[]): boolean {
  return names.some((n) => COUNT_ATTRIBUTES.has(n));
}

/** The SQS attribute map of a queue, limited to `names`. */
export function queueAttributes(
  info: QueueInfo,
  counts: QueueCounts | undefined,
  names: readonly string[],
  region: string,
  accountId: string,
): Record<string, string> {
  const s = info.settings;
  const seconds = String(Math.floor(info.createdAt / 1000));
  const out: Record<string, string> = {};
  for (const name of names) {
    switch (name) {
      case 'QueueArn':
        out[name] = info.arn;
        break;
      case 'ApproximateNumberOfMessages':
        out[name] = String(counts?.visible ?? 0);
        break;
      case 'ApproximateNumberOfMessagesNotVisible':
        out[name] = String(counts?.inFlight ?? 0);
        break;
      case 'ApproximateNumberOfMessagesDelayed':
        out[name] = String(counts?.delayed ?? 0);
        break;
      // The contract keeps no modification time; creation is the best lower bound.
      case 'CreatedTimestamp':
      case 'LastModifiedTimestamp':
        out[name] = seconds;
        break;
      case 'VisibilityTimeout':
        out[name] = String(s.visibilityTimeout);
        break;
      case 'MaximumMessageSize':
        out[name] = String(s.maximumMessageSize);
        break;
      case 'MessageRetentionPeriod':
        out[name] = String(s.messageRetentionPeriod);
        break;
      case 'DelaySeconds':
        out[name] = String(s.delaySeconds);
        break;
      case 'ReceiveMessageWaitTimeSeconds':
        out[name] = String(s.receiveMessageWaitTime);
        break;
      case 'RedrivePolicy':
        if (s.deadLetter) {
          out[name] = JSON.stringify({
            deadLetterTargetArn: queueArn(region, accountId, s.deadLetter.queue),
            maxReceiveCount: s.deadLetter.maxReceiveCount,
          });
        }
        break;
      case 'FifoQueue':
        // SQS reports FifoQueue (and ContentBasedDeduplication) only for FIFO queues.
        if (s.fifo) out[name] = 'true';
        break;
      case 'ContentBasedDeduplication':
        if (s.fifo) out[name] = String(s.contentBasedDeduplication);
        break;
      case 'SqsManagedSseEnabled':
        out[name] = 'false';
        break;
    }
  }
  return out;
}
