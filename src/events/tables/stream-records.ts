// Change stream records in the DynamoDB Streams event shape, with images as typed AttributeValue JSON.

import { createHash } from 'node:crypto';
import { streamArn } from '../../services/tables/table-types.js';
import type { Item, StreamRecord, StreamViewType, TableDefinition } from '../../store/ports/documents.js';

// A table's stream ARN is part of its description (services/tables); re-exported for the pollers.
export { streamArn };

/** DynamoDB's typed AttributeValue JSON (`{ "S": "x" }`, `{ "N": "1" }`, ...). */
export type AttributeValue =
  | { readonly S: string }
  | { readonly N: string }
  | { readonly BOOL: boolean }
  | { readonly NULL: true }
  | { readonly M: Record<string, AttributeValue> }
  | { readonly L: AttributeValue[] };

/** One plain JSON value as a typed AttributeValue. */
export function toAttributeValue(value: unknown): AttributeValue {
  if (value === null || value === undefined) return { NULL: true };
  if (typeof value === 'string') return { S: value };
  if (typeof value === 'number') return { N: String(value) };
  if (typeof value === 'boolean') return { BOOL: value };
  if (Array.isArray(value)) return { L: value.map(toAttributeValue) };
  return { M: toAttributeMap(value as Item) };
}

/** A plain JSON item as a map of typed AttributeValues. */
export function toAttributeMap(item: Item): Record<string, AttributeValue> {
  const out: Record<string, AttributeValue> = {};
  for (const [k, v] of Object.entries(item)) out[k] = toAttributeValue(v);
  return out;
}

/** One record of a DynamoDB Streams event as Lambda delivers it. */
export interface DynamoDbStreamEventRecord {
  readonly eventID: string;
  readonly eventName: 'INSERT' | 'MODIFY' | 'REMOVE';
  readonly eventVersion: '1.1';
  readonly eventSource: 'aws:dynamodb';
  readonly awsRegion: string;
  readonly dynamodb: {
    readonly ApproximateCreationDateTime: number;
    readonly Keys: Record<string, AttributeValue>;
    readonly NewImage?: Record<string, AttributeValue>;
    readonly OldImage?: Record<string, AttributeValue>;
    readonly SequenceNumber: string;
    readonly SizeBytes: number;
    readonly StreamViewType: StreamViewType;
  };
  readonly eventSourceARN: string;
}

/**
 * `SequenceNumber` as a 21-digit string: DynamoDB's are decimal strings of about that length,
 * and a fixed width keeps string order equal to numeric order.
 */
export function formatSequenceNumber(seq: number): string {
  return String(seq).padStart(21, '0');
}

/** Builds the Lambda event record of one stream record, honouring the table's view type. */
export function toEventRecord(
  record: StreamRecord,
  def: TableDefinition,
  region: string,
  accountId: string,
): DynamoDbStreamEventRecord {
  const arn = streamArn(def, region, accountId);
  const view = def.streamViewType;
  const keys = toAttributeMap(record.keys);
  const newImage =
    record.newImage !== undefined && (view === 'NEW_AND_OLD_IMAGES' || view === 'NEW_IMAGE')
      ? toAttributeMap(record.newImage)
      : undefined;
  const oldImage =
    record.oldImage !== undefined && (view === 'NEW_AND_OLD_IMAGES' || view === 'OLD_IMAGE')
      ? toAttributeMap(record.oldImage)
      : undefined;
  const sizeBytes = Buffer.byteLength(JSON.stringify({ keys, newImage, oldImage }));
  return {
    eventID: createHash('md5').update(`${arn}/${record.seq}`).digest('hex'),
    eventName: record.eventName,
    eventVersion: '1.1',
    eventSource: 'aws:dynamodb',
    awsRegion: region,
    dynamodb: {
      ApproximateCreationDateTime: Math.floor(record.createdAt / 1000),
      Keys: keys,
      ...(newImage === undefined ? {} : { NewImage: newImage }),
      ...(oldImage === undefined ? {} : { OldImage: oldImage }),
      SequenceNumber: formatSequenceNumber(record.seq),
      SizeBytes: sizeBytes,
      StreamViewType: view,
    },
    eventSourceARN: arn,
  };
}
