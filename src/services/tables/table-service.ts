// Document tables: put/get/update/delete, conditional writes, query and scan, and the change stream to functions.

import type { AppDeployHook } from '../../deploy/app-deploy-hook.js';
import type { Lifecycle } from '../../server/lifecycle.js';
import type { ServiceContext } from '../service-context.js';

/** Document tables: put/get/update/delete, conditional writes, query and scan, and the change stream to functions. */
export class TableService implements Lifecycle {
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
