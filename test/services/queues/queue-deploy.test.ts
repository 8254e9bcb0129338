// The queues' deploy hook on every store: resources.queues validated with paths and fixes,
// created (DLQ too) and updated on redeploy; triggers validated, stored, replaced and removed.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { AppEventSpec } from '../../../src/deploy/app-deploy-hook.js';
import { installLeakGuard } from '../../helpers/leak-guard.js';
import { forEachStore } from '../../helpers/test-stores.js';
import { queueDeployHook, queueService } from './queue-test-context.js';

installLeakGuard();

function spec(
  queues: Record<string, Record<string, unknown>>,
  events: Record<string, unknown[]> = {},
  prune = true,
): AppEventSpec {
  return {
    app: 'shop',
    resources: { queues, buckets: {}, tables: {}, topics: {} },
    functions: Object.entries(events).map(([name, ev]) => ({ name, fullName: `shop-${name}`, events: ev })),
    prune,
  };
}

async function refused(p: unknown, pattern: RegExp): Promise<void> {
  await assert.rejects(Promise.resolve(p), (err: Error & { code: string }) => {
    assert.equal(err.code, 'InvalidParameterValueException');
    assert.match(err.message, pattern);
    return true;
  });
}

forEachStore((_name, open) => {
  test('validate names the path and the fix', async () => {
    const store = await open();
    const q = queueService(store);
    const hook = queueDeployHook(store, q);
    await refused(
      hook.validate(spec({ jobs: { visibilityTimeout: -1 } })),
      /resources\.queues\.jobs\.visibilityTimeout: -1 .*0 to 43200/,
    );
    await refused(
      hook.validate(spec({ jobs: { colour: 'blue' } })),
      /resources\.queues\.jobs: unknown setting 'colour'/,
    );
    await refused(hook.validate(spec({ jobs: { fifo: true } })), /rename it to 'jobs\.fifo'/);
    await refused(
      hook.validate(spec({ jobs: { deadLetter: { queue: 'dlq', maxReceiveCount: 0 } } })),
      /resources\.queues\.jobs\.deadLetter\.maxReceiveCount/,
    );
    await refused(
      hook.validate(spec({}, { work: [{ http: 'GET /' }, { queue: 'missing' }] })),
      /functions\.work\.events\[1\]\.queue: queue 'missing' does not exist; declare it under resources\.queues/,
    );
    await refused(
      hook.validate(spec({ jobs: {} }, { work: [{ queue: { queue: 'jobs', batchSize: 0 } }] })),
      /functions\.work\.events\[0\]\.queue\.batchSize/,
    );
    await refused(
      hook.validate(spec({ 'j.fifo': {} }, { work: [{ queue: { queue: 'j.fifo', batchSize: 11 } }] })),
      /batchSize: 11 .* 1 to 10\b/,
    );
    await refused(
      hook.validate(
        spec(
          { jobs: {} },
          { work: [{ sqs: { arn: 'arn:aws:sqs:us-east-1:1:jobs', functionResponseType: 'Nope' } }] },
        ),
      ),
      /functionResponseType: 'Nope'.*ReportBatchItemFailures/,
    );
    // Valid: a queue named by ARN, declared in the same deploy.
    await hook.validate(spec({ jobs: {} }, { work: [{ sqs: 'arn:aws:sqs:us-east-1:1:jobs' }] }));
  });

  test('apply creates queues and an undeclared DLQ, updates changed settings, replaces triggers', async () => {
    const store = await open();
    const q = queueService(store);
    const hook = queueDeployHook(store, q);
    const first = spec(
      { jobs: { visibilityTimeout: 60, deadLetter: { queue: 'jobs-dlq', maxReceiveCount: 3 } } },
      {
        work: [{ queue: 'jobs' }],
        other: [
          {
            queue: {
              queue: 'jobs',
              batchSize: 5,
              batchWindow: 2,
              maxConcurrency: 5,
              functionResponseType: 'ReportBatchItemFailures',
            },
          },
        ],
      },
    );
    await hook.validate(first);
    await hook.apply(first);
    assert.deepEqual(
      (await q.listQueues()).map((i) => i.name),
      ['jobs', 'jobs-dlq'],
    );
    const jobs = await q.getQueue('jobs');
    assert.equal(jobs?.settings.visibilityTimeout, 60);
    assert.deepEqual(jobs?.settings.deadLetter, { queue: 'jobs-dlq', maxReceiveCount: 3 });
    const triggers = await store.queues.listTriggers();
    assert.equal(triggers.length, 2);
    const other = triggers.find((t) => t.functionName === 'shop-other')!;
    assert.deepEqual(JSON.parse(other.settings), {
      queue: 'jobs',
      batchSize: 5,
      batchWindow: 2,
      maxConcurrency: 5,
      reportBatchItemFailures: true,
      enabled: true,
    });

    // Redeploy: settings changed (no DLQ any more), one trigger gone; messages stay.
    await q.sendMessage('jobs', { body: 'kept' });
    const second = spec({ jobs: { visibilityTimeout: 10 } }, { work: [{ queue: 'jobs' }] });
    await hook.apply(second);
    const updated = await q.getQueue('jobs');
    assert.equal(updated?.settings.visibilityTimeout, 10);
    assert.equal(updated?.settings.deadLetter, undefined);
    assert.deepEqual(
      (await store.queues.listTriggers()).map((t) => t.functionName),
      ['shop-work'],
    );
    assert.equal((await q.counts('jobs')).visible, 1);

    // prune: false replaces only the listed functions' triggers.
    await hook.apply(spec({}, { other: [{ queue: 'jobs-dlq' }] }, false));
    assert.deepEqual((await store.queues.listTriggers()).map((t) => t.functionName).sort(), [
      'shop-other',
      'shop-work',
    ]);
    await hook.removeFunction!('shop', 'shop-work');
    assert.deepEqual(
      (await store.queues.listTriggers()).map((t) => t.functionName),
      ['shop-other'],
    );
    await hook.removeApp('shop');
    assert.deepEqual(await store.queues.listTriggers(), []);
    assert.equal((await q.listQueues()).length, 2, 'removing the app keeps its queues');
  });
});
