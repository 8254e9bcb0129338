// In-process tests of the SQS facade's pure parts: MD5 digests against published vectors, error
// mapping, queue URLs and ARNs, message attribute validation and filters, queue attribute mapping.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { md5OfBody, md5OfMessageAttributes } from '../../src/api/sqs/message-md5.js';
import {
  SqsError,
  sqsErrorBody,
  sqsQueryErrorHeader,
  sqsTypeOfCode,
  toSqsError,
} from '../../src/api/sqs/sqs-errors.js';
import {
  checkMessageContents,
  optionalInt,
  parseMessageAttributes,
  queueNameOf,
  queueNameOfArn,
  queueUrl,
  requiredString,
  selectMessageAttributes,
} from '../../src/api/sqs/sqs-shapes.js';
import {
  differingAttributes,
  queueAttributes,
  resolveQueueAttributeNames,
  settingsFromAttributes,
} from '../../src/api/sqs/sqs-queue-attributes.js';
import { SUPPORTED_SQS_ACTIONS } from '../../src/api/sqs/sqs-actions.js';
import { NimbusError } from '../../src/errors.js';
import type { QueueInfo } from '../../src/services/queues/queue-types.js';
import { installLeakGuard } from '../helpers/leak-guard.js';

installLeakGuard();

test('MD5 of a body is the hex md5 of its UTF-8 bytes', () => {
  assert.equal(md5OfBody(''), 'd41d8cd98f00b204e9800998ecf8427e');
  assert.equal(md5OfBody('hello'), '5d41402abc4b2a76b9719d911017c592');
  assert.equal(md5OfBody('é'), '66ddcd97cfdeabb2f6fb8a999b4bc76f'); // md5sum of the UTF-8 bytes c3 a9
});

test('MD5 of message attributes matches the vectors published for SQS', () => {
  // From the SQS developer guide's example and SDK test suites.
  assert.equal(
    md5OfMessageAttributes({ SellerName: { DataType: 'String', StringValue: 'Example Store' } }),
    'cd28f3b68aeee4b2eac9c66f2f694b58',
  );
  assert.equal(
    md5OfMessageAttributes({
      SellerName: { DataType: 'String', StringValue: 'Example Store' },
      Region: { DataType: 'String', StringValue: 'WA' },
      City: { DataType: 'String', StringValue: 'Any City' },
      PostalCode: { DataType: 'String', StringValue: '99065' },
    }),
    '66d793da93becb551e41562575418975',
  );
  assert.equal(
    md5OfMessageAttributes({
      test_attribute_name_2: { DataType: 'String', StringValue: 'test_attribute_value_2' },
      test_attribute_name_1: { DataType: 'String', StringValue: 'test_attribute_value_1' },
    }),
    'd53f3b558fe951154770f25cb63dbba9',
  );
  assert.equal(
    md5OfMessageAttributes({
      test_attribute_name: {
        DataType: 'Binary',
        BinaryValue: Buffer.from('test_attribute_value').toString('base64'),
      },
    }),
    '23f6bd27ea87aab7dfeadcc9aebee495',
  );
  assert.equal(md5OfMessageAttributes({}), undefined);
  assert.equal(md5OfMessageAttributes(undefined), undefined);
});

test('Nimbus codes map to SQS error types, statuses and legacy codes', () => {
  assert.equal(sqsTypeOfCode('ResourceNotFoundException'), 'QueueDoesNotExist');
  assert.equal(sqsTypeOfCode('ResourceConflictException'), 'QueueNameExists');
  assert.equal(sqsTypeOfCode('ReceiptHandleIsInvalidException'), 'ReceiptHandleIsInvalid');
  assert.equal(sqsTypeOfCode('InvalidSignatureException'), 'SignatureDoesNotMatch');
  assert.equal(sqsTypeOfCode('SomethingNew', 400), 'InvalidParameterValue');
  assert.equal(sqsTypeOfCode('SomethingNew', 503), 'InternalError');

  const { error, unexpected } = toSqsError(new NimbusError('ResourceNotFoundException', 'queue x is gone'));
  assert.equal(unexpected, false);
  assert.equal(error.status, 400);
  assert.deepEqual(sqsErrorBody(error), {
    __type: 'com.amazonaws.sqs#QueueDoesNotExist',
    message: 'queue x is gone',
  });
  assert.equal(sqsQueryErrorHeader(error), 'AWS.SimpleQueueService.NonExistentQueue;Sender');
  const internal = toSqsError(new Error('boom'));
  assert.equal(internal.unexpected, true);
  assert.equal(sqsQueryErrorHeader(internal.error), 'InternalError;Receiver');
  assert.equal(new SqsError('QueueNameExists', 'x').queryCode, 'QueueAlreadyExists');
});

test('queue URLs: built from the origin, parsed by their last segment; ARNs by their last field', () => {
  assert.equal(
    queueUrl('http://127.0.0.1:9', '000000000000', 'jobs'),
    'http://127.0.0.1:9/000000000000/jobs',
  );
  assert.equal(queueNameOf('http://127.0.0.1:9/000000000000/jobs'), 'jobs');
  assert.equal(queueNameOf('https://sqs.us-east-1.amazonaws.com/123456789012/orders.fifo'), 'orders.fifo');
  assert.equal(queueNameOf('jobs'), 'jobs');
  assert.throws(
    () => queueNameOf('http://host/'),
    (e: SqsError) => e.type === 'InvalidAddress',
  );
  assert.equal(queueNameOfArn('arn:aws:sqs:us-east-1:000000000000:dlq'), 'dlq');
  assert.equal(queueNameOfArn('dlq'), 'dlq');
  assert.throws(
    () => queueNameOfArn('arn:aws:sns:us-east-1:0:x'),
    (e: SqsError) => e.type === 'InvalidParameterValue',
  );
});

test('request members: missing and out-of-range values name the parameter', () => {
  assert.throws(
    () => requiredString({}, 'QueueUrl'),
    (e: SqsError) => e.type === 'MissingParameter' && e.message.includes('QueueUrl'),
  );
  assert.equal(optionalInt({ N: 5 }, 'N', 1, 10), 5);
  assert.equal(optionalInt({ N: '7' }, 'N', 1, 10), 7);
  assert.throws(
    () => optionalInt({ MaxNumberOfMessages: 11 }, 'MaxNumberOfMessages', 1, 10),
    (e: SqsError) => e.type === 'InvalidParameterValue' && e.message.includes('from 1 to 10'),
  );
  checkMessageContents('tab\tnew\nline\r ok ✓ 😀', 'body');
  assert.throws(
    () => checkMessageContents('bad\u0001', 'the message body'),
    (e: SqsError) => e.type === 'InvalidMessageContents' && e.message.includes('U+0001'),
  );
});

test('message attributes: validated on send, filtered on receive', () => {
  const attrs = parseMessageAttributes({
    a: { DataType: 'String', StringValue: 'x' },
    'n.1': { DataType: 'Number.int', StringValue: '-1.5e3' },
    b: { DataType: 'Binary', BinaryValue: 'AAEC' },
  })!;
  assert.deepEqual(attrs['b'], { DataType: 'Binary', BinaryValue: 'AAEC' });
  assert.throws(
    () => parseMessageAttributes({ a: { DataType: 'Number', StringValue: 'ten' } }),
    /not a number/,
  );
  assert.throws(() => parseMessageAttributes({ a: { DataType: 'Text', StringValue: 'x' } }), /DataType/);
  assert.throws(
    () => parseMessageAttributes({ 'AWS.x': { DataType: 'String', StringValue: 'x' } }),
    /invalid/,
  );
  assert.throws(() => parseMessageAttributes({ a: { DataType: 'Binary', StringValue: 'x' } }), /BinaryValue/);
  const eleven = Object.fromEntries(
    Array.from({ length: 11 }, (_, i) => [`k${i}`, { DataType: 'String', StringValue: 'v' }]),
  );
  assert.throws(() => parseMessageAttributes(eleven), /exceeds the allowed maximum/);

  assert.equal(selectMessageAttributes(attrs, undefined), undefined);
  assert.deepEqual(Object.keys(selectMessageAttributes(attrs, ['All'])!), ['a', 'n.1', 'b']);
  assert.deepEqual(Object.keys(selectMessageAttributes(attrs, ['n.*'])!), ['n.1']);
  assert.deepEqual(Object.keys(selectMessageAttributes(attrs, ['a', 'zz'])!), ['a']);
});

test('queue attributes: SQS names to settings and back', () => {
  assert.deepEqual(
    settingsFromAttributes(
      {
        VisibilityTimeout: '60',
        DelaySeconds: '2',
        FifoQueue: 'true',
        ContentBasedDeduplication: 'true',
        RedrivePolicy: JSON.stringify({
          deadLetterTargetArn: 'arn:aws:sqs:us-east-1:000000000000:dlq',
          maxReceiveCount: '3',
        }),
        SqsManagedSseEnabled: 'true',
      },
      true,
    ),
    {
      visibilityTimeout: 60,
      delaySeconds: 2,
      fifo: true,
      contentBasedDeduplication: true,
      deadLetter: { queue: 'dlq', maxReceiveCount: 3 },
    },
  );
  assert.deepEqual(settingsFromAttributes({ RedrivePolicy: '' }, false), { deadLetter: undefined });
  assert.throws(
    () => settingsFromAttributes({ FifoQueue: 'true' }, false),
    (e: SqsError) => e.type === 'InvalidAttributeName',
  );
  assert.throws(
    () => settingsFromAttributes({ Bogus: '1' }, true),
    (e: SqsError) => e.type === 'InvalidAttributeName',
  );
  assert.throws(
    () => settingsFromAttributes({ DelaySeconds: 'soon' }, true),
    (e: SqsError) => e.type === 'InvalidAttributeValue',
  );
  assert.throws(() => settingsFromAttributes({ RedrivePolicy: '{"x":1}' }, true), /deadLetterTargetArn/);

  const info: QueueInfo = {
    name: 'jobs',
    arn: 'arn:aws:sqs:us-east-1:000000000000:jobs',
    createdAt: 1_700_000_000_500,
    settings: {
      visibilityTimeout: 30,
      delaySeconds: 0,
      messageRetentionPeriod: 345600,
      maximumMessageSize: 262144,
      receiveMessageWaitTime: 0,
      fifo: false,
      contentBasedDeduplication: false,
      deadLetter: { queue: 'dlq', maxReceiveCount: 4 },
    },
  };
  const names = resolveQueueAttributeNames(['All']);
  const out = queueAttributes(
    info,
    { visible: 3, inFlight: 2, delayed: 1 },
    names,
    'us-east-1',
    '000000000000',
  );
  assert.equal(out['ApproximateNumberOfMessages'], '3');
  assert.equal(out['ApproximateNumberOfMessagesNotVisible'], '2');
  assert.equal(out['ApproximateNumberOfMessagesDelayed'], '1');
  assert.equal(out['CreatedTimestamp'], '1700000000');
  assert.equal(out['QueueArn'], info.arn);
  assert.equal(out['FifoQueue'], undefined);
  assert.deepEqual(JSON.parse(out['RedrivePolicy']!), {
    deadLetterTargetArn: 'arn:aws:sqs:us-east-1:000000000000:dlq',
    maxReceiveCount: 4,
  });
  assert.deepEqual(differingAttributes(info.settings, {}), []);
  assert.deepEqual(
    differingAttributes(info.settings, {
      visibilityTimeout: 30,
      deadLetter: { queue: 'dlq', maxReceiveCount: 4 },
    }),
    [],
  );
  assert.deepEqual(differingAttributes(info.settings, { visibilityTimeout: 31, deadLetter: undefined }), [
    'VisibilityTimeout',
    'RedrivePolicy',
  ]);
  assert.throws(
    () => resolveQueueAttributeNames(['Nope']),
    (e: SqsError) => e.type === 'InvalidAttributeName',
  );
});

test('the action table has the actions the docs list', () => {
  for (const action of ['CreateQueue', 'SendMessage', 'ReceiveMessage', 'DeleteMessageBatch', 'PurgeQueue']) {
    assert.ok(SUPPORTED_SQS_ACTIONS.includes(action), action);
  }
});
