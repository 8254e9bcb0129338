// Which resources each app may reach with its functions' SDK token: the ones it declares under
// `resources:` and the ones its triggers name. Recorded on deploy, read by the scope check.

import type { AppResourcePolicy, ResourceKind, ResourceRef } from '../auth/resource-scopes.js';
import type { Store } from '../store/store.js';
import { eventsOfType, type AppDeployHook, type AppEventSpec } from './app-deploy-hook.js';

/** Resource names of one app by kind. */
type AppResourceNames = Partial<Record<ResourceKind, string[]>>;

const KEY_PREFIX = 'app-resources:';
/** How long a node trusts its cached copy (another node may have deployed meanwhile). */
const CACHE_MS = 5000;

/** Event types that name a resource, and where the name is. */
const EVENT_RESOURCES: ReadonlyArray<{ types: string[]; kind: ResourceKind; keys: string[] }> = [
  { types: ['queue', 'sqs'], kind: 'queue', keys: ['queue', 'queueName', 'arn'] },
  { types: ['topic', 'sns'], kind: 'topic', keys: ['topic', 'topicName', 'arn'] },
  { types: ['bucket', 's3'], kind: 'bucket', keys: ['bucket'] },
  { types: ['table', 'stream'], kind: 'table', keys: ['table', 'arn'] },
];

/** The resource name in an ARN (`arn:aws:sqs:r:a:jobs`, `arn:aws:dynamodb:r:a:table/t/stream/x`). */
function nameFromArn(value: string): string {
  if (!value.startsWith('arn:')) return value;
  const table = /:table\/([^/]+)/.exec(value);
  if (table) return table[1]!;
  return value.slice(value.lastIndexOf(':') + 1);
}

function namedIn(value: unknown, keys: readonly string[]): string | undefined {
  if (typeof value === 'string') return nameFromArn(value.trim());
  if (typeof value === 'object' && value !== null) {
    for (const key of keys) {
      const v = (value as Record<string, unknown>)[key];
      if (typeof v === 'string') return nameFromArn(v.trim());
    }
  }
  return undefined;
}

/** The names an app's deploy declares or references, by kind. */
export function appResourceNames(spec: AppEventSpec): AppResourceNames {
  const out: Record<ResourceKind, Set<string>> = {
    function: new Set(),
    queue: new Set(Object.keys(spec.resources.queues)),
    topic: new Set(Object.keys(spec.resources.topics)),
    bucket: new Set(Object.keys(spec.resources.buckets)),
    table: new Set(Object.keys(spec.resources.tables)),
    schedule: new Set(),
    workflow: new Set(),
    network: new Set(),
  };
  // A dead-letter queue named in a queue's settings is the app's too.
  for (const options of Object.values(spec.resources.queues)) {
    const dlq = namedIn((options as Record<string, unknown>).deadLetter, ['queue', 'arn']);
    if (dlq) out.queue.add(dlq);
  }
  for (const fn of spec.functions) {
    for (const { kind, types, keys } of EVENT_RESOURCES) {
      for (const e of eventsOfType(fn, types)) {
        const name = namedIn(e.value, keys);
        if (name) out[kind].add(name);
      }
    }
  }
  const result: AppResourceNames = {};
  for (const [kind, names] of Object.entries(out)) {
    if (names.size > 0) result[kind as ResourceKind] = [...names].sort();
  }
  return result;
}

/**
 * Records each app's resource names on deploy (in the settings store, so every node sees them)
 * and answers the `app:<name>` scope check: an app may use its own functions and the resources
 * it declares or its triggers name; never listings (`*`).
 */
export class AppResourceRegistry {
  readonly #store: Store;
  readonly #cache = new Map<string, { names: AppResourceNames; at: number }>();

  constructor(store: Store) {
    this.#store = store;
  }

  /**
   * The deploy hook that records names, in the deploy's transaction: the app token's scopes
   * switch together with its functions and resources.
   */
  readonly deployHook: AppDeployHook = {
    validate: () => undefined,
    write: async (spec, tx) => {
      await tx.settings.set(KEY_PREFIX + spec.app, JSON.stringify(await this.#namesAfter(spec, tx)));
    },
    afterCommit: async (spec) => {
      this.#cache.delete(spec.app);
    },
    apply: async (spec) => {
      await this.#store.settings.set(
        KEY_PREFIX + spec.app,
        JSON.stringify(await this.#namesAfter(spec, this.#store)),
      );
      this.#cache.delete(spec.app);
    },
    removeApp: async (app) => {
      await this.#store.settings.set(KEY_PREFIX + app, '{}');
      this.#cache.delete(app);
    },
  };

  /** What the app may reach after `spec` is deployed (read through `store`: the deploy's transaction). */
  async #namesAfter(spec: AppEventSpec, store: Store): Promise<AppResourceNames> {
    const names = appResourceNames(spec);
    if (!spec.prune) {
      // A partial deploy adds to what the app had.
      const before = parseNames(await store.settings.get(KEY_PREFIX + spec.app));
      for (const [kind, list] of Object.entries(before)) {
        const k = kind as ResourceKind;
        names[k] = [...new Set([...(names[k] ?? []), ...list])].sort();
      }
    }
    return names;
  }

  /** The scope check for `app:<name>` tokens. */
  readonly policy: AppResourcePolicy = async (app: string, resource: ResourceRef): Promise<boolean> => {
    if (resource.name === '*') return false;
    if (resource.kind === 'schedule') return resource.name.startsWith(`${app}:`);
    if (resource.kind === 'function') {
      const v = await this.#store.functions.getVersion(resource.name, '$LATEST');
      return v?.app === app;
    }
    // A workflow is the app's that owns it (created by its deploy or for it through /v1).
    if (resource.kind === 'workflow') {
      return (await this.#store.workflows.getWorkflow(resource.name))?.app === app;
    }
    // The network (webhook subscriptions) only for an app that already has it: one with a
    // `network: true` function, which could reach any host itself. An app without one gets no
    // way out through the server either.
    if (resource.kind === 'network') {
      return (await this.#store.functions.listFunctions(app)).some((f) => f.config.network);
    }
    const names = await this.#load(app);
    return names[resource.kind]?.includes(resource.name) ?? false;
  };

  async #load(app: string): Promise<AppResourceNames> {
    const hit = this.#cache.get(app);
    if (hit && Date.now() - hit.at < CACHE_MS) return hit.names;
    const names = parseNames(await this.#store.settings.get(KEY_PREFIX + app));
    this.#cache.set(app, { names, at: Date.now() });
    return names;
  }
}

function parseNames(raw: string | undefined): AppResourceNames {
  try {
    return raw === undefined ? {} : (JSON.parse(raw) as AppResourceNames);
  } catch {
    return {};
  }
}
