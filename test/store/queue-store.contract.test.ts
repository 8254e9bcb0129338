// QueueStore contract on every backend, with the clock passed in: retention, the FIFO
// deduplication window, visibility expiry, receipts, FIFO blocking by a delayed earlier message,
// dead-lettering inside the claim, and triggers.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { installLeakGuard } from '../helpers/leak-guard.js';
import { forEachStore } from '../helpers/test-stores.js';
import type { ClaimOptions, QueueStore } from '../../src/store/ports/queues.js';

installLeakGuard();

const T0 = 1_800_000_000_000;
const MIN = 60_000;

function claimOptions(over: Partial<ClaimOptions> = {}): ClaimOptions {
  return { max: 10, visibilityMs: 30_000, fifo: false, receipt: 'r'.repeat(16), ...over };
}

async function withQueue(store: QueueStore, name: string): Promise<void> {
  assert.equal(await store.createQueue({ name, settings: '{}', createdAt: T0, updatedAt: T0 }), true);
}

function msg<E extends object = object>(
  id: string,
  body: string,
  visibleAt = T0,
  expiresAt = T0 + 10 * MIN,
  extra: E = {} as E,
): { messageId: string; body: string; visibleAt: number; expiresAt: number } & E {
  return { messageId: id, body, visibleAt, expiresAt, ...extra };
}

forEachStore((_name, open) => {
  test('create is idempotent; list by prefix; delete drops messages', async () => {
    const { queues } = await open();
    await withQueue(queues, 'a1');
    await withQueue(queues, 'a2');
    await withQueue(queues, 'b1');
    assert.equal(
      await queues.createQueue({ name: 'a1', settings: '{"x":1}', createdAt: T0, updatedAt: T0 }),
      false,
    );
    assert.equal((await queues.getQueue('a1'))?.settings, '{}');
    assert.deepEqual(
      (await queues.listQueues('a')).map((q) => q.name),
      ['a1', 'a2'],
    );
    await queues.send('a1', [msg('m1', 'x')], T0);
    assert.equal(await queues.deleteQueue('a1'), true);
    await withQueue(queues, 'a1');
    assert.deepEqual(await queues.counts('a1', T0), { visible: 0, inFlight: 0, delayed: 0 });
  });

  test('retention: expired messages are neither claimed nor counted, and the sweep drops them', async () => {
    const { queues } = await open();
    await withQueue(queues, 'q');
    await queues.send('q', [msg('old', 'old', T0, T0 + MIN), msg('new', 'new', T0, T0 + 5 * MIN)], T0);
    const later = T0 + 2 * MIN;
    assert.deepEqual(await queues.counts('q', later), { visible: 1, inFlight: 0, delayed: 0 });
    const got = await queues.claim('q', claimOptions(), later);
    assert.deepEqual(
      got.map((m) => m.messageId),
      ['new'],
    );
    assert.equal(await queues.sweep(later), 1);
  });

  test('visibility and receipts: expiry redelivers with the new receipt; old receipts do nothing', async () => {
    const { queues } = await open();
    await withQueue(queues, 'q');
    await queues.send('q', [msg('m', 'body')], T0);
    const [first] = await queues.claim('q', claimOptions({ receipt: 'a'.repeat(16) }), T0);
    assert.equal(first?.receiveCount, 1);
    assert.equal(first?.firstReceivedAt, T0);
    assert.deepEqual(await queues.claim('q', claimOptions(), T0 + 29_999), []);
    const [second] = await queues.claim('q', claimOptions({ receipt: 'b'.repeat(16) }), T0 + 30_000);
    assert.equal(second?.receiveCount, 2);
    assert.equal(second?.firstReceivedAt, T0, 'first receive time is kept');
    assert.equal(await queues.changeVisibility('q', second!.seq, 'a'.repeat(16), T0, T0 + 30_001), false);
    assert.equal(await queues.deleteMessage('q', second!.seq, 'a'.repeat(16)), false);
    assert.equal(await queues.deleteMessage('q', second!.seq, 'b'.repeat(16)), true);

    // Batch delete: only the pairs whose receipt is current.
    await queues.send('q', [msg('x', 'x'), msg('y', 'y'), msg('z', 'z')], T0);
    const got = await queues.claim('q', claimOptions({ receipt: 'c'.repeat(16) }), T0);
    assert.equal(got.length, 3);
    const deleted = await queues.deleteMessages('q', [
      { seq: got[0]!.seq, receipt: 'c'.repeat(16) },
      { seq: got[1]!.seq, receipt: 'stale'.padEnd(16, '_') },
      { seq: got[2]!.seq, receipt: 'c'.repeat(16) },
    ]);
    assert.equal(deleted, 2);
    assert.deepEqual(await queues.counts('q', T0), { visible: 0, inFlight: 1, delayed: 0 });
  });

  test('FIFO: the dedup window lasts until dedupUntil; an earlier delayed message blocks its group', async () => {
    const { queues } = await open();
    await withQueue(queues, 'f.fifo');
    const send = (id: string, dedup: string, now: number, visibleAt = now) =>
      queues.sendFifo(
        'f.fifo',
        {
          message: msg(id, id, visibleAt, now + 10 * MIN, { groupId: 'g', dedupId: dedup }),
          dedupUntil: now + 5 * MIN,
        },
        now,
      );
    const a = await send('a', 'k', T0);
    assert.equal(a.duplicate, false);
    const dup = await send('a2', 'k', T0 + MIN);
    assert.deepEqual(dup, { messageId: 'a', seq: a.seq, duplicate: true });
    const after = await send('a3', 'k', T0 + 5 * MIN);
    assert.equal(after.duplicate, false, 'a new message once the window has passed');
    assert.ok(after.seq > a.seq);

    await withQueue(queues, 'g.fifo');
    // m1 delayed until T0+10s, m2 visible now: m2 must wait for m1.
    await queues.sendFifo(
      'g.fifo',
      {
        message: msg('m1', 'm1', T0 + 10_000, T0 + MIN, { groupId: 'g', dedupId: '1' }),
        dedupUntil: T0 + MIN,
      },
      T0,
    );
    await queues.sendFifo(
      'g.fifo',
      { message: msg('m2', 'm2', T0, T0 + MIN, { groupId: 'g', dedupId: '2' }), dedupUntil: T0 + MIN },
      T0,
    );
    assert.deepEqual(await queues.claim('g.fifo', claimOptions({ fifo: true }), T0), []);
    const got = await queues.claim('g.fifo', claimOptions({ fifo: true }), T0 + 10_000);
    assert.deepEqual(
      got.map((m) => m.messageId),
      ['m1', 'm2'],
    );
  });

  test('dead-lettering happens inside the claim and keeps the message; redrive brings it back', async () => {
    const { queues } = await open();
    await withQueue(queues, 'src');
    await withQueue(queues, 'dlq');
    await queues.send(
      'src',
      [
        msg('p', 'poison', T0, T0 + 10 * MIN, {
          attributes: '{"a":{"DataType":"String","StringValue":"1"}}',
        }),
      ],
      T0,
    );
    const dl = { queue: 'dlq', maxReceiveCount: 1 };
    assert.equal(
      (await queues.claim('src', claimOptions({ deadLetter: dl, visibilityMs: 0 }), T0)).length,
      1,
    );
    assert.deepEqual(await queues.claim('src', claimOptions({ deadLetter: dl }), T0 + 1), []);
    const [dead] = await queues.claim('dlq', claimOptions(), T0 + 2);
    assert.equal(dead?.messageId, 'p');
    assert.equal(dead?.receiveCount, 1);
    assert.equal(dead?.attributes, '{"a":{"DataType":"String","StringValue":"1"}}');
    assert.equal(await queues.redrive('dlq', undefined, T0 + 3), 1);
    assert.deepEqual(await queues.counts('src', T0 + 3), { visible: 1, inFlight: 0, delayed: 0 });
    // A dead-letter queue that no longer exists: the message is delivered instead of lost.
    assert.equal(await queues.deleteQueue('dlq'), true);
    await queues.claim('src', claimOptions({ visibilityMs: 0 }), T0 + 4);
    const again = await queues.claim('src', claimOptions({ deadLetter: dl }), T0 + 5);
    assert.equal(again[0]?.messageId, 'p');
  });

  test('triggers: replace per app, or per function', async () => {
    const { queues } = await open();
    const t = (id: string, app: string, fn: string) => ({
      id,
      app,
      functionName: fn,
      queue: 'q',
      settings: '{}',
      createdAt: T0,
    });
    await queues.replaceTriggers('a', undefined, [t('1', 'a', 'a-f'), t('2', 'a', 'a-g')]);
    await queues.replaceTriggers('b', undefined, [t('3', 'b', 'b-f')]);
    await queues.replaceTriggers('a', ['a-g'], [t('4', 'a', 'a-g')]);
    assert.deepEqual(
      (await queues.listTriggers()).map((x) => x.id),
      ['1', '3', '4'],
    );
    await queues.replaceTriggers('a', undefined, []);
    assert.deepEqual(
      (await queues.listTriggers()).map((x) => x.id),
      ['3'],
    );
  });
});
