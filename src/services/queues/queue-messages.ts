// Message validation (SQS's limits) and the mapping of stored messages to received ones.

import { createHash } from 'node:crypto';
import { NimbusError } from '../../errors.js';
import type { ClaimedMessage } from '../../store/ports/queues.js';
import { encodeReceiptHandle } from './receipt-handle.js';
import type { MessageAttributes, QueueSettings, ReceivedMessage, SendMessageInput } from './queue-types.js';

/** How long a FIFO deduplication id suppresses duplicates (SQS: 5 minutes). */
export const DEDUP_WINDOW_MS = 5 * 60_000;

/** Largest batch (SQS's). */
export const MAX_BATCH_ENTRIES = 10;

const ATTRIBUTE_NAME = /^(?!aws\.|amazon\.)(?!\.)[A-Za-z0-9_.-]{1,256}$/i;
const FIFO_ID = /^[\x21-\x7e]{1,128}$/;
/** What SQS refuses in a body: #x9 #xA #xD #x20-#xD7FF #xE000-#xFFFD #x10000-#x10FFFF are allowed. */
// eslint-disable-next-line no-control-regex -- the allowed set is defined by control characters
const INVALID_CHARACTERS = /[^\x09\x0A\x0D\x20-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/u;
const BATCH_ID = /^[A-Za-z0-9_-]{1,80}$/;
/**
 * Where a message's `AWSTraceHeader` is kept: a key of the stored attributes JSON that no user
 * attribute can have (`#` is not allowed in names). Why there and not a column: it travels with
 * the attributes wherever a message goes (a redrive to the dead-letter queue) with no migration.
 */
const TRACE_KEY = '#AWSTraceHeader';
/** An X-Ray header: printable ASCII, bounded (SQS does not count it toward the message size). */
const TRACE_HEADER = /^[\x20-\x7e]{1,2048}$/;

function invalid(message: string): NimbusError {
  return new NimbusError('InvalidParameterValueException', message);
}

/** A send, validated against the queue's settings. */
export interface ValidatedSend {
  readonly body: string;
  readonly attributesJson: string | undefined;
  readonly delaySeconds: number;
  readonly groupId: string | undefined;
  readonly dedupId: string | undefined;
}

/** Validates one send for `queue` (throws InvalidParameterValueException naming the fix). */
export function validateSend(queue: string, settings: QueueSettings, input: SendMessageInput): ValidatedSend {
  const { body } = input;
  if (typeof body !== 'string' || body.length === 0) {
    throw invalid(`queue '${queue}': the message body must be a non-empty string.`);
  }
  if (INVALID_CHARACTERS.test(body)) {
    throw new NimbusError(
      'InvalidMessageContents',
      `queue '${queue}': the message body has characters SQS does not allow (control characters other than tab, newline and carriage return, or unpaired surrogates); encode binary data as base64.`,
    );
  }
  const attributes = validateAttributes(input.attributes);
  const size = Buffer.byteLength(body) + attributes.size;
  if (size > settings.maximumMessageSize) {
    throw invalid(
      `queue '${queue}': the message is ${size} bytes (body and attributes); the queue's maximumMessageSize is ` +
        `${settings.maximumMessageSize}. Send less, or store the payload in a bucket and send its key.`,
    );
  }
  let delaySeconds = settings.delaySeconds;
  if (input.delaySeconds !== undefined) {
    if (settings.fifo) {
      throw invalid(
        `queue '${queue}': FIFO queues take no per-message delaySeconds; set delaySeconds on the queue.`,
      );
    }
    if (!Number.isInteger(input.delaySeconds) || input.delaySeconds < 0 || input.delaySeconds > 900) {
      throw invalid(
        `queue '${queue}': delaySeconds ${String(input.delaySeconds)} is not valid; use 0 to 900.`,
      );
    }
    delaySeconds = input.delaySeconds;
  }
  const { groupId } = input;
  let dedupId = input.deduplicationId;
  if (settings.fifo) {
    if (groupId === undefined || !FIFO_ID.test(groupId)) {
      throw invalid(
        `queue '${queue}' is FIFO: every message needs a groupId of 1-128 printable ASCII characters (messages of one group are delivered in order).`,
      );
    }
    if (dedupId === undefined) {
      if (!settings.contentBasedDeduplication) {
        throw invalid(
          `queue '${queue}' is FIFO without contentBasedDeduplication: give each message a deduplicationId, or enable contentBasedDeduplication on the queue.`,
        );
      }
      dedupId = createHash('sha256').update(body).digest('hex');
    } else if (!FIFO_ID.test(dedupId)) {
      throw invalid(`queue '${queue}': deduplicationId must be 1-128 printable ASCII characters.`);
    }
  } else {
    if (dedupId !== undefined) {
      throw invalid(
        `queue '${queue}' is a standard queue: deduplicationId is only for FIFO queues (name ending in .fifo).`,
      );
    }
    if (groupId !== undefined && !FIFO_ID.test(groupId)) {
      throw invalid(`queue '${queue}': groupId must be 1-128 printable ASCII characters.`);
    }
  }
  return {
    body,
    attributesJson: withTrace(attributes.json, input.traceHeader),
    delaySeconds,
    groupId,
    dedupId,
  };
}

/** The attributes JSON with the trace header added under {@link TRACE_KEY}; a malformed header is left out. */
function withTrace(json: string | undefined, traceHeader: string | undefined): string | undefined {
  if (typeof traceHeader !== 'string' || !TRACE_HEADER.test(traceHeader)) return json;
  const attrs = json === undefined ? {} : (JSON.parse(json) as Record<string, unknown>);
  return JSON.stringify({ ...attrs, [TRACE_KEY]: traceHeader });
}

function validateAttributes(attrs: MessageAttributes | undefined): {
  json: string | undefined;
  size: number;
} {
  if (attrs === undefined || attrs === null) return { json: undefined, size: 0 };
  if (typeof attrs !== 'object' || Array.isArray(attrs)) {
    throw invalid('message attributes must be a mapping of name to { DataType, StringValue | BinaryValue }.');
  }
  const names = Object.keys(attrs);
  if (names.length === 0) return { json: undefined, size: 0 };
  if (names.length > 10) throw invalid(`a message has ${names.length} attributes; the limit is 10.`);
  let size = 0;
  for (const name of names) {
    const value = attrs[name] as Partial<{ DataType: unknown; StringValue: unknown; BinaryValue: unknown }>;
    if (!ATTRIBUTE_NAME.test(name) || name.endsWith('.') || name.includes('..')) {
      throw invalid(
        `message attribute name '${name}' is not valid; use letters, digits, _ - . (not starting with aws. or amazon.).`,
      );
    }
    const type = value?.DataType;
    if (typeof type !== 'string' || !/^(String|Number|Binary)(\.[A-Za-z0-9_.-]{1,200})?$/.test(type)) {
      throw invalid(
        `message attribute '${name}': DataType must be String, Number or Binary (optionally .suffix).`,
      );
    }
    const binary = type.startsWith('Binary');
    const field = binary ? value.BinaryValue : value.StringValue;
    if (typeof field !== 'string' || field.length === 0) {
      throw invalid(
        `message attribute '${name}': give a non-empty ${binary ? 'BinaryValue (base64)' : 'StringValue'}.`,
      );
    }
    if (type.startsWith('Number') && !Number.isFinite(Number(field))) {
      throw invalid(`message attribute '${name}': '${field}' is not a number.`);
    }
    size +=
      Buffer.byteLength(name) +
      Buffer.byteLength(type) +
      (binary ? Buffer.from(field, 'base64').length : Buffer.byteLength(field));
  }
  const clean = Object.fromEntries(
    names.map((n) => {
      const v = attrs[n]!;
      return [
        n,
        v.DataType.startsWith('Binary')
          ? { DataType: v.DataType, BinaryValue: v.BinaryValue }
          : { DataType: v.DataType, StringValue: v.StringValue },
      ];
    }),
  );
  return { json: JSON.stringify(clean), size };
}

/** Checks a batch's entries: 1-10, distinct well-formed ids (SQS's batch errors). */
export function checkBatch(entries: ReadonlyArray<{ readonly id: string }>): void {
  if (!Array.isArray(entries) || entries.length === 0) {
    throw new NimbusError('EmptyBatchRequest', 'The batch has no entries; send 1 to 10.');
  }
  if (entries.length > MAX_BATCH_ENTRIES) {
    throw new NimbusError(
      'TooManyEntriesInBatchRequest',
      `The batch has ${entries.length} entries; the limit is 10. Split it.`,
    );
  }
  const seen = new Set<string>();
  for (const e of entries) {
    if (typeof e.id !== 'string' || !BATCH_ID.test(e.id)) {
      throw new NimbusError(
        'InvalidBatchEntryId',
        `Batch entry id '${String(e.id)}' is not valid; use 1-80 letters, digits, - and _.`,
      );
    }
    if (seen.has(e.id)) {
      throw new NimbusError(
        'BatchEntryIdsNotDistinct',
        `Batch entry id '${e.id}' is used twice; give each entry its own id.`,
      );
    }
    seen.add(e.id);
  }
}

/** A FIFO sequence number as SQS writes them (a 20-digit decimal string). */
export function sequenceNumber(seq: number): string {
  return String(seq).padStart(20, '0');
}

/** A stored, claimed message as the receive returns it. */
export function toReceivedMessage(m: ClaimedMessage, fifo: boolean): ReceivedMessage {
  const stored = m.attributes === null ? {} : (JSON.parse(m.attributes) as Record<string, unknown>);
  const { [TRACE_KEY]: traceHeader, ...attributes } = stored;
  return {
    messageId: m.messageId,
    receiptHandle: encodeReceiptHandle(m.seq, m.receipt),
    body: m.body,
    attributes: attributes as MessageAttributes,
    ...(typeof traceHeader === 'string' ? { traceHeader } : {}),
    receiveCount: m.receiveCount,
    sentAt: m.sentAt,
    firstReceivedAt: m.firstReceivedAt,
    ...(m.groupId === null ? {} : { groupId: m.groupId }),
    ...(fifo && m.dedupId !== null ? { deduplicationId: m.dedupId } : {}),
    ...(fifo ? { sequenceNumber: sequenceNumber(m.seq) } : {}),
  };
}
