// Usage plan enforcement: per-key token buckets (in memory, per node) and quota counters kept in
// memory and added to the store in batches, off the request path.

import type { ApiKeyStore } from '../../store/store.js';
import type { QuotaPeriod, UsagePlanSpec } from './auth-spec.js';
import { TokenBucket } from './token-bucket.js';

/** Options of the {@link UsageMeter}. */
export interface UsageMeterOptions {
  /** How often pending counts are written. @default 1000 */
  readonly flushMs?: number;
  /** A key's pending count that triggers an early write. @default 100 */
  readonly flushBatch?: number;
  /** Reports a failed write (the counts are kept and retried). */
  readonly onError?: (err: unknown) => void;
}

/** The outcome of {@link UsageMeter.admit}. */
export type Admission =
  | { readonly ok: true }
  | { readonly ok: false; readonly reason: 'rate' | 'quota'; readonly retryAfter: number };

interface Counter {
  /** Total the store reported at the last write or load (every node's requests). */
  base: number;
  /** Counted here, being written. */
  inflight: number;
  /** Counted here, not yet written. */
  pending: number;
}

/** The quota period holding `now`, as stored: `2026-11-22` or `2026-11` (UTC). */
export function periodOf(period: QuotaPeriod, now: number): string {
  const iso = new Date(now).toISOString();
  return period === 'day' ? iso.slice(0, 10) : iso.slice(0, 7);
}

/** Seconds from `now` to the end of its UTC day or month (≥ 1). */
export function secondsLeft(period: QuotaPeriod, now: number): number {
  const d = new Date(now);
  const end =
    period === 'day'
      ? Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate() + 1)
      : Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 1, 1);
  return Math.max(1, Math.ceil((end - now) / 1000));
}

/**
 * Admits requests of API keys against their plans. The quota is exact on one node: a request is
 * counted in memory before it is admitted. Counts reach the store every `flushMs` or after
 * `flushBatch` requests of one key, and each write returns the total of every node, so a key used
 * through several nodes can overrun its quota by at most what the other nodes admitted since
 * their last write: at most (nodes − 1) × max(flushBatch, requests per flushMs) — see docs/gateway.md.
 */
export class UsageMeter {
  readonly #store: ApiKeyStore;
  readonly #flushMs: number;
  readonly #flushBatch: number;
  readonly #onError: (err: unknown) => void;
  readonly #buckets = new Map<string, TokenBucket>();
  readonly #counters = new Map<string, Counter>();
  #timer: NodeJS.Timeout | undefined;
  #flushing: Promise<void> | undefined;
  #stopped = false;

  constructor(store: ApiKeyStore, options: UsageMeterOptions = {}) {
    this.#store = store;
    this.#flushMs = options.flushMs ?? 1000;
    this.#flushBatch = options.flushBatch ?? 100;
    this.#onError = options.onError ?? (() => undefined);
  }

  /** Record a stored total (read when a key is loaded); never lowers what this node knows. */
  seed(keyId: string, period: string, total: number): void {
    const c = this.#counter(`${keyId} ${period}`);
    c.base = Math.max(c.base, total);
  }

  /** Admit one request of `keyId` under `plan`, counting it when admitted. */
  admit(keyId: string, plan: UsagePlanSpec, now = Date.now()): Admission {
    let counter: Counter | undefined;
    if (plan.quota) {
      counter = this.#counter(`${keyId} ${periodOf(plan.quota.period, now)}`);
      if (counter.base + counter.inflight + counter.pending >= plan.quota.limit) {
        return { ok: false, reason: 'quota', retryAfter: secondsLeft(plan.quota.period, now) };
      }
    }
    if (plan.rate !== undefined) {
      const burst = plan.burst ?? Math.max(1, Math.ceil(plan.rate));
      let bucket = this.#buckets.get(keyId);
      if (!bucket || bucket.rate !== plan.rate || bucket.burst !== burst) {
        bucket = new TokenBucket(plan.rate, burst, now);
        this.#buckets.set(keyId, bucket);
      }
      const wait = bucket.take(now);
      if (wait > 0) return { ok: false, reason: 'rate', retryAfter: wait };
    }
    if (counter) {
      counter.pending++;
      this.#schedule(counter.pending >= this.#flushBatch);
    }
    return { ok: true };
  }

  /** Requests of a key counted in a period as this node knows them (store total plus unwritten). */
  used(keyId: string, period: string): number {
    const c = this.#counters.get(`${keyId} ${period}`);
    return c ? c.base + c.inflight + c.pending : 0;
  }

  /** Write every pending count now. */
  flush(): Promise<void> {
    this.#flushing ??= this.#write().finally(() => {
      this.#flushing = undefined;
    });
    return this.#flushing;
  }

  /** Stop the timer and write what is pending. Idempotent. */
  async stop(): Promise<void> {
    this.#stopped = true;
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = undefined;
    await this.flush();
  }

  #counter(key: string): Counter {
    let c = this.#counters.get(key);
    if (!c) this.#counters.set(key, (c = { base: 0, inflight: 0, pending: 0 }));
    return c;
  }

  #schedule(now: boolean): void {
    if (this.#stopped) return;
    if (now) {
      void this.flush();
      return;
    }
    if (this.#timer) return;
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      void this.flush();
    }, this.#flushMs);
  }

  async #write(): Promise<void> {
    const batch: Array<{ key: string; c: Counter; n: number }> = [];
    for (const [key, c] of this.#counters) {
      if (c.pending > 0) {
        batch.push({ key, c, n: c.pending });
        c.inflight += c.pending;
        c.pending = 0;
      }
    }
    if (batch.length === 0) return;
    try {
      const totals = await this.#store.addUsage(
        batch.map(({ key, n }) => {
          const space = key.indexOf(' ');
          return { keyId: key.slice(0, space), period: key.slice(space + 1), count: n };
        }),
      );
      for (const { key, c, n } of batch) {
        c.inflight -= n;
        c.base = Math.max(c.base, totals.get(key) ?? c.base + n);
      }
    } catch (err) {
      for (const { c, n } of batch) {
        c.inflight -= n;
        c.pending += n;
      }
      this.#onError(err);
      this.#schedule(false);
    }
  }
}
