// JWKS fetched from URLs and cached per URL for every authorizer that uses it; an unknown `kid`
// triggers a refetch (key rotation), at most once per cooldown so bad tokens cannot flood the issuer.

import { createLocalJWKSet, errors, type JSONWebKeySet, type JWTVerifyGetKey } from 'jose';

/** Options of the {@link JwksCache}. */
export interface JwksCacheOptions {
  /** Least time between two fetches of one URL (except the first). @default 30000 */
  readonly cooldownMs?: number;
  /** A fetched JWKS is refetched in the background after this long. @default 600000 */
  readonly maxAgeMs?: number;
  /** Fetch timeout. @default 5000 */
  readonly timeoutMs?: number;
}

interface Entry {
  keys: JWTVerifyGetKey | undefined;
  fetchedAt: number;
  fetching: Promise<void> | undefined;
}

/** Key sets by JWKS URL. */
export class JwksCache {
  readonly #cooldownMs: number;
  readonly #maxAgeMs: number;
  readonly #timeoutMs: number;
  readonly #entries = new Map<string, Entry>();

  constructor(options: JwksCacheOptions = {}) {
    this.#cooldownMs = options.cooldownMs ?? 30_000;
    this.#maxAgeMs = options.maxAgeMs ?? 600_000;
    this.#timeoutMs = options.timeoutMs ?? 5_000;
  }

  /** A jose key getter for `url`: cached keys, refetched on an unknown `kid` (rate-limited). */
  getter(url: string): JWTVerifyGetKey {
    return async (header, token) => {
      const entry = await this.#ensure(url);
      try {
        return await entry.keys!(header, token);
      } catch (err) {
        if (!(err instanceof errors.JWKSNoMatchingKey) || Date.now() - entry.fetchedAt < this.#cooldownMs)
          throw err;
        await this.#fetch(url, entry);
        return entry.keys!(header, token);
      }
    };
  }

  async #ensure(url: string): Promise<Entry> {
    let entry = this.#entries.get(url);
    if (!entry) this.#entries.set(url, (entry = { keys: undefined, fetchedAt: 0, fetching: undefined }));
    if (!entry.keys) await this.#fetch(url, entry);
    else if (Date.now() - entry.fetchedAt > this.#maxAgeMs)
      void this.#fetch(url, entry).catch(() => undefined);
    return entry;
  }

  #fetch(url: string, entry: Entry): Promise<void> {
    entry.fetching ??= (async () => {
      try {
        const res = await fetch(url, {
          signal: AbortSignal.timeout(this.#timeoutMs),
          headers: { accept: 'application/json' },
        });
        if (!res.ok) throw new Error(`JWKS ${url} answered ${res.status}`);
        const jwks = (await res.json()) as JSONWebKeySet;
        entry.keys = createLocalJWKSet(jwks);
      } finally {
        // A failed fetch also counts toward the cooldown: a down issuer is not hammered.
        entry.fetchedAt = Date.now();
        entry.fetching = undefined;
      }
    })();
    return entry.fetching;
  }
}
