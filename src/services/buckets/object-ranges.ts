// Resolving an HTTP-style byte range against an object's size (S3 GetObject `Range`).

import { NimbusError } from '../../errors.js';
import type { ByteRange } from './bucket-types.js';

/**
 * Resolve `{ start, end }` (end inclusive, clamped to the object) or `{ suffixLength }` (the last
 * n bytes) against `size`. A range that selects nothing throws `InvalidRange` (416) with a
 * `Content-Range: bytes *\/size` header, as S3 answers.
 */
export function resolveRange(
  range: { start?: number; end?: number; suffixLength?: number },
  size: number,
): ByteRange {
  const unsatisfiable = (): NimbusError =>
    new NimbusError(
      'InvalidRange',
      `The requested range is not satisfiable: the object is ${size} bytes. Ask for bytes within 0-${Math.max(0, size - 1)}.`,
      { headers: { 'content-range': `bytes */${size}` } },
    );
  const valid = (n: number | undefined): boolean => n === undefined || (Number.isSafeInteger(n) && n >= 0);
  if (!valid(range.start) || !valid(range.end) || !valid(range.suffixLength)) throw unsatisfiable();
  if (range.suffixLength !== undefined && range.start === undefined) {
    if (range.suffixLength === 0 || size === 0) throw unsatisfiable();
    return { start: Math.max(0, size - range.suffixLength), end: size - 1 };
  }
  const start = range.start ?? 0;
  if (start >= size) throw unsatisfiable();
  const end = Math.min(range.end ?? size - 1, size - 1);
  if (end < start) throw unsatisfiable();
  return { start, end };
}
