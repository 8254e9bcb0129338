// The storage quotas of resources and logs: their defaults, and how server options set them.

import { NimbusError } from '../errors.js';
import type { QuotaName } from '../store/ports/quotas.js';

const GiB = 1024 ** 3;

/**
 * Storage limits. Why per resource (each bucket, queue, table) rather than summed per app:
 * resource names are global and two apps may declare and share one bucket or queue, so a sum
 * per app would charge one app for another's writes; and a function's token reaches only the
 * resources its app declares, which the operator controls at deploy. Logs have one owner, so
 * theirs is per app.
 */
export interface StorageQuotas {
  /** Bytes of one bucket's objects plus its unfinished multipart parts. @default 10 GiB */
  readonly bucketBytes: number;
  /** Objects in one bucket. @default 1_000_000 */
  readonly bucketObjects: number;
  /** Messages in one queue (visible, in flight and delayed). @default 1_000_000 */
  readonly queueMessages: number;
  /** Items in one table. @default 1_000_000 */
  readonly tableItems: number;
  /** Characters of one table's items as JSON. @default 1 GiB */
  readonly tableBytes: number;
  /** Log text kept per app; the retention sweep drops an app's oldest lines beyond it. @default 1 GiB */
  readonly logBytesPerApp: number;
}

/** The defaults of {@link StorageQuotas}. */
export const DEFAULT_STORAGE_QUOTAS: StorageQuotas = Object.freeze({
  bucketBytes: 10 * GiB,
  bucketObjects: 1_000_000,
  queueMessages: 1_000_000,
  tableItems: 1_000_000,
  tableBytes: 1 * GiB,
  logBytesPerApp: 1 * GiB,
});

/** Validates `input` (server options, `--quota-*` flags) over the defaults. */
export function compileStorageQuotas(input: Partial<Record<QuotaName, number>> = {}): StorageQuotas {
  const out: Record<string, number> = { ...DEFAULT_STORAGE_QUOTAS };
  for (const [name, value] of Object.entries(input)) {
    if (value === undefined) continue;
    if (!(name in DEFAULT_STORAGE_QUOTAS)) {
      throw new NimbusError(
        'InvalidConfigError',
        `quotas.${name} is not a quota; use one of ${Object.keys(DEFAULT_STORAGE_QUOTAS).join(', ')}.`,
      );
    }
    if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 1) {
      throw new NimbusError(
        'InvalidConfigError',
        `quotas.${name} must be a whole number of at least 1; got ${JSON.stringify(value)}.`,
      );
    }
    out[name] = value;
  }
  return Object.freeze(out as unknown as StorageQuotas);
}
