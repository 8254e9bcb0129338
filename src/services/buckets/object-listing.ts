// ListObjectsV2 over the store's ordered key index: prefix, delimiter (common prefixes skipped
// with one index seek each), max keys and opaque continuation tokens.

import { NimbusError } from '../../errors.js';
import type { KeyRange, ObjectStore, StoredObject } from '../../store/ports/objects.js';

/** One page, before mapping rows to the public ObjectInfo. */
export interface ListedPage {
  readonly objects: StoredObject[];
  readonly commonPrefixes: string[];
  readonly isTruncated: boolean;
  readonly nextContinuationToken?: string | undefined;
}

/** Where a listing resumes: after a key (exclusive), or from a key (inclusive, past a common prefix). */
type Cursor = { readonly after: string } | { readonly from: string } | undefined;

/**
 * The smallest string greater than every string starting with `prefix`, in code point order
 * (= UTF-8 byte order, the order SQLite BINARY and PostgreSQL "C" compare in): drop trailing
 * U+10FFFF, then increment the last code point (stepping over the surrogate range).
 * Undefined when there is none (the prefix is all U+10FFFF).
 */
export function prefixSuccessor(prefix: string): string | undefined {
  const cps = Array.from(prefix, (c) => c.codePointAt(0)!);
  while (cps.length > 0 && cps[cps.length - 1] === 0x10ffff) cps.pop();
  if (cps.length === 0) return undefined;
  let last = cps.pop()! + 1;
  if (last === 0xd800) last = 0xe000;
  return String.fromCodePoint(...cps, last);
}

function encodeToken(cursor: NonNullable<Cursor>): string {
  return Buffer.from(JSON.stringify('after' in cursor ? { a: cursor.after } : { f: cursor.from })).toString(
    'base64url',
  );
}

function decodeToken(token: string): NonNullable<Cursor> {
  try {
    const v = JSON.parse(Buffer.from(token, 'base64url').toString('utf8')) as { a?: unknown; f?: unknown };
    if (typeof v.a === 'string') return { after: v.a };
    if (typeof v.f === 'string') return { from: v.f };
  } catch {
    // fall through
  }
  throw new NimbusError(
    'InvalidParameterValueException',
    'The continuation token is not one this server issued; pass the nextContinuationToken of the previous page unchanged.',
  );
}

/** List one page of `bucket` (the bucket is known to exist). */
export async function listPage(
  store: ObjectStore,
  bucket: string,
  options: {
    prefix?: string | undefined;
    delimiter?: string | undefined;
    maxKeys?: number | undefined;
    continuationToken?: string | undefined;
    startAfter?: string | undefined;
  },
): Promise<ListedPage> {
  for (const [name, value] of Object.entries(options)) {
    // PostgreSQL text cannot hold NUL: no key contains one, so no listing parameter may.
    if (typeof value === 'string' && value.includes('\u0000')) {
      throw new NimbusError('InvalidParameterValueException', `${name} must not contain NUL characters.`);
    }
  }
  const prefix = options.prefix ?? '';
  const delimiter = options.delimiter || undefined;
  const maxKeys = options.maxKeys ?? 1000;
  if (!Number.isInteger(maxKeys) || maxKeys < 0 || maxKeys > 1000) {
    throw new NimbusError(
      'InvalidParameterValueException',
      `maxKeys must be an integer from 0 to 1000, not ${maxKeys}.`,
    );
  }
  let cursor: Cursor;
  if (options.continuationToken) cursor = decodeToken(options.continuationToken);
  else if (options.startAfter) cursor = { after: options.startAfter };
  const below = prefix === '' ? undefined : prefixSuccessor(prefix);
  const objects: StoredObject[] = [];
  const commonPrefixes: string[] = [];
  if (maxKeys === 0) return { objects, commonPrefixes, isTruncated: false };

  for (;;) {
    const range: KeyRange = {
      // Both bounds may apply: a startAfter below the prefix still starts no earlier than it.
      ...(prefix === '' ? {} : { from: prefix }),
      ...cursor,
      below,
      limit: maxKeys - objects.length - commonPrefixes.length + 1,
    };
    const rows = await store.listObjects(bucket, range);
    let seeked = false;
    for (const row of rows) {
      if (objects.length + commonPrefixes.length === maxKeys) {
        return { objects, commonPrefixes, isTruncated: true, nextContinuationToken: encodeToken(cursor!) };
      }
      const cut = delimiter === undefined ? -1 : row.key.indexOf(delimiter, prefix.length);
      if (cut < 0) {
        objects.push(row);
        cursor = { after: row.key };
        continue;
      }
      const common = row.key.slice(0, cut + delimiter!.length);
      commonPrefixes.push(common);
      // Every key under `common` is contiguous in key order: seek past them all at once.
      const next = prefixSuccessor(common);
      if (next === undefined) return { objects, commonPrefixes, isTruncated: false };
      cursor = { from: next };
      seeked = true;
      break;
    }
    if (!seeked && rows.length < range.limit) return { objects, commonPrefixes, isTruncated: false };
  }
}
