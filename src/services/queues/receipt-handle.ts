// Receipt handles: opaque strings naming one receive of one message (its seq and the receive's token).

import { randomBytes } from 'node:crypto';
import { NimbusError } from '../../errors.js';

/** A new receive token: one per claim, so a later receive of a message gets a new handle. */
export function newReceiptToken(): string {
  return randomBytes(12).toString('base64url');
}

/** The handle of message `seq` received with `token`. */
export function encodeReceiptHandle(seq: number, token: string): string {
  return Buffer.from(`${seq}:${token}`).toString('base64url');
}

/** The seq and token of a handle; throws `ReceiptHandleIsInvalid` for anything not made by {@link encodeReceiptHandle}. */
export function decodeReceiptHandle(handle: string): { seq: number; token: string } {
  const text =
    typeof handle === 'string' && handle.length <= 200 ? Buffer.from(handle, 'base64url').toString() : '';
  const match = /^(\d{1,18}):([A-Za-z0-9_-]{16})$/.exec(text);
  if (match === null) {
    throw new NimbusError(
      'ReceiptHandleIsInvalid',
      `The receipt handle '${String(handle).slice(0, 60)}' is not valid; pass the receiptHandle of a message as received.`,
    );
  }
  return { seq: Number(match[1]), token: match[2]! };
}
