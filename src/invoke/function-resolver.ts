// Resolves a function name + qualifier (version or alias, with weighted routing) to a version,
// with a short-lived cache so the invoke hot path does not read the store on every call.

import { errors } from '../errors.js';
import { LATEST, type Alias, type FunctionVersion } from '../functions/function-model.js';
import type { FunctionStore } from '../store/store.js';

type Entry =
  | { readonly kind: 'version'; readonly version: FunctionVersion; readonly expires: number }
  | {
      readonly kind: 'alias';
      readonly alias: Alias;
      readonly primary: FunctionVersion;
      readonly secondary: FunctionVersion | undefined;
      readonly expires: number;
    };

/** Options of the {@link FunctionResolver}. */
export interface FunctionResolverOptions {
  /**
   * How long a resolution is trusted. Local deploys invalidate at once; the TTL bounds how long
   * another node's deploy (cluster) takes to be seen. @default 1000
   */
  readonly ttlMs?: number;
  /** Random source in [0,1) for weighted aliases (tests pin it). @default Math.random */
  readonly random?: () => number;
}

/** Cached name → version resolution. */
export class FunctionResolver {
  readonly #store: FunctionStore;
  readonly #ttlMs: number;
  readonly #random: () => number;
  readonly #cache = new Map<string, Entry>();

  constructor(store: FunctionStore, options: FunctionResolverOptions = {}) {
    this.#store = store;
    this.#ttlMs = options.ttlMs ?? 1000;
    this.#random = options.random ?? Math.random;
  }

  /**
   * The version to run for `name` and `qualifier` (`$LATEST` when absent, a number, or an
   * alias name). Throws `ResourceNotFoundException` when any part is missing.
   */
  async resolve(name: string, qualifier: string | undefined): Promise<FunctionVersion> {
    const q = qualifier === undefined || qualifier === '' ? LATEST : qualifier;
    const key = `${name}\u0000${q}`;
    let entry = this.#cache.get(key);
    if (!entry || entry.expires < Date.now()) {
      entry = await this.#load(name, q);
      this.#cache.set(key, entry);
    }
    if (entry.kind === 'version') return entry.version;
    const extra = entry.alias.additionalVersion;
    if (entry.secondary && extra && this.#random() < extra.weight) return entry.secondary;
    return entry.primary;
  }

  /** Forget cached resolutions of one function (or all). */
  invalidate(name?: string): void {
    if (name === undefined) {
      this.#cache.clear();
      return;
    }
    const prefix = `${name}\u0000`;
    for (const key of this.#cache.keys()) if (key.startsWith(prefix)) this.#cache.delete(key);
  }

  async #load(name: string, q: string): Promise<Entry> {
    const expires = Date.now() + this.#ttlMs;
    if (q === LATEST || /^\d+$/.test(q)) {
      const version = await this.#store.getVersion(name, q);
      if (!version) throw errors.functionNotFound(name, q === LATEST ? undefined : q);
      return { kind: 'version', version, expires };
    }
    const alias = await this.#store.getAlias(name, q);
    if (!alias) throw errors.functionNotFound(name, q);
    const primary = await this.#store.getVersion(name, alias.version);
    if (!primary) throw errors.functionNotFound(name, alias.version);
    const secondary = alias.additionalVersion
      ? await this.#store.getVersion(name, alias.additionalVersion.version)
      : undefined;
    return { kind: 'alias', alias, primary, secondary, expires };
  }
}
