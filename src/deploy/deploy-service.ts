// Server side of a deploy: accept content-addressed code blobs, then switch an app's functions,
// routes, resources and triggers in one store transaction (all or nothing), and retire stale
// warm instances.

import { NimbusError } from '../errors.js';
import { freezeConfig, type DeployRequest } from '../functions/function-config-schema.js';
import { lambdaName, NAME_PATTERN, type FunctionVersion } from '../functions/function-model.js';
import type { FunctionResolver } from '../invoke/function-resolver.js';
import type { WarmPool } from '../pool/warm-pool.js';
import type { Store } from '../store/store.js';
import type { AppDeployHook, AppEventSpec } from './app-deploy-hook.js';
import { sha256HexAsync } from './bundle-archive.js';
import { checkBundle, type BundleCheckInput } from './bundle-check.js';

/** Largest code bundle accepted (Lambda allows 250 MB unzipped; ours are compressed). */
export const MAX_CODE_BYTES = 64 * 1024 * 1024;

/** Summary returned by a deploy. */
export interface DeployResult {
  readonly app: string;
  readonly functions: ReadonlyArray<{ name: string; fullName: string; version: string; codeSha256: string }>;
  readonly removed: readonly string[];
}

/** Dependencies of the {@link DeployService}. */
export interface DeployServiceDeps {
  readonly store: Store;
  readonly resolver: FunctionResolver;
  readonly pool: WarmPool;
  /** Called after a successful deploy with the new `$LATEST` versions (e.g. to warm minInstances). */
  readonly onDeployed?: (versions: readonly FunctionVersion[]) => void;
  /** Called after any change that may change routes (deploy, delete), e.g. to rebuild the route table. */
  readonly onRoutesChanged?: () => void | Promise<void>;
  /** The resource and trigger services' parts in deploys, in the order they apply. @default [] */
  readonly hooks?: readonly AppDeployHook[];
}

/** Deploys, deletes and code uploads. */
export class DeployService {
  readonly #deps: DeployServiceDeps;
  /** The end of the last deploy or app delete queued in this process (never rejects). */
  #tail: Promise<unknown> = Promise.resolve();

  constructor(deps: DeployServiceDeps) {
    this.#deps = deps;
  }

  /** Store a code blob after checking that its bytes hash to `sha256`. */
  async putCode(sha256: string, bytes: Buffer): Promise<void> {
    if (!/^[0-9a-f]{64}$/.test(sha256)) {
      throw new NimbusError('InvalidParameterValueException', `'${sha256}' is not a lowercase hex sha256.`);
    }
    // Off the event loop: a 64 MB blob hashed inline held every other request for ~150 ms.
    const actual = await sha256HexAsync(bytes);
    if (actual !== sha256) {
      throw new NimbusError(
        'InvalidRequestContentException',
        `The uploaded code hashes to ${actual}, not ${sha256}; the upload was corrupted or the URL names the wrong hash.`,
      );
    }
    await this.#deps.store.code.put(sha256, bytes);
  }

  /**
   * Runs `work` after every deploy and app delete queued before it in this process. Why: on
   * SQLite a deploy's transaction holds the one connection until it commits, so six deploys
   * started together queued six transactions ahead of any other request's query (the slowest
   * other request waited 120-280 ms); one at a time, a request waits for at most one. Deploys
   * are rare and the store serialised their transactions anyway, so little is lost.
   */
  #exclusive<T>(work: () => Promise<T>): Promise<T> {
    const run = this.#tail.then(work);
    this.#tail = run.catch(() => undefined);
    return run;
  }

  /**
   * Switch `app` to the functions in `req`. Nothing changes if any part is invalid. Deploys
   * (and app deletes) run one at a time in this process, in the order they arrive.
   */
  deploy(app: string, req: DeployRequest): Promise<DeployResult> {
    return this.#exclusive(() => this.#deploy(app, req));
  }

  async #deploy(app: string, req: DeployRequest): Promise<DeployResult> {
    if (!NAME_PATTERN.test(app)) {
      throw new NimbusError(
        'InvalidParameterValueException',
        `App name '${app}' is invalid; use 1-64 letters, digits, '-' or '_', starting with a letter or digit.`,
      );
    }
    const { store, resolver, pool } = this.#deps;
    const seen = new Set<string>();
    for (const fn of req.functions) {
      if (seen.has(fn.name)) {
        throw new NimbusError(
          'InvalidParameterValueException',
          `Function '${fn.name}' is listed twice in the deploy.`,
        );
      }
      seen.add(fn.name);
      if (!(await store.code.has(fn.codeSha256))) {
        throw new NimbusError(
          'InvalidParameterValueException',
          `Code ${fn.codeSha256} of function '${fn.name}' was not uploaded; PUT it to /v1/code/${fn.codeSha256} first.`,
        );
      }
    }
    await this.#checkBundles(req);
    const before = await store.functions.listFunctions(app);
    if (req.gateway) {
      // A route must name a function that exists after this deploy.
      const after = new Set([...seen, ...(req.prune ? [] : before.map((v) => v.name))]);
      for (const route of req.gateway.routes) {
        if (!after.has(route.function)) {
          throw new NimbusError(
            'InvalidParameterValueException',
            `Route '${route.method} ${route.path}' targets function '${route.function}', which is not part of app '${app}'.`,
          );
        }
        const named = route.auth?.authorizer;
        if (named !== undefined && !req.gateway.authorizers?.[named]) {
          throw new NimbusError(
            'InvalidParameterValueException',
            `Route '${route.method} ${route.path}' names authorizer '${named}', which gateway.authorizers does not declare.`,
          );
        }
      }
      for (const [name, a] of Object.entries(req.gateway.authorizers ?? {})) {
        if (a.type === 'function' && !after.has(a.function)) {
          throw new NimbusError(
            'InvalidParameterValueException',
            `Authorizer '${name}' uses function '${a.function}', which is not part of app '${app}'.`,
          );
        }
      }
    }
    const spec: AppEventSpec = {
      app,
      resources: req.resources,
      functions: req.functions.map((fn) => ({
        name: fn.name,
        fullName: lambdaName(app, fn.name),
        events: fn.events,
      })),
      prune: req.prune,
      workflows: req.workflows,
    };
    const hooks = this.#deps.hooks ?? [];
    // Every service checks its part before anything is stored, so a bad trigger refuses the deploy.
    for (const hook of hooks) await hook.validate(spec);
    try {
      // One transaction: functions, versions, routes, resources, triggers, schedules,
      // subscriptions and the app token's scopes switch together, or (a throw, a crash, a
      // conflict with another node's deploy) none of them do.
      await store.transaction(async (tx) => {
        await tx.functions.deployApp(
          app,
          req.functions.map((fn) => ({
            name: fn.name,
            codeSha256: fn.codeSha256,
            codeSize: fn.codeSize,
            config: freezeConfig(fn.config),
          })),
          { prune: req.prune, gateway: req.gateway },
        );
        for (const hook of hooks) await hook.write(spec, tx);
      });
    } finally {
      // Even a refused deploy may race another node's; a rebuild is cheap. Awaited so the new
      // table is loaded before the trigger hooks below start their pollers: otherwise the first
      // gateway request after a deploy queued behind those pollers' first store queries.
      await this.#deps.onRoutesChanged?.();
    }
    const fullNames = req.functions.map((fn) => lambdaName(app, fn.name));
    const removed = req.prune
      ? before.map((v) => lambdaName(v.app, v.name)).filter((n) => !fullNames.includes(n))
      : [];
    for (const name of [...fullNames, ...removed]) resolver.invalidate(name);
    // Idle instances of the replaced $LATEST are disposed now; the invoke path starts new ones.
    for (const name of fullNames) pool.retire(name, '$LATEST');
    for (const name of removed) pool.retire(name);
    // Committed: services reload what they keep in memory (pollers, caches).
    for (const hook of hooks) await hook.afterCommit?.(spec);
    // One query, not one per function: on SQLite each is a synchronous slice of the event loop.
    const deployed = new Set(fullNames);
    const latest = (await store.functions.listFunctions(app)).filter((v) =>
      deployed.has(lambdaName(v.app, v.name)),
    );
    this.#deps.onDeployed?.(latest);
    return {
      app,
      functions: latest.map((v) => ({
        name: v.name,
        fullName: lambdaName(v.app, v.name),
        version: v.version,
        codeSha256: v.codeSha256,
      })),
      removed,
    };
  }

  /**
   * Every function's bundle can run as configured (archive, handler file and export, runtime),
   * each blob read and unpacked once whatever the number of functions sharing it.
   */
  async #checkBundles(req: DeployRequest): Promise<void> {
    const bySha = new Map<string, BundleCheckInput[]>();
    for (const fn of req.functions) {
      const list = bySha.get(fn.codeSha256) ?? [];
      list.push({ name: fn.name, runtime: fn.config.runtime, handler: fn.config.handler });
      bySha.set(fn.codeSha256, list);
    }
    for (const [sha, functions] of bySha) {
      const bytes = await this.#deps.store.code.get(sha);
      // Checked as present just before; a blob removed meanwhile is not ours to explain.
      if (bytes !== undefined) await checkBundle(bytes, functions);
    }
  }

  /** Delete one function (all versions and aliases). */
  async deleteFunction(fullName: string): Promise<void> {
    const app = (await this.#deps.store.functions.getVersion(fullName, '$LATEST'))?.app;
    const existed = await this.#deps.store.functions.deleteFunction(fullName);
    if (!existed) {
      throw new NimbusError(
        'ResourceNotFoundException',
        `Function not found: ${fullName}. List functions with \`nimbus ls\`.`,
      );
    }
    this.#deps.resolver.invalidate(fullName);
    this.#deps.pool.retire(fullName);
    await this.#deps.onRoutesChanged?.();
    if (app !== undefined) {
      for (const hook of this.#deps.hooks ?? []) await hook.removeFunction?.(app, fullName);
    }
  }

  /** Delete every function of an app (queued behind running deploys, as a deploy is). */
  deleteApp(app: string): Promise<string[]> {
    return this.#exclusive(() => this.#deleteApp(app));
  }

  async #deleteApp(app: string): Promise<string[]> {
    const fns = await this.#deps.store.functions.listFunctions(app);
    if (fns.length === 0) {
      throw new NimbusError(
        'ResourceNotFoundException',
        `App not found: ${app}. List functions with \`nimbus ls\`.`,
      );
    }
    await this.#deps.store.functions.deployApp(app, [], { prune: true });
    await this.#deps.onRoutesChanged?.();
    for (const hook of this.#deps.hooks ?? []) await hook.removeApp(app);
    const names = fns.map((v) => lambdaName(v.app, v.name));
    for (const name of names) {
      this.#deps.resolver.invalidate(name);
      this.#deps.pool.retire(name);
    }
    return names;
  }
}
