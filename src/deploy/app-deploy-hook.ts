// What a deploy hands to the resource and trigger services: the app's declared resources and each
// function's `events` as written, so every service validates and applies its own part.

import type { Store } from '../store/store.js';
import type { AppWorkflowSpec } from '../workflow/app-workflows.js';

/** The resource kinds an app can declare under `resources:` in nimbus.yml. */
export type ResourceKindName = 'buckets' | 'queues' | 'tables' | 'topics';

/** One function of a deployed app, with its `events` entries as written in nimbus.yml. */
export interface DeployedFunctionEvents {
  /** Name inside the app (`work`). */
  readonly name: string;
  /** Lambda full name (`photos-work`). */
  readonly fullName: string;
  /** One-key mappings as written: `{ queue: 'jobs' }`, `{ schedule: 'rate(1 hour)' }`, `{ http: ... }`. */
  readonly events: readonly unknown[];
}

/** An app's event-related configuration, as one deploy carries it. */
export interface AppEventSpec {
  readonly app: string;
  /** name → options as written (`{}` when declared by name only), per kind. */
  readonly resources: Readonly<
    Record<ResourceKindName, Readonly<Record<string, Readonly<Record<string, unknown>>>>>
  >;
  /** The functions in this deploy, with their events. */
  readonly functions: readonly DeployedFunctionEvents[];
  /**
   * True (the CLI's deploys): `functions` is the whole app; triggers of functions not listed go.
   * False: only the listed functions' triggers are replaced; the others' stay.
   */
  readonly prune: boolean;
  /**
   * The app's workflows by key (nimbus.yml `workflows:`), definitions as written. Undefined (an
   * older client): the app's stored workflows stay as they are.
   */
  readonly workflows?: Readonly<Record<string, AppWorkflowSpec>> | undefined;
}

/**
 * A service's part in deploys. `validate` runs before anything is stored (a throw refuses the
 * whole deploy, nothing changes). `write` stores this kind's part (create declared resources
 * that are missing, never delete data; replace the app's triggers of this kind) through `tx`,
 * the deploy's one transaction, which also switches the functions: a throw or a crash anywhere
 * in it leaves the app entirely as it was. `afterCommit` then reloads what the service keeps in
 * memory (trigger pollers, caches).
 */
export interface AppDeployHook {
  /** Throw `InvalidParameterValueException` naming the function, event index and fix. */
  validate(spec: AppEventSpec): void | Promise<void>;
  /**
   * Store writes only, and every read and write through `tx`: the service's own store waits for
   * the transaction's connection on SQLite, so touching it from here never returns.
   */
  write(spec: AppEventSpec, tx: Store): Promise<void>;
  /** After the deploy committed: refresh in-memory state. Optional. */
  afterCommit?(spec: AppEventSpec): Promise<void>;
  /** `write` through the service's own store, then `afterCommit`: this kind alone, outside a deploy. */
  apply(spec: AppEventSpec): Promise<void>;
  /** The app was deleted: drop its triggers (resources and their data stay). */
  removeApp(app: string): Promise<void>;
  /** One function was deleted: drop its triggers. Optional; without it they fail until redeployed. */
  removeFunction?(app: string, fullName: string): Promise<void>;
}

/** The entries of `events` whose single key is one of `types`, with their index in the list. */
export function eventsOfType(
  fn: DeployedFunctionEvents,
  types: readonly string[],
): Array<{ index: number; type: string; value: unknown }> {
  const out: Array<{ index: number; type: string; value: unknown }> = [];
  fn.events.forEach((event, index) => {
    if (typeof event !== 'object' || event === null || Array.isArray(event)) return;
    const keys = Object.keys(event);
    if (keys.length === 1 && types.includes(keys[0]!)) {
      out.push({ index, type: keys[0]!, value: (event as Record<string, unknown>)[keys[0]!] });
    }
  });
  return out;
}
