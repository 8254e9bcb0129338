// Queue semantics on every store: send/receive/delete, receipt handles, visibility, delay, counts, purge, retention.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { installLeakGuard } from '../../helpers/leak-guard.js';
import { forEachStore } from '../../helpers/test-stores.js';
import { queueService } from './queue-test-context.js';

installLeakGuard();

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

forEachStore((_name, open, stores) => {
  test('send, receive, delete; a received message is invisible until deleted', async () => {
    const q = queueService(await open());
    const info = await q.createQueue('jobs');
    assert.equal(info.arn, 'arn:aws:sqs:us-east-1:000000000000:jobs');
    assert.equal(info.settings.visibilityTimeout, 30);
    const sent = await q.sendMessage('jobs', {
      body: 'hello',
      attributes: { kind: { DataType: 'String', StringValue: 'greeting' } },
    });
    assert.match(sent.messageId, /^[0-9a-f-]{36}$/);
    const [m, ...rest] = await q.receiveMessages('jobs', { maxMessages: 10 });
    assert.equal(rest.length, 0);
    assert.equal(m!.body, 'hello');
    assert.equal(m!.messageId, sent.messageId);
    assert.equal(m!.receiveCount, 1);
    assert.deepEqual(m!.attributes, { kind: { DataType: 'String', StringValue: 'greeting' } });
    assert.deepEqual(await q.receiveMessages('jobs'), []);
    assert.deepEqual(await q.counts('jobs'), { visible: 0, inFlight: 1, delayed: 0 });
    await q.deleteMessage('jobs', m!.receiptHandle);
    // Deleting again with the same handle succeeds (SQS).
    await q.deleteMessage('jobs', m!.receiptHandle);
    assert.deepEqual(await q.counts('jobs'), { visible: 0, inFlight: 0, delayed: 0 });
  });

  test('an unknown queue names the fix; a bad receipt handle is ReceiptHandleIsInvalid', async () => {
    const q = queueService(await open());
    await assert.rejects(q.sendMessage('nope', { body: 'x' }), (err: Error & { code: string }) => {
      assert.equal(err.code, 'ResourceNotFoundException');
      assert.match(err.message, /nimbus queues create nope/);
      return true;
    });
    await q.createQueue('jobs');
    await assert.rejects(q.deleteMessage('jobs', 'garbage'), { code: 'ReceiptHandleIsInvalid' });
    await assert.rejects(q.createQueue('bad name'), { code: 'InvalidParameterValueException' });
    await assert.rejects(q.createQueue('jobs', { visibilityTimeout: 5 }), {
      code: 'ResourceConflictException',
    });
    // Same settings: returns the existing queue.
    assert.equal((await q.createQueue('jobs', { visibilityTimeout: 30 })).name, 'jobs');
  });

  test('visibility timeout expiry redelivers with a new receipt handle; the stale one cannot change visibility or delete', async () => {
    const q = queueService(await open());
    await q.createQueue('jobs', { visibilityTimeout: 0 });
    await q.sendMessage('jobs', { body: 'a' });
    const [first] = await q.receiveMessages('jobs', { visibilityTimeout: 1 });
    assert.ok(first);
    await sleep(1100);
    const [second] = await q.receiveMessages('jobs', { visibilityTimeout: 30 });
    assert.ok(second);
    assert.equal(second.messageId, first.messageId);
    assert.equal(second.receiveCount, 2);
    assert.notEqual(second.receiptHandle, first.receiptHandle);
    await assert.rejects(q.changeMessageVisibility('jobs', first.receiptHandle, 0), {
      code: 'MessageNotInflight',
    });
    // A stale delete is accepted but does not delete (SQS semantics).
    await q.deleteMessage('jobs', first.receiptHandle);
    assert.deepEqual(await q.counts('jobs'), { visible: 0, inFlight: 1, delayed: 0 });
    // The current handle can make it visible again at once.
    await q.changeMessageVisibility('jobs', second.receiptHandle, 0);
    const [third] = await q.receiveMessages('jobs');
    assert.equal(third?.receiveCount, 3);
    await q.deleteMessage('jobs', third.receiptHandle);
    assert.deepEqual(await q.counts('jobs'), { visible: 0, inFlight: 0, delayed: 0 });
  });

  test('delay: queue default and per message', async () => {
    const q = queueService(await open());
    await q.createQueue('slow', { delaySeconds: 1 });
    await q.sendMessage('slow', { body: 'later' });
    await q.sendMessage('slow', { body: 'now', delaySeconds: 0 });
    assert.deepEqual(await q.counts('slow'), { visible: 1, inFlight: 0, delayed: 1 });
    const got = await q.receiveMessages('slow', { maxMessages: 10 });
    assert.deepEqual(
      got.map((m) => m.body),
      ['now'],
    );
    const later = await q.receiveMessages('slow', { maxMessages: 10, waitTimeSeconds: 3 });
    assert.deepEqual(
      later.map((m) => m.body),
      ['later'],
    );
  });

  test('long polling wakes up on a send and ends on abort', async () => {
    const q = queueService(await open());
    await q.createQueue('jobs');
    const started = Date.now();
    const waiting = q.receiveMessages('jobs', { waitTimeSeconds: 10 });
    await sleep(100);
    await q.sendMessage('jobs', { body: 'wake' });
    const [m] = await waiting;
    assert.equal(m?.body, 'wake');
    assert.ok(Date.now() - started < 5000, 'woke up before the wait ended');
    const abort = new AbortController();
    const aborted = q.receiveMessages('jobs', { waitTimeSeconds: 20, signal: abort.signal });
    setTimeout(() => abort.abort(), 50);
    assert.deepEqual(await aborted, []);
  });

  test('a long poll on one node receives a message sent on another (LISTEN/NOTIFY, or polling)', async () => {
    const target = stores.target();
    const a = queueService(await stores.openAt(target));
    const b = queueService(await stores.openAt(target));
    a.start();
    b.start();
    b.start(); // idempotent
    try {
      await a.createQueue('shared');
      const waiting = b.receiveMessages('shared', { waitTimeSeconds: 10 });
      await sleep(200);
      await a.sendMessage('shared', { body: 'across' });
      const [m] = await waiting;
      assert.equal(m?.body, 'across');
    } finally {
      await a.stop();
      await b.stop();
      await b.stop(); // idempotent
    }
  });

  test('batches: send 10, receive in batches of up to 10, batch errors', async () => {
    const q = queueService(await open());
    await q.createQueue('jobs');
    const results = await q.sendMessageBatch(
      'jobs',
      Array.from({ length: 10 }, (_, i) => ({ id: `e${i}`, body: i === 3 ? '' : `m${i}` })),
    );
    assert.equal(results.filter((r) => r.ok).length, 9);
    const bad = results[3]!;
    assert.equal(bad.ok, false);
    assert.equal(!bad.ok && bad.code, 'InvalidParameterValueException');
    await assert.rejects(q.sendMessageBatch('jobs', []), { code: 'EmptyBatchRequest' });
    await assert.rejects(
      q.sendMessageBatch(
        'jobs',
        Array.from({ length: 11 }, (_, i) => ({ id: `e${i}`, body: 'x' })),
      ),
      { code: 'TooManyEntriesInBatchRequest' },
    );
    await assert.rejects(
      q.sendMessageBatch('jobs', [
        { id: 'a', body: 'x' },
        { id: 'a', body: 'y' },
      ]),
      { code: 'BatchEntryIdsNotDistinct' },
    );
    const got = await q.receiveMessages('jobs', { maxMessages: 10 });
    assert.equal(got.length, 9);
    const deleted = await q.deleteMessageBatch(
      'jobs',
      got.map((m, i) => ({ id: String(i), receiptHandle: m.receiptHandle })),
    );
    assert.ok(deleted.every((r) => r.ok));
    assert.deepEqual(await q.counts('jobs'), { visible: 0, inFlight: 0, delayed: 0 });
  });

  test('purge, retention sweep, update and delete', async () => {
    const store = await open();
    const q = queueService(store);
    await q.createQueue('jobs', { messageRetentionPeriod: 60 });
    await q.sendMessage('jobs', { body: 'a' });
    await q.sendMessage('jobs', { body: 'b' });
    await q.purgeQueue('jobs');
    assert.deepEqual(await q.counts('jobs'), { visible: 0, inFlight: 0, delayed: 0 });
    await q.sendMessage('jobs', { body: 'c' });
    // Retention: a sweep one minute later drops it (the store takes the time as an argument).
    assert.equal(await store.queues.sweep(Date.now() + 61_000), 1);
    assert.deepEqual(await q.counts('jobs'), { visible: 0, inFlight: 0, delayed: 0 });
    const updated = await q.updateQueue('jobs', { visibilityTimeout: 90 });
    assert.equal(updated.settings.visibilityTimeout, 90);
    assert.equal(updated.settings.messageRetentionPeriod, 60);
    assert.deepEqual(
      (await q.listQueues('jo')).map((i) => i.name),
      ['jobs'],
    );
    assert.equal(await q.deleteQueue('jobs'), true);
    assert.equal(await q.deleteQueue('jobs'), false);
    assert.equal(await q.getQueue('jobs'), undefined);
  });
});
