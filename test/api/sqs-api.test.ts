// End to end over a real socket: the official @aws-sdk/client-sqs against a Nimbus server on every
// store: queues, messages with attributes (the SDK checks the MD5s), batches, visibility and long
// polls (FIFO, redrive, errors and triggers: sqs-api-more.test.ts).
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';

import {
  ChangeMessageVisibilityCommand,
  DeleteMessageBatchCommand,
  DeleteMessageCommand,
  DeleteQueueCommand,
  GetQueueAttributesCommand,
  GetQueueUrlCommand,
  ListQueuesCommand,
  QueueNameExists,
  ReceiveMessageCommand,
  SendMessageBatchCommand,
  SendMessageCommand,
  SetQueueAttributesCommand,
  TooManyEntriesInBatchRequest,
} from '@aws-sdk/client-sqs';
import { md5OfMessageAttributes } from '../../src/api/sqs/message-md5.js';
import { installLeakGuard } from '../helpers/leak-guard.js';
import { forEachStore } from '../helpers/test-stores.js';
import { sqsServer } from './sqs-fixture.js';

installLeakGuard();

forEachStore((storeName, open) => {
  describe(`SQS API (${storeName})`, () => {
    const f = sqsServer(open);
    const { client, create } = f;

    test('create, get URL, list with prefix and pages, attributes, set attributes, delete', async () => {
      const url = await create('orders', { VisibilityTimeout: '45', DelaySeconds: '0' });
      assert.equal(url, `${f.t.url}/000000000000/orders`);
      assert.equal(await create('orders', { VisibilityTimeout: '45' }), url, 'same settings: idempotent');
      assert.equal(await create('orders'), url, 'no attributes: the existing queue');
      await assert.rejects(create('orders', { VisibilityTimeout: '46' }), (err: Error) => {
        assert.ok(err instanceof QueueNameExists);
        assert.match(err.message, /VisibilityTimeout/);
        return true;
      });
      await create('orders-archive');
      await create('other');
      const got = await f.sqs.send(new GetQueueUrlCommand({ QueueName: 'orders' }));
      assert.equal(got.QueueUrl, url);

      const listed = await f.sqs.send(new ListQueuesCommand({ QueueNamePrefix: 'orders' }));
      assert.deepEqual(listed.QueueUrls, [url, `${f.t.url}/000000000000/orders-archive`]);
      const page1 = await f.sqs.send(new ListQueuesCommand({ QueueNamePrefix: 'orders', MaxResults: 1 }));
      assert.deepEqual(page1.QueueUrls, [url]);
      assert.ok(page1.NextToken);
      const page2 = await f.sqs.send(
        new ListQueuesCommand({ QueueNamePrefix: 'orders', MaxResults: 1, NextToken: page1.NextToken }),
      );
      assert.deepEqual(page2.QueueUrls, [`${f.t.url}/000000000000/orders-archive`]);
      assert.equal(page2.NextToken, undefined);

      const attrs = await f.sqs.send(
        new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ['All'] }),
      );
      assert.equal(attrs.Attributes?.['VisibilityTimeout'], '45');
      assert.equal(attrs.Attributes?.['QueueArn'], 'arn:aws:sqs:us-east-1:000000000000:orders');
      assert.equal(attrs.Attributes?.['ApproximateNumberOfMessages'], '0');
      assert.match(attrs.Attributes?.['CreatedTimestamp'] ?? '', /^\d{10}$/);

      await f.sqs.send(
        new SetQueueAttributesCommand({ QueueUrl: url, Attributes: { VisibilityTimeout: '10' } }),
      );
      const after = await f.sqs.send(
        new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ['VisibilityTimeout'] }),
      );
      assert.deepEqual(after.Attributes, { VisibilityTimeout: '10' });

      await f.sqs.send(new DeleteQueueCommand({ QueueUrl: 'orders-archive' }));
      const left = await f.sqs.send(new ListQueuesCommand({ QueueNamePrefix: 'orders' }));
      assert.deepEqual(left.QueueUrls, [url]);
    });

    test('send, receive and delete with message attributes (the SDK verifies the MD5s)', async () => {
      const url = await create('attrs');
      const MessageAttributes = {
        SellerName: { DataType: 'String', StringValue: 'Example Store' },
        Count: { DataType: 'Number', StringValue: '3' },
        Blob: { DataType: 'Binary', BinaryValue: Buffer.from([0, 1, 2, 255]) },
      };
      const body = 'héllo ✓ {"json": true}\n';
      const sent = await f.sqs.send(
        new SendMessageCommand({ QueueUrl: url, MessageBody: body, MessageAttributes }),
      );
      assert.ok(sent.MessageId);
      const expectedMd5 = md5OfMessageAttributes({
        SellerName: MessageAttributes.SellerName,
        Count: MessageAttributes.Count,
        Blob: { DataType: 'Binary', BinaryValue: Buffer.from([0, 1, 2, 255]).toString('base64') },
      });
      assert.equal(sent.MD5OfMessageAttributes, expectedMd5);

      const got = await f.sqs.send(
        new ReceiveMessageCommand({
          QueueUrl: url,
          MessageAttributeNames: ['All'],
          MessageSystemAttributeNames: ['All'],
        }),
      );
      assert.equal(got.Messages?.length, 1);
      const m = got.Messages![0]!;
      assert.equal(m.Body, body);
      assert.equal(m.MessageId, sent.MessageId);
      assert.equal(m.MD5OfMessageAttributes, expectedMd5);
      assert.equal(m.MessageAttributes?.['SellerName']?.StringValue, 'Example Store');
      assert.deepEqual([...(m.MessageAttributes?.['Blob']?.BinaryValue ?? [])], [0, 1, 2, 255]);
      assert.equal(m.Attributes?.['ApproximateReceiveCount'], '1');
      assert.match(m.Attributes?.['SentTimestamp'] ?? '', /^\d{13}$/);

      const inFlight = await f.sqs.send(
        new GetQueueAttributesCommand({
          QueueUrl: url,
          AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'],
        }),
      );
      assert.deepEqual(inFlight.Attributes, {
        ApproximateNumberOfMessages: '0',
        ApproximateNumberOfMessagesNotVisible: '1',
      });
      await f.sqs.send(new DeleteMessageCommand({ QueueUrl: url, ReceiptHandle: m.ReceiptHandle }));
      const empty = await f.sqs.send(new ReceiveMessageCommand({ QueueUrl: url }));
      assert.equal(empty.Messages, undefined);
      const counts = await f.sqs.send(
        new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ['All'] }),
      );
      assert.equal(counts.Attributes?.['ApproximateNumberOfMessagesNotVisible'], '0');

      // Only the attributes asked for come back.
      await f.sqs.send(new SendMessageCommand({ QueueUrl: url, MessageBody: 'x', MessageAttributes }));
      const some = await f.sqs.send(
        new ReceiveMessageCommand({ QueueUrl: url, MessageAttributeNames: ['Sell*', 'Count'] }),
      );
      assert.deepEqual(Object.keys(some.Messages![0]!.MessageAttributes ?? {}).sort(), ['Count']);
    });

    test('batches: a failing entry fails alone; too many entries fail the call', async () => {
      const url = await create('batch');
      const sent = await f.sqs.send(
        new SendMessageBatchCommand({
          QueueUrl: url,
          Entries: [
            { Id: 'a', MessageBody: 'one' },
            {
              Id: 'b',
              MessageBody: 'two',
              MessageAttributes: { n: { DataType: 'Number', StringValue: 'NaN!' } },
            },
            { Id: 'c', MessageBody: 'three', DelaySeconds: 0 },
          ],
        }),
      );
      assert.deepEqual(sent.Successful?.map((s) => s.Id).sort(), ['a', 'c']);
      assert.equal(sent.Failed?.length, 1);
      assert.equal(sent.Failed![0]!.Id, 'b');
      assert.equal(sent.Failed![0]!.SenderFault, true);
      assert.equal(sent.Failed![0]!.Code, 'InvalidParameterValue');

      await assert.rejects(
        f.sqs.send(
          new SendMessageBatchCommand({
            QueueUrl: url,
            Entries: Array.from({ length: 11 }, (_, i) => ({ Id: `m${i}`, MessageBody: 'x' })),
          }),
        ),
        (err: Error) => err instanceof TooManyEntriesInBatchRequest,
      );

      const got = await f.sqs.send(new ReceiveMessageCommand({ QueueUrl: url, MaxNumberOfMessages: 10 }));
      assert.deepEqual(got.Messages?.map((m) => m.Body).sort(), ['one', 'three']);
      const deleted = await f.sqs.send(
        new DeleteMessageBatchCommand({
          QueueUrl: url,
          Entries: [
            ...got.Messages!.map((m, i) => ({ Id: `d${i}`, ReceiptHandle: m.ReceiptHandle })),
            { Id: 'bad', ReceiptHandle: 'not-a-receipt-handle' },
          ],
        }),
      );
      assert.deepEqual(deleted.Successful?.map((s) => s.Id).sort(), ['d0', 'd1']);
      assert.equal(deleted.Failed?.[0]?.Id, 'bad');
      assert.equal(deleted.Failed?.[0]?.Code, 'ReceiptHandleIsInvalid');
    });

    test('ChangeMessageVisibility makes a received message visible again', async () => {
      const url = await create('visibility', { VisibilityTimeout: '600' });
      await f.sqs.send(new SendMessageCommand({ QueueUrl: url, MessageBody: 'again' }));
      const first = await f.sqs.send(new ReceiveMessageCommand({ QueueUrl: url }));
      const handle = first.Messages![0]!.ReceiptHandle!;
      assert.equal((await f.sqs.send(new ReceiveMessageCommand({ QueueUrl: url }))).Messages, undefined);
      await f.sqs.send(
        new ChangeMessageVisibilityCommand({ QueueUrl: url, ReceiptHandle: handle, VisibilityTimeout: 0 }),
      );
      const second = await f.sqs.send(
        new ReceiveMessageCommand({
          QueueUrl: url,
          MessageSystemAttributeNames: ['ApproximateReceiveCount'],
        }),
      );
      assert.equal(second.Messages?.[0]?.Body, 'again');
      assert.equal(second.Messages?.[0]?.Attributes?.['ApproximateReceiveCount'], '2');
    });

    test('a long poll returns the message another client sends while it waits', async () => {
      const url = await create('longpoll');
      const other = client();
      const waiting = f.sqs.send(new ReceiveMessageCommand({ QueueUrl: url, WaitTimeSeconds: 10 }));
      await sleep(300);
      await other.send(new SendMessageCommand({ QueueUrl: url, MessageBody: 'wake up' }));
      const got = await waiting;
      assert.equal(got.Messages?.[0]?.Body, 'wake up');
    });

    test('a long poll ends when its client disconnects (it does not swallow a later message)', async () => {
      const url = await create('abandoned');
      const ac = new AbortController();
      const waiting = f.sqs.send(new ReceiveMessageCommand({ QueueUrl: url, WaitTimeSeconds: 20 }), {
        abortSignal: ac.signal,
      });
      await sleep(200);
      ac.abort();
      await assert.rejects(waiting);
      await sleep(200);
      await f.sqs.send(new SendMessageCommand({ QueueUrl: url, MessageBody: 'for the next receiver' }));
      const got = await f.sqs.send(new ReceiveMessageCommand({ QueueUrl: url, WaitTimeSeconds: 2 }));
      assert.equal(got.Messages?.[0]?.Body, 'for the next receiver');
    });
  });
});
