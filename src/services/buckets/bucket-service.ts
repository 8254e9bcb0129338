// Buckets: objects as files under the data dir, metadata in the store, and ObjectCreated/ObjectRemoved events.

import type { AppDeployHook } from '../../deploy/app-deploy-hook.js';
import type { Lifecycle } from '../../server/lifecycle.js';
import type { ServiceContext } from '../service-context.js';

/** Buckets: objects as files under the data dir, metadata in the store, and ObjectCreated/ObjectRemoved events. */
export class BucketService implements Lifecycle {
  constructor(_ctx: ServiceContext) {}

  /** Validates and applies the app's declared resources and triggers of this kind on deploy. */
  readonly deployHook: AppDeployHook = {
    validate: () => undefined,
    apply: async () => undefined,
    removeApp: async () => undefined,
  };

  start(): void {}

  async stop(): Promise<void> {}
}
