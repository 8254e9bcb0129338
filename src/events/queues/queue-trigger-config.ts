// Queue trigger settings from a function's `events:` (`queue:` and Serverless `sqs:`), validated
// once with defaults, and messages naming the path and the fix.

import { NimbusError } from '../../errors.js';
import { checkQueueName } from '../../services/queues/queue-settings.js';

/** A queue trigger's settings, fully defaulted. */
export interface QueueTriggerSettings {
  /** The queue polled. */
  readonly queue: string;
  /** Most messages per invocation, 1-10000 (10 on FIFO queues). @default 10 */
  readonly batchSize: number;
  /** Seconds to wait to fill a batch before invoking, 0-300. @default 0 */
  readonly batchWindow: number;
  /** Batches of this trigger invoked at once (on each node), 1-1000. @default 2 */
  readonly maxConcurrency: number;
  /** The function reports failed records in `batchItemFailures` (ReportBatchItemFailures). @default false */
  readonly reportBatchItemFailures: boolean;
  /** False keeps the trigger stored but not polling. @default true */
  readonly enabled: boolean;
}

/** Defaults of {@link QueueTriggerSettings}. */
export const QUEUE_TRIGGER_DEFAULTS = Object.freeze({
  batchSize: 10,
  batchWindow: 0,
  maxConcurrency: 2,
  reportBatchItemFailures: false,
  enabled: true,
});

const ARN = /^arn:aws:sqs:[^:]*:[^:]*:([^:]+)$/;

function invalid(message: string): NimbusError {
  return new NimbusError('InvalidParameterValueException', message);
}

function wholeNumber(where: string, value: unknown, min: number, max: number, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw invalid(
      `${where}: ${JSON.stringify(value)} is not valid; use a whole number from ${min} to ${max}.`,
    );
  }
  return value;
}

/** The queue name of `value`: a name, or an SQS ARN (`arn:aws:sqs:region:account:name`). */
function queueName(where: string, value: unknown): string {
  if (typeof value !== 'string' || value === '') {
    throw invalid(
      `${where}: name the queue (e.g. \`queue: jobs\`) or give its ARN (arn:aws:sqs:<region>:<account>:jobs).`,
    );
  }
  const name = ARN.exec(value)?.[1] ?? value;
  checkQueueName(name, where);
  return name;
}

/**
 * Parses one `events` entry of type `queue` or `sqs` (the value as written); `where` is its path
 * (`functions.work.events[1].queue`).
 */
export function parseQueueTrigger(type: string, value: unknown, where: string): QueueTriggerSettings {
  if (typeof value === 'string') {
    return Object.freeze({ queue: queueName(where, value), ...QUEUE_TRIGGER_DEFAULTS });
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw invalid(
      `${where}: use \`${type}: <queue>\` or \`${type}: { ${type === 'sqs' ? 'arn' : 'queue'}: <queue>, batchSize: 10 }\`.`,
    );
  }
  const v = value as Record<string, unknown>;
  const known =
    type === 'sqs'
      ? [
          'arn',
          'queue',
          'batchSize',
          'maximumBatchingWindow',
          'functionResponseType',
          'enabled',
          'maximumConcurrency',
          'maxConcurrency',
        ]
      : [
          'queue',
          'arn',
          'name',
          'batchSize',
          'batchWindow',
          'maxConcurrency',
          'functionResponseType',
          'enabled',
        ];
  for (const key of Object.keys(v)) {
    if (!known.includes(key)) throw invalid(`${where}: unknown option '${key}'; use ${known.join(', ')}.`);
  }
  const queue = queueName(
    `${where}.${type === 'sqs' ? 'arn' : 'queue'}`,
    v['queue'] ?? v['arn'] ?? v['name'],
  );
  const fifo = queue.endsWith('.fifo');
  const batchSize = wholeNumber(
    `${where}.batchSize`,
    v['batchSize'],
    1,
    fifo ? 10 : 10_000,
    QUEUE_TRIGGER_DEFAULTS.batchSize,
  );
  const windowKey = type === 'sqs' ? 'maximumBatchingWindow' : 'batchWindow';
  const batchWindow = wholeNumber(`${where}.${windowKey}`, v[windowKey], 0, 300, 0);
  const concurrencyKey = v['maximumConcurrency'] !== undefined ? 'maximumConcurrency' : 'maxConcurrency';
  const maxConcurrency = wholeNumber(
    `${where}.${concurrencyKey}`,
    v[concurrencyKey],
    1,
    1000,
    QUEUE_TRIGGER_DEFAULTS.maxConcurrency,
  );
  const responseType = v['functionResponseType'];
  if (responseType !== undefined && responseType !== 'ReportBatchItemFailures') {
    throw invalid(
      `${where}.functionResponseType: '${String(responseType)}' is not valid; use ReportBatchItemFailures or leave it out.`,
    );
  }
  const enabled = v['enabled'] ?? true;
  if (typeof enabled !== 'boolean') throw invalid(`${where}.enabled: use true or false.`);
  return Object.freeze({
    queue,
    batchSize,
    batchWindow,
    maxConcurrency,
    reportBatchItemFailures: responseType === 'ReportBatchItemFailures',
    enabled,
  });
}
