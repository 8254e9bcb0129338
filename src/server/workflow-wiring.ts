// Builds this node's durable workflow engine (issue 10) from the store and the invoke service:
// the ASL front end, the store's advisory locks (timer leader) and notifier when it has them.

import { advisoryLocksOf, notifierOf } from '../store/coordination.js';
import type { Store } from '../store/store.js';
import { aslFrontEnd } from '../workflow/asl-front-end/asl-front-end.js';
import type { TaskInvoker } from '../workflow/core/task-runner.js';
import { WorkflowEngine } from '../workflow/core/workflow-engine.js';

/** The engine of one node; `start()` frees this node's stale leases, `stop()` is idempotent. */
export function createWorkflowEngine(deps: {
  readonly store: Store;
  readonly invoker: TaskInvoker;
  readonly nodeId: string;
  readonly region: string;
  readonly accountId: string;
  readonly onError: (err: unknown) => void;
}): WorkflowEngine {
  return new WorkflowEngine(
    {
      store: deps.store.workflows,
      invoker: deps.invoker,
      frontEnds: [aslFrontEnd],
      locks: advisoryLocksOf(deps.store),
      notifier: notifierOf(deps.store),
      onError: deps.onError,
    },
    {
      nodeId: deps.nodeId,
      region: deps.region,
      accountId: deps.accountId,
      // With several writers only this node's own leases are a dead process's (a restart under
      // the same node id); a single-writer store's leases are all this node's.
      multipleWriters: deps.store.capabilities.multipleWriters,
    },
  );
}
