// Storage quotas as the stores enforce them: the limits a write is checked against inside its
// transaction, and the one error a write past a limit gets (shared by every resource kind).

import { NimbusError } from '../../errors.js';

/** The storage quotas, by the server option name that sets each. */
export type QuotaName =
  'bucketBytes' | 'bucketObjects' | 'queueMessages' | 'tableItems' | 'tableBytes' | 'logBytesPerApp';

/** Limits of one bucket: bytes of its objects and unfinished multipart parts, and its objects. */
export interface BucketQuota {
  readonly maxBytes: number;
  readonly maxObjects: number;
}

/** Limits of one table: its items, and the bytes of their JSON (characters). */
export interface TableQuota {
  readonly maxItems: number;
  readonly maxBytes: number;
}

/** What a bucket holds now. */
export interface BucketUsage {
  readonly bytes: number;
  readonly objects: number;
}

function amount(quota: QuotaName, n: number): string {
  if (!/Bytes/.test(quota)) return n.toLocaleString('en-US');
  const units = ['bytes', 'KiB', 'MiB', 'GiB', 'TiB'];
  let v = n;
  let u = 0;
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  return u === 0 ? `${n} bytes` : `${Number(v.toFixed(2))} ${units[u]}`;
}

/**
 * The error of a write that would pass `quota` of `resource` (e.g. "bucket 'photos'"): 403
 * `StorageQuotaExceeded`, naming the limit, the usage, that nothing was written, and the fix.
 */
export function quotaExceeded(
  resource: string,
  quota: QuotaName,
  limit: number,
  usage: number,
  fix: string,
): NimbusError {
  return new NimbusError(
    'StorageQuotaExceeded',
    `${resource} is at its ${quota} quota (${amount(quota, usage)} of ${amount(quota, limit)}); nothing was written. ` +
      `${fix}, or raise the quota (server option quotas.${quota}, \`nimbus start --quota ${quota}=<n>\`).`,
  );
}
