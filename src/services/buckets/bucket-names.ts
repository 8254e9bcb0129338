// Validation of bucket names, object keys and user metadata, with errors that name the fix.

import { NimbusError } from '../../errors.js';

/** Longest key, in UTF-8 bytes (as S3). */
export const MAX_KEY_BYTES = 1024;

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

const BUCKET_NAME = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;

/** True when `name` is a valid bucket name (S3's rules for new buckets, minus IP-address forms). */
export function isValidBucketName(name: string): boolean {
  return BUCKET_NAME.test(name) && !name.includes('..');
}

/** Throws `InvalidBucketName` unless `name` is valid. */
export function checkBucketName(name: string): void {
  if (!isValidBucketName(name)) {
    throw new NimbusError(
      'InvalidBucketName',
      `Invalid bucket name '${name}': use 3-63 lowercase letters, digits, dots and hyphens, starting and ending with a letter or digit (e.g. 'images').`,
    );
  }
}

/** Throws `InvalidParameterValueException` naming the nimbus.yml key unless every declared bucket name is valid. */
export function checkDeclaredBuckets(names: Iterable<string>): void {
  for (const name of names) {
    try {
      checkBucketName(name);
    } catch (err) {
      throw new NimbusError(
        'InvalidParameterValueException',
        `resources.buckets.${name}: ${(err as Error).message}`,
      );
    }
  }
}

/** Throws unless `key` is 1-1024 bytes of well-formed UTF-8 without NUL. */
export function checkKey(key: string): void {
  if (key.length === 0) {
    throw new NimbusError(
      'InvalidParameterValueException',
      'The object key is empty; give a key of 1-1024 bytes.',
    );
  }
  if (LONE_SURROGATE.test(key) || key.includes('\u0000')) {
    // PostgreSQL text cannot hold NUL, and a lone surrogate has no UTF-8 form.
    throw new NimbusError(
      'InvalidParameterValueException',
      'The object key must be valid UTF-8 text without NUL characters; rename the object.',
    );
  }
  const bytes = Buffer.byteLength(key, 'utf8');
  if (bytes > MAX_KEY_BYTES) {
    throw new NimbusError(
      'KeyTooLongError',
      `The object key is ${bytes} bytes of UTF-8; the maximum is ${MAX_KEY_BYTES}. Use a shorter key.`,
    );
  }
}

/** Lowercase the names of user metadata and check they are header-safe. */
export function normalizeMetadata(
  metadata: Readonly<Record<string, string>> | undefined,
): Record<string, string> {
  const out: Record<string, string> = {};
  let total = 0;
  for (const [name, value] of Object.entries(metadata ?? {})) {
    const lower = name.toLowerCase();
    if (!/^[a-z0-9!#$%&'*+.^_`|~-]+$/.test(lower)) {
      throw new NimbusError(
        'InvalidParameterValueException',
        `User metadata name '${name}' is not a valid HTTP header name; use letters, digits and '-'.`,
      );
    }
    if (typeof value !== 'string') {
      throw new NimbusError('InvalidParameterValueException', `User metadata '${name}' must be a string.`);
    }
    total += lower.length + Buffer.byteLength(value);
    out[lower] = value;
  }
  // S3 caps user metadata at 2 KB.
  if (total > 2048) {
    throw new NimbusError(
      'InvalidParameterValueException',
      `User metadata is ${total} bytes; the maximum is 2048 (names plus values). Store larger data in the object.`,
    );
  }
  return out;
}
