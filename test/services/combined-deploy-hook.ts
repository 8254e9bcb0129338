// One deploy hook out of several, as the deploy service runs them: every validate, then every
// apply in order (a resource's own hook before its triggers'), for tests of one resource kind.
import type { AppDeployHook } from '../../src/deploy/app-deploy-hook.js';

/** `hooks` run as one, in order. */
export function combinedDeployHook(...hooks: AppDeployHook[]): AppDeployHook {
  return {
    async validate(spec) {
      for (const h of hooks) await h.validate(spec);
    },
    async write(spec, tx) {
      for (const h of hooks) await h.write(spec, tx);
    },
    async afterCommit(spec) {
      for (const h of hooks) await h.afterCommit?.(spec);
    },
    async apply(spec) {
      for (const h of hooks) await h.apply(spec);
    },
    async removeApp(app) {
      for (const h of hooks) await h.removeApp(app);
    },
    async removeFunction(app, fullName) {
      for (const h of hooks) await h.removeFunction?.(app, fullName);
    },
  };
}
