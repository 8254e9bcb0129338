// The SQS event record of a received message, and reading ReportBatchItemFailures responses.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { failedItems, toSqsRecord } from '../../../src/events/queues/sqs-event.js';
import { parseQueueTrigger } from '../../../src/events/queues/queue-trigger-config.js';
import { installLeakGuard } from '../../helpers/leak-guard.js';

installLeakGuard();

test('a FIFO message becomes a Lambda SQS record', () => {
  const r = toSqsRecord(
    {
      messageId: 'id-1',
      receiptHandle: 'h',
      body: 'test',
      attributes: { bin: { DataType: 'Binary', BinaryValue: 'AAE=' } },
      receiveCount: 2,
      sentAt: 1000,
      firstReceivedAt: 2000,
      groupId: 'g',
      deduplicationId: 'd',
      sequenceNumber: '00000000000000000007',
    },
    'arn:aws:sqs:eu-west-1:1:q.fifo',
    'eu-west-1',
    '1',
  );
  assert.deepEqual(r, {
    messageId: 'id-1',
    receiptHandle: 'h',
    body: 'test',
    attributes: {
      ApproximateReceiveCount: '2',
      SentTimestamp: '1000',
      SenderId: '1',
      ApproximateFirstReceiveTimestamp: '2000',
      SequenceNumber: '00000000000000000007',
      MessageGroupId: 'g',
      MessageDeduplicationId: 'd',
    },
    messageAttributes: {
      bin: { dataType: 'Binary', binaryValue: 'AAE=', stringListValues: [], binaryListValues: [] },
    },
    md5OfBody: '098f6bcd4621d373cade4e832627b4f6',
    eventSource: 'aws:sqs',
    eventSourceARN: 'arn:aws:sqs:eu-west-1:1:q.fifo',
    awsRegion: 'eu-west-1',
  });
});

test('batchItemFailures: listed ids fail; empty or null means success; anything invalid fails the batch', () => {
  const ids = new Set(['a', 'b']);
  const of = (v: unknown) => failedItems(Buffer.from(v === undefined ? '' : JSON.stringify(v)), ids);
  assert.deepEqual([...(of({ batchItemFailures: [{ itemIdentifier: 'b' }] }) as Set<string>)], ['b']);
  assert.deepEqual([...(of({ batchItemFailures: [] }) as Set<string>)], []);
  assert.deepEqual([...(of(null) as Set<string>)], []);
  assert.deepEqual([...(of(undefined) as Set<string>)], []);
  assert.deepEqual([...(of({ ok: true }) as Set<string>)], []);
  assert.equal(of({ batchItemFailures: [{ itemIdentifier: 'zzz' }] }), 'all');
  assert.equal(of({ batchItemFailures: [{ itemIdentifier: '' }] }), 'all');
  assert.equal(of({ batchItemFailures: 'b' }), 'all');
  assert.equal(failedItems(Buffer.from('{not json'), ids), 'all');
});

test('trigger options: defaults, the Serverless sqs spelling, and errors naming the path', () => {
  assert.deepEqual(parseQueueTrigger('queue', 'jobs', 'x'), {
    queue: 'jobs',
    batchSize: 10,
    batchWindow: 0,
    maxConcurrency: 2,
    reportBatchItemFailures: false,
    enabled: true,
  });
  assert.deepEqual(
    parseQueueTrigger(
      'sqs',
      {
        arn: 'arn:aws:sqs:us-east-1:123:jobs',
        batchSize: 500,
        maximumBatchingWindow: 5,
        functionResponseType: 'ReportBatchItemFailures',
      },
      'x',
    ),
    {
      queue: 'jobs',
      batchSize: 500,
      batchWindow: 5,
      maxConcurrency: 2,
      reportBatchItemFailures: true,
      enabled: true,
    },
  );
  assert.throws(
    () => parseQueueTrigger('queue', { queue: 'jobs', batchWindow: 301 }, 'functions.f.events[0].queue'),
    /functions\.f\.events\[0\]\.queue\.batchWindow: 301/,
  );
  assert.throws(() => parseQueueTrigger('queue', { queue: 'jobs', size: 1 }, 'p'), /unknown option 'size'/);
  assert.throws(() => parseQueueTrigger('queue', 42, 'p'), /use `queue: <queue>`/);
});
