// Schedules: rate() and cron() triggers that fire once per tick across restarts and nodes.

import type { AppDeployHook } from '../../deploy/app-deploy-hook.js';
import type { Lifecycle } from '../../server/lifecycle.js';
import type { ServiceContext } from '../../services/service-context.js';

/** Schedules: rate() and cron() triggers that fire once per tick across restarts and nodes. */
export class Scheduler implements Lifecycle {
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
