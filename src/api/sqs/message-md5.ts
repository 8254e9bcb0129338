// The MD5 digests SQS returns with messages: of the body, and of the message attributes by SQS's
// documented encoding (the SDKs recompute the body digest and reject a response that differs).

import { createHash } from 'node:crypto';
import type { MessageAttributes } from '../../services/queues/queue-types.js';

/** Transport type byte of `String` and `Number` (and their custom `.suffix` types) attributes. */
const TRANSPORT_STRING = 1;
/** Transport type byte of `Binary` attributes. */
const TRANSPORT_BINARY = 2;

/** Hex MD5 of a message body, as `MD5OfMessageBody` / `MD5OfBody`. */
export function md5OfBody(body: string): string {
  return createHash('md5').update(body, 'utf8').digest('hex');
}

/**
 * Hex MD5 of message attributes, as `MD5OfMessageAttributes` (SQS developer guide, "Calculating
 * the MD5 message digest for message attributes"): for each attribute in name order, the name,
 * the data type and the value, each prefixed by its length as a 4-byte big-endian integer, with a
 * transport byte (1 string/number, 2 binary) before the value. Undefined when there are none,
 * because SQS then omits the field.
 */
export function md5OfMessageAttributes(attributes: MessageAttributes | undefined): string | undefined {
  if (attributes === undefined) return undefined;
  // Code-unit order, which is what SQS (Java String.compareTo) sorts by.
  const names = Object.keys(attributes).sort();
  if (names.length === 0) return undefined;
  const hash = createHash('md5');
  const lengthPrefixed = (bytes: Buffer): void => {
    const len = Buffer.alloc(4);
    len.writeUInt32BE(bytes.length, 0);
    hash.update(len);
    hash.update(bytes);
  };
  for (const name of names) {
    const value = attributes[name]!;
    lengthPrefixed(Buffer.from(name, 'utf8'));
    lengthPrefixed(Buffer.from(value.DataType, 'utf8'));
    if (value.BinaryValue !== undefined && value.DataType.startsWith('Binary')) {
      hash.update(Buffer.of(TRANSPORT_BINARY));
      lengthPrefixed(Buffer.from(value.BinaryValue, 'base64'));
    } else {
      hash.update(Buffer.of(TRANSPORT_STRING));
      lengthPrefixed(Buffer.from(value.StringValue ?? '', 'utf8'));
    }
  }
  return hash.digest('hex');
}
