// API keys: issuing (shown once, stored as sha256), revoking, and the hot-path lookup through a
// short-lived in-memory cache by hash, so a request does not read the store.

import { randomBytes } from 'node:crypto';
import { hashSecret } from '../../auth/credentials.js';
import type { ApiKeyRecord, ApiKeyStore } from '../../store/store.js';
import type { QuotaPeriod } from './auth-spec.js';
import { periodOf, type UsageMeter } from './usage-plans.js';

/** Prefix of gateway API keys, so a leaked one is recognisable. */
export const API_KEY_PREFIX = 'nbk_';

/** A key as created: the record plus the key itself, which is never shown again. */
export interface IssuedApiKey {
  readonly record: ApiKeyRecord;
  readonly key: string;
}

interface CacheEntry {
  readonly record: ApiKeyRecord | undefined;
  readonly at: number;
}

/** Options of the {@link ApiKeyService}. */
export interface ApiKeyServiceOptions {
  /**
   * How long a looked-up key (or its absence) is trusted. Bounds how long a key revoked through
   * another node keeps working here; a revoke through this node applies at once. @default 10000
   */
  readonly cacheMs?: number;
  /** Most cached hashes; the cache is emptied when full (random keys cannot grow it forever). @default 10000 */
  readonly maxEntries?: number;
}

/** Issues, revokes and looks up API keys. */
export class ApiKeyService {
  readonly #store: ApiKeyStore;
  readonly #meter: UsageMeter;
  readonly #cacheMs: number;
  readonly #maxEntries: number;
  readonly #cache = new Map<string, CacheEntry>();
  readonly #loading = new Map<string, Promise<ApiKeyRecord | undefined>>();

  constructor(store: ApiKeyStore, meter: UsageMeter, options: ApiKeyServiceOptions = {}) {
    this.#store = store;
    this.#meter = meter;
    this.#cacheMs = options.cacheMs ?? 10_000;
    this.#maxEntries = options.maxEntries ?? 10_000;
  }

  /** Create a key for `app`'s `plan`; the caller checked that the plan exists. */
  async create(name: string, app: string, plan: string): Promise<IssuedApiKey> {
    const key = API_KEY_PREFIX + randomBytes(30).toString('base64url');
    const record: ApiKeyRecord = {
      id: `key_${randomBytes(8).toString('hex')}`,
      name,
      keyHash: hashSecret(key),
      keyPrefix: key.slice(0, API_KEY_PREFIX.length + 6),
      app,
      plan,
      createdAt: new Date().toISOString(),
    };
    await this.#store.create(record);
    this.#cache.delete(record.keyHash);
    return { record, key };
  }

  /** Revoke by id or name; the key stops working on this node at once. */
  async revoke(idOrName: string): Promise<ApiKeyRecord | undefined> {
    const record = await this.#store.find(idOrName);
    if (!record) return undefined;
    const at = new Date().toISOString();
    await this.#store.revoke(record.id, at);
    this.#cache.set(record.keyHash, {
      record: { ...record, revokedAt: record.revokedAt ?? at },
      at: Date.now(),
    });
    return { ...record, revokedAt: record.revokedAt ?? at };
  }

  /**
   * The live (not revoked) key for a presented value, or undefined. Served from the cache; a
   * miss reads the key and its current quota counters once.
   */
  lookup(
    presented: string,
    periods: readonly QuotaPeriod[],
  ): ApiKeyRecord | undefined | Promise<ApiKeyRecord | undefined> {
    const hash = hashSecret(presented);
    const hit = this.#cache.get(hash);
    if (hit && Date.now() - hit.at < this.#cacheMs) return live(hit.record);
    let loading = this.#loading.get(hash);
    if (!loading) {
      loading = this.#load(hash, periods).finally(() => this.#loading.delete(hash));
      this.#loading.set(hash, loading);
    }
    return loading.then(live);
  }

  async #load(hash: string, periods: readonly QuotaPeriod[]): Promise<ApiKeyRecord | undefined> {
    const record = await this.#store.getByHash(hash);
    if (record && !record.revokedAt) {
      const now = Date.now();
      const wanted = [...new Set(periods.map((p) => periodOf(p, now)))];
      for (const u of await this.#store.getUsage(record.id, wanted))
        this.#meter.seed(record.id, u.period, u.count);
    }
    if (this.#cache.size >= this.#maxEntries) this.#cache.clear();
    this.#cache.set(hash, { record, at: Date.now() });
    return record;
  }
}

function live(record: ApiKeyRecord | undefined): ApiKeyRecord | undefined {
  return record && !record.revokedAt ? record : undefined;
}
