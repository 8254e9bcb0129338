// The warm pool: one invocation per instance, LIFO warm reuse, idle reaping, minInstances,
// per-function concurrency and a node-wide memory budget. Knows nothing about processes.

import { NimbusError } from '../errors.js';
import type { FunctionInstance, InstanceSpec, RuntimeBackend } from '../runtime/runtime-backend.js';
import type { IsolationTier } from '../functions/function-model.js';

/** Options of the {@link WarmPool}. */
export interface WarmPoolOptions {
  readonly backends: Readonly<Record<IsolationTier, RuntimeBackend>>;
  /** Sum of `memory` (MB) of all live instances on this node. @default 8192 */
  readonly memoryBudgetMB?: number;
  /** How long a call waits for capacity before 429. @default 1000 */
  readonly acquireTimeoutMs?: number;
  /** How often idle instances are checked for reaping. @default 1000 */
  readonly reapIntervalMs?: number;
  /** Reports background failures (e.g. a minInstances spawn that failed). */
  readonly onError?: (err: unknown) => void;
  /**
   * The longest an instance is kept, ms: older ones are disposed instead of reused (and reaped
   * when idle). The server sets it below the lifetime of the app token in the instance's
   * environment (src/auth/app-tokens.ts). @default Infinity
   */
  readonly maxInstanceAgeMs?: number;
}

/** A leased instance; call exactly one of `release` / `discard` when the invocation is done. */
export interface Lease {
  readonly instance: FunctionInstance;
  /** True when this acquire started the instance (a cold start). */
  readonly cold: boolean;
  /** Return the instance for reuse (or dispose it when `reusable` is false). */
  release(reusable: boolean): void;
}

/** Counters the pool exposes for metrics. */
export interface PoolStats {
  coldStarts: number;
  warmHits: number;
  throttles: number;
  live: number;
  busy: number;
  memoryMB: number;
}

interface Slot {
  readonly instance: FunctionInstance;
  readonly group: Group;
  lastUsed: number;
  /** Epoch ms the instance started. */
  readonly startedAt: number;
}

/** Instances of one exact version + code + config (the unit of reuse). */
interface Group {
  readonly key: string;
  readonly functionName: string;
  spec: InstanceSpec;
  readonly idle: Slot[];
  busy: number;
  starting: number;
  /** Set when retired: its instances are disposed on release, and a fresh group takes the key. */
  retired: boolean;
}

interface Waiter {
  readonly spec: InstanceSpec;
  readonly key: string;
  readonly resolve: (lease: Lease) => void;
  readonly reject: (err: unknown) => void;
  timer: NodeJS.Timeout;
}

const keys = new WeakMap<InstanceSpec, string>();

/**
 * The unit of reuse: same function, version, code, ARN and config. Memoised per spec object
 * (the invoke path reuses one spec per version), since stringifying the config on every
 * acquire showed up in the warm-invoke profile.
 */
export function groupKey(spec: InstanceSpec): string {
  let key = keys.get(spec);
  if (key === undefined) {
    // The ARN is part of the key: the context reports the qualifier (alias or version) it was invoked by.
    key = `${spec.functionName}\u0000${spec.version}\u0000${spec.codeSha256}\u0000${spec.invokedFunctionArn}\u0000${JSON.stringify(spec.config)}`;
    keys.set(spec, key);
  }
  return key;
}

/** Backend-agnostic warm pool of function instances. */
export class WarmPool {
  readonly #backends: Readonly<Record<IsolationTier, RuntimeBackend>>;
  readonly #memoryBudgetMB: number;
  readonly #acquireTimeoutMs: number;
  readonly #onError: (err: unknown) => void;
  readonly #maxAgeMs: number;
  readonly #groups = new Map<string, Group>();
  /** Live instances (idle + busy + starting) per function name, for maxConcurrency. */
  readonly #perFunction = new Map<string, number>();
  readonly #waiters: Waiter[] = [];
  readonly #reaper: NodeJS.Timeout;
  readonly #stats = { coldStarts: 0, warmHits: 0, throttles: 0 };
  #memoryMB = 0;
  #closed = false;

  constructor(options: WarmPoolOptions) {
    this.#backends = options.backends;
    this.#memoryBudgetMB = options.memoryBudgetMB ?? 8192;
    this.#acquireTimeoutMs = options.acquireTimeoutMs ?? 1000;
    this.#onError = options.onError ?? (() => {});
    this.#maxAgeMs = options.maxInstanceAgeMs ?? Infinity;
    this.#reaper = setInterval(() => this.#reap(), options.reapIntervalMs ?? 1000);
    this.#reaper.unref();
  }

  /** Counters for metrics. */
  stats(): PoolStats {
    let live = 0;
    let busy = 0;
    for (const g of this.#groups.values()) {
      live += g.idle.length + g.busy + g.starting;
      busy += g.busy;
    }
    return { ...this.#stats, live, busy, memoryMB: this.#memoryMB };
  }

  /**
   * Lease an instance for `spec`: a warm idle one (LIFO) if there is one, else a cold start if
   * concurrency and memory allow, else wait up to `acquireTimeoutMs` and then throw 429.
   * Rejects with the backend's FunctionInitError when a cold start fails to load the code.
   */
  acquire(spec: InstanceSpec): Promise<Lease> {
    if (this.#closed) return Promise.reject(new NimbusError('ServiceException', 'the pool is closed'));
    const key = groupKey(spec);
    const warm = this.#takeIdle(key);
    if (warm) return Promise.resolve(warm);
    if (this.#canStart(spec)) return this.#start(spec, key);
    return new Promise<Lease>((resolve, reject) => {
      const waiter: Waiter = {
        spec,
        key,
        resolve,
        reject,
        timer: setTimeout(() => {
          const i = this.#waiters.indexOf(waiter);
          if (i >= 0) this.#waiters.splice(i, 1);
          this.#stats.throttles++;
          reject(
            new NimbusError(
              'TooManyRequestsException',
              `Rate exceeded: ${spec.functionName} is at its concurrency limit (maxConcurrency ${spec.config.maxConcurrency}) or the node's memory budget (${this.#memoryBudgetMB} MB) is used up; retry later or raise maxConcurrency in nimbus.yml.`,
              { headers: { 'Retry-After': '1' } },
            ),
          );
        }, this.#acquireTimeoutMs),
      };
      this.#waiters.push(waiter);
    });
  }

  /** Keep at least `spec.config.minInstances` instances of this version warm (idle or busy). */
  async ensureMinInstances(spec: InstanceSpec): Promise<void> {
    const key = groupKey(spec);
    const group = this.#group(spec, key);
    const missing = spec.config.minInstances - (group.idle.length + group.busy + group.starting);
    const starts: Promise<void>[] = [];
    for (let i = 0; i < missing && this.#canStart(spec); i++) {
      starts.push(this.#start(spec, key, 'provisioned-concurrency').then((lease) => lease.release(true)));
    }
    await Promise.all(starts);
  }

  /**
   * Dispose idle instances of `functionName` (only of `version` when given), e.g. after a
   * redeploy replaced `$LATEST` or a delete; busy ones are disposed when released.
   */
  retire(functionName: string, version?: string): void {
    for (const group of [...this.#groups.values()]) {
      if (group.functionName !== functionName) continue;
      if (version !== undefined && group.spec.version !== version) continue;
      for (const slot of group.idle.splice(0)) this.#dispose(slot);
      group.retired = true;
      this.#groups.delete(group.key);
    }
  }

  /** Dispose every instance. Idempotent. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    clearInterval(this.#reaper);
    for (const w of this.#waiters.splice(0)) {
      clearTimeout(w.timer);
      w.reject(new NimbusError('ServiceException', 'the server is shutting down'));
    }
    const disposals: Promise<void>[] = [];
    for (const group of this.#groups.values()) {
      for (const slot of group.idle.splice(0)) disposals.push(slot.instance.dispose());
    }
    await Promise.allSettled(disposals);
  }

  #group(spec: InstanceSpec, key: string): Group {
    let group = this.#groups.get(key);
    if (!group) {
      group = { key, functionName: spec.functionName, spec, idle: [], busy: 0, starting: 0, retired: false };
      this.#groups.set(key, group);
    }
    return group;
  }

  #takeIdle(key: string): Lease | undefined {
    const group = this.#groups.get(key);
    if (!group) return undefined;
    for (let slot = group.idle.pop(); slot; slot = group.idle.pop()) {
      if (!slot.instance.alive) {
        this.#forget(slot);
        continue;
      }
      if (this.#tooOld(slot)) {
        this.#dispose(slot);
        continue;
      }
      group.busy++;
      this.#stats.warmHits++;
      return this.#lease(slot, false);
    }
    return undefined;
  }

  #liveOf(functionName: string): number {
    return this.#perFunction.get(functionName) ?? 0;
  }

  /** Whether a new instance may start now, evicting idle instances of others for memory if needed. */
  #canStart(spec: InstanceSpec): boolean {
    if (this.#liveOf(spec.functionName) >= spec.config.maxConcurrency) {
      // Idle instances of other versions of the same function count too; free one.
      if (!this.#evictIdle((g) => g.functionName === spec.functionName)) return false;
    }
    while (this.#memoryMB + spec.config.memory > this.#memoryBudgetMB) {
      if (!this.#evictIdle(() => true)) return false;
    }
    return true;
  }

  /** Dispose the least recently used idle instance matching `filter`. */
  #evictIdle(filter: (g: Group) => boolean): boolean {
    let oldest: Slot | undefined;
    for (const group of this.#groups.values()) {
      if (!filter(group)) continue;
      const first = group.idle[0];
      if (first && (!oldest || first.lastUsed < oldest.lastUsed)) oldest = first;
    }
    if (!oldest) return false;
    oldest.group.idle.splice(oldest.group.idle.indexOf(oldest), 1);
    this.#dispose(oldest);
    return true;
  }

  async #start(
    spec: InstanceSpec,
    key: string,
    initializationType?: InstanceSpec['initializationType'],
  ): Promise<Lease> {
    const group = this.#group(spec, key);
    group.spec = spec;
    group.starting++;
    this.#perFunction.set(spec.functionName, this.#liveOf(spec.functionName) + 1);
    this.#memoryMB += spec.config.memory;
    this.#stats.coldStarts++;
    let instance: FunctionInstance;
    try {
      instance = await this.#backends[spec.config.isolation].spawn(
        initializationType === undefined ? spec : { ...spec, initializationType },
      );
    } catch (err) {
      group.starting--;
      this.#release(spec.functionName, spec.config.memory);
      this.#dropIfEmpty(group);
      throw err;
    }
    group.starting--;
    group.busy++;
    if (this.#closed) {
      void instance.dispose();
      throw new NimbusError('ServiceException', 'the server is shutting down');
    }
    const now = Date.now();
    return this.#lease({ instance, group, lastUsed: now, startedAt: now }, true);
  }

  #lease(slot: Slot, cold: boolean): Lease {
    let done = false;
    return {
      instance: slot.instance,
      cold,
      release: (reusable: boolean) => {
        if (done) return;
        done = true;
        slot.group.busy--;
        slot.lastUsed = Date.now();
        if (reusable && slot.instance.alive && !this.#closed && !slot.group.retired && !this.#tooOld(slot)) {
          const waiter = this.#takeWaiter(slot.group.key);
          if (waiter) {
            slot.group.busy++;
            this.#stats.warmHits++;
            waiter.resolve(this.#lease(slot, false));
            return;
          }
          slot.group.idle.push(slot);
        } else {
          this.#dispose(slot);
          this.#dropIfEmpty(slot.group);
        }
        this.#serveWaiters();
      },
    };
  }

  #takeWaiter(key: string): Waiter | undefined {
    const i = this.#waiters.findIndex((w) => w.key === key);
    if (i < 0) return undefined;
    const [waiter] = this.#waiters.splice(i, 1);
    if (waiter) clearTimeout(waiter.timer);
    return waiter;
  }

  /** After capacity frees up, start instances for waiters that can now run. */
  #serveWaiters(): void {
    for (let i = 0; i < this.#waiters.length;) {
      const w = this.#waiters[i]!;
      const warm = this.#takeIdle(w.key);
      if (warm || this.#canStart(w.spec)) {
        this.#waiters.splice(i, 1);
        clearTimeout(w.timer);
        if (warm) w.resolve(warm);
        else this.#start(w.spec, w.key).then(w.resolve, w.reject);
      } else {
        i++;
      }
    }
  }

  #dispose(slot: Slot): void {
    this.#forget(slot);
    slot.instance.dispose().catch(this.#onError);
    const { group } = slot;
    if (group.spec.config.minInstances > 0 && !group.retired && !this.#closed) {
      // Provisioned instances lost to a crash, timeout or OOM are replaced in the background.
      setImmediate(() => {
        if (!group.retired && !this.#closed) this.ensureMinInstances(group.spec).catch(this.#onError);
      });
    }
  }

  #tooOld(slot: Slot): boolean {
    return Date.now() - slot.startedAt >= this.#maxAgeMs;
  }

  /** Account for an instance that is gone (disposed or found dead). */
  #forget(slot: Slot): void {
    this.#release(slot.group.functionName, slot.group.spec.config.memory);
  }

  #release(functionName: string, memory: number): void {
    const n = this.#liveOf(functionName) - 1;
    if (n <= 0) this.#perFunction.delete(functionName);
    else this.#perFunction.set(functionName, n);
    this.#memoryMB -= memory;
  }

  #dropIfEmpty(group: Group): void {
    if (
      group.idle.length === 0 &&
      group.busy === 0 &&
      group.starting === 0 &&
      this.#groups.get(group.key) === group
    ) {
      this.#groups.delete(group.key);
    }
  }

  #reap(): void {
    const now = Date.now();
    let freed = false;
    for (const group of [...this.#groups.values()]) {
      const { idleTimeout, minInstances } = group.spec.config;
      // idle[0] is the least recently used (LIFO reuse pushes and pops at the end).
      while (group.idle.length > 0) {
        const total = group.idle.length + group.busy + group.starting;
        const oldest = group.idle[0]!;
        const expired = now - oldest.lastUsed >= idleTimeout * 1000;
        if (oldest.instance.alive && (!expired || total <= minInstances)) break;
        group.idle.shift();
        this.#dispose(oldest);
        freed = true;
      }
      // Instances past their maximum age go whatever their place in the LRU order.
      for (const slot of group.idle.filter((s) => this.#tooOld(s))) {
        group.idle.splice(group.idle.indexOf(slot), 1);
        this.#dispose(slot);
        freed = true;
      }
      this.#dropIfEmpty(group);
    }
    if (freed) this.#serveWaiters();
  }
}
