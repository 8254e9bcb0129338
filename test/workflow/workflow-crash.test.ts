// The reduced reliability test of issue 10 (the full one is workflow-crash.slow.test.ts, whose
// header states the invariant): 30 executions of a Task/Wait/Retry/Map/Parallel workflow on a
// real server process, SIGKILLed mid-way and restarted on the same data, on every store.
import { after, test } from 'node:test';
import { installLeakGuard } from '../helpers/leak-guard.js';
import { selectedTestStores } from '../helpers/test-stores.js';
import { CrashScenario } from './crash-scenario.js';

const scenario = new CrashScenario();
after(() => scenario.cleanup());
installLeakGuard();

for (const store of selectedTestStores()) {
  test(`${store}: 30 executions survive a SIGKILL and restart; no recorded Task runs twice`, async () => {
    const summary = await scenario.run({ store, executions: 30, finishWithinMs: 30_000 });
    process.stdout.write(`# ${summary}\n`);
  });
}
