// Claims on every store: concurrent receivers (two "nodes" on one database) never get the same
// message; FIFO group order and deduplication; redrive of a poison message to the DLQ and back.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { installLeakGuard } from '../../helpers/leak-guard.js';
import { forEachStore } from '../../helpers/test-stores.js';
import { queueService } from './queue-test-context.js';
import type { QueueService } from '../../../src/services/queues/queue-service.js';

installLeakGuard();

forEachStore((_name, open, stores) => {
  test('concurrent receivers on two nodes never get the same message', async () => {
    const target = stores.target();
    const a = queueService(await stores.openAt(target));
    const b = queueService(await stores.openAt(target));
    await a.createQueue('jobs', { visibilityTimeout: 300 });
    const total = 200;
    for (let i = 0; i < total; i += 10) {
      await a.sendMessageBatch(
        'jobs',
        Array.from({ length: 10 }, (_, j) => ({ id: `e${j}`, body: `m${i + j}` })),
      );
    }
    const seen: string[] = [];
    const receiver = async (q: QueueService): Promise<void> => {
      for (;;) {
        const got = await q.receiveMessages('jobs', { maxMessages: 7 });
        if (got.length === 0) return;
        seen.push(...got.map((m) => m.body));
      }
    };
    await Promise.all([a, b, a, b, a, b, a, b].map(receiver));
    assert.equal(seen.length, total, 'every message received exactly once');
    assert.equal(new Set(seen).size, total, 'no message received twice');
    assert.deepEqual(await a.counts('jobs'), { visible: 0, inFlight: total, delayed: 0 });
  });

  test('FIFO: strict order per group while one is in flight; other groups proceed', async () => {
    const q = queueService(await open());
    await q.createQueue('orders.fifo', { contentBasedDeduplication: true });
    for (const [group, body] of [
      ['g1', 'a1'],
      ['g2', 'b1'],
      ['g1', 'a2'],
      ['g2', 'b2'],
      ['g1', 'a3'],
    ] as const) {
      await q.sendMessage('orders.fifo', { body, groupId: group });
    }
    // One at a time: the first of g1, then the first of g2 (g1 is blocked while a1 is in flight).
    const [m1] = await q.receiveMessages('orders.fifo');
    assert.equal(m1?.body, 'a1');
    assert.equal(m1?.groupId, 'g1');
    assert.match(m1?.sequenceNumber ?? '', /^\d{20}$/);
    const [m2] = await q.receiveMessages('orders.fifo');
    assert.equal(m2?.body, 'b1');
    assert.deepEqual(await q.receiveMessages('orders.fifo', { maxMessages: 10 }), []);
    // a1 returns to the queue: it, not a2, comes next.
    await q.changeMessageVisibility('orders.fifo', m1!.receiptHandle, 0);
    const again = await q.receiveMessages('orders.fifo', { maxMessages: 10 });
    assert.deepEqual(
      again.map((m) => m.body),
      ['a1', 'a2', 'a3'],
    );
    assert.equal(again[0]!.receiveCount, 2);
    for (const m of [...again, m2!]) await q.deleteMessage('orders.fifo', m.receiptHandle);
    const rest = await q.receiveMessages('orders.fifo', { maxMessages: 10 });
    assert.deepEqual(
      rest.map((m) => m.body),
      ['b2'],
    );
  });

  test('FIFO: concurrent receivers keep group order', async () => {
    const target = stores.target();
    const a = queueService(await stores.openAt(target));
    const b = queueService(await stores.openAt(target));
    await a.createQueue('q.fifo', { contentBasedDeduplication: true });
    for (let i = 0; i < 30; i++)
      await a.sendMessage('q.fifo', { body: `g${i % 3}-${i}`, groupId: `g${i % 3}` });
    const order = new Map<string, number[]>();
    const receiver = async (q: QueueService): Promise<void> => {
      for (let idle = 0; idle < 3;) {
        const got = await q.receiveMessages('q.fifo', { maxMessages: 4 });
        if (got.length === 0) {
          idle++;
          continue;
        }
        idle = 0;
        for (const m of got) {
          const [group, n] = m.body.split('-') as [string, string];
          order.set(group, [...(order.get(group) ?? []), Number(n)]);
          await q.deleteMessage('q.fifo', m.receiptHandle);
        }
      }
    };
    await Promise.all([a, b, a, b].map(receiver));
    for (const [group, ns] of order) {
      assert.deepEqual(
        ns,
        [...ns].sort((x, y) => x - y),
        `group ${group} in order`,
      );
    }
    assert.equal([...order.values()].flat().length, 30);
  });

  test('FIFO: deduplication id suppresses a duplicate and returns the original id', async () => {
    const q = queueService(await open());
    await q.createQueue('d.fifo');
    await assert.rejects(q.sendMessage('d.fifo', { body: 'x', groupId: 'g' }), /deduplicationId/);
    await assert.rejects(q.sendMessage('d.fifo', { body: 'x', deduplicationId: 'k' }), /groupId/);
    const first = await q.sendMessage('d.fifo', { body: 'x', groupId: 'g', deduplicationId: 'k1' });
    const dup = await q.sendMessage('d.fifo', { body: 'y', groupId: 'g', deduplicationId: 'k1' });
    assert.equal(dup.messageId, first.messageId);
    assert.equal(dup.sequenceNumber, first.sequenceNumber);
    const got = await q.receiveMessages('d.fifo', { maxMessages: 10 });
    assert.deepEqual(
      got.map((m) => m.body),
      ['x'],
    );
    await q.deleteMessage('d.fifo', got[0]!.receiptHandle);
    // Still a duplicate after the original was deleted (the window is 5 minutes).
    const again = await q.sendMessage('d.fifo', { body: 'x', groupId: 'g', deduplicationId: 'k1' });
    assert.equal(again.messageId, first.messageId);
    assert.deepEqual(await q.counts('d.fifo'), { visible: 0, inFlight: 0, delayed: 0 });
    // Content-based deduplication.
    await q.updateQueue('d.fifo', { contentBasedDeduplication: true });
    const c1 = await q.sendMessage('d.fifo', { body: 'same', groupId: 'g' });
    const c2 = await q.sendMessage('d.fifo', { body: 'same', groupId: 'g' });
    assert.equal(c1.messageId, c2.messageId);
    assert.deepEqual(await q.counts('d.fifo'), { visible: 1, inFlight: 0, delayed: 0 });
  });

  test('redrive: a poison message lands in the DLQ after maxReceiveCount receives, and redriveBack returns it', async () => {
    const q = queueService(await open());
    await q.createQueue('jobs-dlq');
    await q.createQueue('jobs', {
      visibilityTimeout: 30,
      deadLetter: { queue: 'jobs-dlq', maxReceiveCount: 2 },
    });
    const sent = await q.sendMessage('jobs', {
      body: 'poison',
      attributes: { a: { DataType: 'Number', StringValue: '1' } },
    });
    await q.sendMessage('jobs', { body: 'fine' });
    for (let i = 1; i <= 2; i++) {
      const got = await q.receiveMessages('jobs', { maxMessages: 10 });
      const poison = got.find((m) => m.body === 'poison');
      assert.equal(poison?.receiveCount, i);
      for (const m of got) await q.changeMessageVisibility('jobs', m.receiptHandle, 0);
    }
    // Third receive: the poison message moves instead of being delivered; 'fine' too (also 2 receives).
    const third = await q.receiveMessages('jobs', { maxMessages: 10 });
    assert.deepEqual(third, []);
    assert.deepEqual(await q.counts('jobs'), { visible: 0, inFlight: 0, delayed: 0 });
    const dead = await q.receiveMessages('jobs-dlq', { maxMessages: 10, visibilityTimeout: 0 });
    const poison = dead.find((m) => m.body === 'poison');
    assert.equal(poison?.messageId, sent.messageId);
    assert.deepEqual(poison?.attributes, { a: { DataType: 'Number', StringValue: '1' } });
    assert.equal(await q.redriveBack('jobs-dlq'), 2);
    const back = await q.receiveMessages('jobs', { maxMessages: 10 });
    assert.deepEqual(back.map((m) => m.body).sort(), ['fine', 'poison']);
    assert.equal(back[0]!.receiveCount, 1);
    await assert.rejects(
      q.createQueue('other', { deadLetter: { queue: 'missing-dlq', maxReceiveCount: 3 } }),
      {
        code: 'InvalidParameterValueException',
        message: /deadLetter\.queue 'missing-dlq' does not exist; create it first/,
      },
    );
  });
});
