// Order-preserving encodings of key values, so that SQL's bytewise text order is the key type's order.

import { NimbusError } from '../../errors.js';
import type { KeyType } from '../../store/ports/documents.js';

/**
 * Encode a number so that comparing encodings as strings orders them numerically: the IEEE 754
 * double's bits, big-endian, with the sign bit flipped for positives and every bit flipped for
 * negatives, as 16 lowercase hex digits (0-9 < a-f in ASCII, so bytewise order is numeric order).
 * -0 encodes as 0 (they are equal keys).
 */
export function encodeNumber(value: number): string {
  const buf = Buffer.alloc(8);
  buf.writeDoubleBE(value === 0 ? 0 : value);
  if ((buf[0]! & 0x80) !== 0) {
    for (let i = 0; i < 8; i++) buf[i] = ~buf[i]! & 0xff;
  } else {
    buf[0] = buf[0]! | 0x80;
  }
  return buf.toString('hex');
}

/** The inverse of {@link encodeNumber}. */
export function decodeNumber(encoded: string): number {
  const buf = Buffer.from(encoded, 'hex');
  if ((buf[0]! & 0x80) !== 0) buf[0] = buf[0]! & 0x7f;
  else for (let i = 0; i < 8; i++) buf[i] = ~buf[i]! & 0xff;
  return buf.readDoubleBE();
}

/** Encode a key value of `type`; throws a ValidationException naming `what` on a wrong type. */
export function encodeKey(type: KeyType, value: unknown, what: string): string {
  if (type === 'N') {
    if (typeof value !== 'number' || !Number.isFinite(value)) {
      throw new NimbusError(
        'ValidationException',
        `${what} must be a finite number (the key is declared type number), got ${describe(value)}.`,
      );
    }
    return encodeNumber(value);
  }
  if (typeof value !== 'string' || value === '') {
    throw new NimbusError(
      'ValidationException',
      `${what} must be a non-empty string (the key is declared type string), got ${describe(value)}.`,
    );
  }
  return value;
}

/** The value a sort key encoding stands for. */
export function decodeKey(type: KeyType, encoded: string): string | number {
  return type === 'N' ? decodeNumber(encoded) : encoded;
}

/**
 * The smallest string greater than every string starting with `prefix` in code point order
 * (= UTF-8 byte order), or undefined when there is none (a prefix of only U+10FFFF).
 * Used as the exclusive upper bound of `begins_with`, so the range stays an index range.
 */
export function prefixSuccessor(prefix: string): string | undefined {
  const points = [...prefix];
  while (points.length > 0) {
    const last = points.pop()!.codePointAt(0)!;
    if (last < 0x10ffff) {
      // Skip the surrogate block: those are not code points a valid string holds.
      const next = last + 1 === 0xd800 ? 0xe000 : last + 1;
      return points.join('') + String.fromCodePoint(next);
    }
  }
  return undefined;
}

function describe(value: unknown): string {
  if (value === undefined) return 'nothing';
  if (value === null) return 'null';
  return `${typeof value} ${JSON.stringify(value)}`;
}
