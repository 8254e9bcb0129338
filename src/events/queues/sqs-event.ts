// The SQS event a queue trigger invokes a function with (Lambda's `Records[]` shape), and the
// reading of its partial batch response (`batchItemFailures`).

import { createHash } from 'node:crypto';
import type { ReceivedMessage } from '../../services/queues/queue-types.js';

/** One record of the event, as Lambda's SQS event source writes it. */
export interface SqsEventRecord {
  readonly messageId: string;
  readonly receiptHandle: string;
  readonly body: string;
  readonly attributes: Readonly<Record<string, string>>;
  readonly messageAttributes: Readonly<Record<string, SqsEventAttribute>>;
  readonly md5OfBody: string;
  readonly eventSource: 'aws:sqs';
  readonly eventSourceARN: string;
  readonly awsRegion: string;
}

/** A message attribute in the event (lower camel case, unlike the SQS API). */
export interface SqsEventAttribute {
  readonly dataType: string;
  readonly stringValue?: string;
  readonly binaryValue?: string;
  readonly stringListValues: string[];
  readonly binaryListValues: string[];
}

/** The event record of a received message of queue `arn`. */
export function toSqsRecord(
  m: ReceivedMessage,
  arn: string,
  region: string,
  senderId: string,
): SqsEventRecord {
  const attributes: Record<string, string> = {
    ApproximateReceiveCount: String(m.receiveCount),
    SentTimestamp: String(m.sentAt),
    SenderId: senderId,
    ApproximateFirstReceiveTimestamp: String(m.firstReceivedAt),
  };
  if (m.sequenceNumber !== undefined) attributes['SequenceNumber'] = m.sequenceNumber;
  if (m.groupId !== undefined) attributes['MessageGroupId'] = m.groupId;
  if (m.deduplicationId !== undefined) attributes['MessageDeduplicationId'] = m.deduplicationId;
  if (m.traceHeader !== undefined) attributes['AWSTraceHeader'] = m.traceHeader;
  const messageAttributes: Record<string, SqsEventAttribute> = {};
  for (const [name, v] of Object.entries(m.attributes)) {
    messageAttributes[name] = {
      dataType: v.DataType,
      ...(v.StringValue !== undefined ? { stringValue: v.StringValue } : {}),
      ...(v.BinaryValue !== undefined ? { binaryValue: v.BinaryValue } : {}),
      stringListValues: [],
      binaryListValues: [],
    };
  }
  return {
    messageId: m.messageId,
    receiptHandle: m.receiptHandle,
    body: m.body,
    attributes,
    messageAttributes,
    md5OfBody: createHash('md5').update(m.body).digest('hex'),
    eventSource: 'aws:sqs',
    eventSourceARN: arn,
    awsRegion: region,
  };
}

/**
 * The message ids a ReportBatchItemFailures response marks as failed, or 'all' when the response
 * is not a valid partial batch response (Lambda then treats the whole batch as failed).
 * An empty or null response, or an empty list, means every record succeeded.
 */
export function failedItems(payload: Buffer, batchIds: ReadonlySet<string>): ReadonlySet<string> | 'all' {
  const text = payload.toString().trim();
  if (text === '' || text === 'null') return new Set();
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return 'all';
  }
  if (parsed === null || typeof parsed !== 'object') return new Set();
  const list = (parsed as { batchItemFailures?: unknown }).batchItemFailures;
  if (list === undefined || list === null) return new Set();
  if (!Array.isArray(list)) return 'all';
  const out = new Set<string>();
  for (const item of list) {
    const id = (item as { itemIdentifier?: unknown } | null)?.itemIdentifier;
    // An empty, missing or unknown identifier fails the whole batch (Lambda's rule).
    if (typeof id !== 'string' || id === '' || !batchIds.has(id)) return 'all';
    out.add(id);
  }
  return out;
}
