// The reliability test of issue 10: 200 executions of a workflow with a Task, a Wait, a Retry on
// a flaky step (it fails its first attempt), an inline Map and a Parallel run on real server
// processes; one is SIGKILLed mid-way (with starts in flight) and the run finishes on a restart
// on the same data (every store), or on the other node sharing the PostgreSQL store.
//
// The invariant, from the engine (workflow-engine.ts, task-runner.ts, the Kysely task store):
// a step is committed with its new task rows before anything is invoked, each row leased to the
// committing node (attempts = 1). A row is invoked only by its lease holder while PENDING, and
// recordInvocation closes it (SUCCEEDED/FAILED) only under that lease; claimTasks takes only
// PENDING rows whose lease ran out or was freed (a restart frees its own node's leases), adding
// an attempt. Each retry is a new row. Hence, per (execution, state, Map item, retry) = one row:
//   - the function ran at least once, and at most `attempts` times;
//   - a row recorded before the kill ran exactly once (a recorded Task is never invoked again);
//   - otherwise it ran at most twice across the one kill: the second run started after the kill,
//     the first before it (an invocation in flight whose result was never recorded).
// Wait timers are honoured: WaitStateExited - WaitStateEntered >= Seconds, and the flaky step's
// second attempt starts >= IntervalSeconds after its first. Every execution SUCCEEDED with the
// output its input determines.
// Not here yet: the two-node PostgreSQL variant (CrashScenario's `twoNodes`). A killed node's
// step leases run out after 30 s (stepLeaseMs), but its task leases only after 960 s (TaskRunner
// leaseMs, longer than any function timeout), so the survivor would wait 16 minutes for the
// invocations in flight at the kill; it needs lease renewal by the running node first.
import { after, test } from 'node:test';
import { installLeakGuard } from '../helpers/leak-guard.js';
import { selectedTestStores } from '../helpers/test-stores.js';
import { CrashScenario } from './crash-scenario.js';

const EXECUTIONS = Number(process.env['NIMBUS_WORKFLOW_CRASH_EXECUTIONS'] ?? 200);
const scenario = new CrashScenario();
after(() => scenario.cleanup());
installLeakGuard();

for (const store of selectedTestStores()) {
  test(`${store}: ${EXECUTIONS} executions survive a SIGKILL and restart; no recorded Task runs twice`, async () => {
    const summary = await scenario.run({ store, executions: EXECUTIONS, finishWithinMs: 120_000 });
    process.stdout.write(`# ${summary}\n`);
  });
}
