// End to end over a real socket: the official @aws-sdk/client-sqs against a Nimbus server on every
// store: queues, messages with attributes (the SDK checks the MD5s), batches, visibility, long
// polls, FIFO, redrive to a dead-letter queue, purge, and SQS's error types.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { Sha256 } from '@aws-crypto/sha256-js';
import { HttpRequest } from '@smithy/protocol-http';
import { SignatureV4 } from '@smithy/signature-v4';
import {
  ChangeMessageVisibilityBatchCommand,
  ChangeMessageVisibilityCommand,
  CreateQueueCommand,
  DeleteMessageBatchCommand,
  DeleteMessageCommand,
  DeleteQueueCommand,
  GetQueueAttributesCommand,
  GetQueueUrlCommand,
  ListDeadLetterSourceQueuesCommand,
  ListQueuesCommand,
  PurgeQueueCommand,
  QueueDoesNotExist,
  QueueNameExists,
  ReceiveMessageCommand,
  SendMessageBatchCommand,
  SendMessageCommand,
  SetQueueAttributesCommand,
  SQSClient,
  StartMessageMoveTaskCommand,
  TagQueueCommand,
  TooManyEntriesInBatchRequest,
} from '@aws-sdk/client-sqs';
import { md5OfMessageAttributes } from '../../src/api/sqs/message-md5.js';
import { installLeakGuard } from '../helpers/leak-guard.js';
import { forEachStore } from '../helpers/test-stores.js';
import { startTestServer, type TestServer } from '../helpers/test-server.js';

installLeakGuard();

forEachStore((storeName, open) => {
  describe(`SQS API (${storeName})`, () => {
    let t: TestServer;
    let sqs: SQSClient;
    const clients: SQSClient[] = [];
    const client = (
      secretAccessKey = t.credentials.secretAccessKey,
      accessKeyId = t.credentials.accessKeyId,
    ): SQSClient => {
      const c = new SQSClient({
        endpoint: t.url,
        region: 'us-east-1',
        credentials: { accessKeyId, secretAccessKey },
        maxAttempts: 1,
      });
      clients.push(c);
      return c;
    };
    const create = async (name: string, Attributes?: Record<string, string>): Promise<string> =>
      (await sqs.send(new CreateQueueCommand({ QueueName: name, Attributes }))).QueueUrl!;

    before(async () => {
      t = await startTestServer({ store: await open() });
      sqs = client();
    });
    after(async () => {
      for (const c of clients) c.destroy();
      await t.close();
    });

    test('create, get URL, list with prefix and pages, attributes, set attributes, delete', async () => {
      const url = await create('orders', { VisibilityTimeout: '45', DelaySeconds: '0' });
      assert.equal(url, `${t.url}/000000000000/orders`);
      assert.equal(await create('orders', { VisibilityTimeout: '45' }), url, 'same settings: idempotent');
      assert.equal(await create('orders'), url, 'no attributes: the existing queue');
      await assert.rejects(create('orders', { VisibilityTimeout: '46' }), (err: Error) => {
        assert.ok(err instanceof QueueNameExists);
        assert.match(err.message, /VisibilityTimeout/);
        return true;
      });
      await create('orders-archive');
      await create('other');
      const got = await sqs.send(new GetQueueUrlCommand({ QueueName: 'orders' }));
      assert.equal(got.QueueUrl, url);

      const listed = await sqs.send(new ListQueuesCommand({ QueueNamePrefix: 'orders' }));
      assert.deepEqual(listed.QueueUrls, [url, `${t.url}/000000000000/orders-archive`]);
      const page1 = await sqs.send(new ListQueuesCommand({ QueueNamePrefix: 'orders', MaxResults: 1 }));
      assert.deepEqual(page1.QueueUrls, [url]);
      assert.ok(page1.NextToken);
      const page2 = await sqs.send(
        new ListQueuesCommand({ QueueNamePrefix: 'orders', MaxResults: 1, NextToken: page1.NextToken }),
      );
      assert.deepEqual(page2.QueueUrls, [`${t.url}/000000000000/orders-archive`]);
      assert.equal(page2.NextToken, undefined);

      const attrs = await sqs.send(new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ['All'] }));
      assert.equal(attrs.Attributes?.['VisibilityTimeout'], '45');
      assert.equal(attrs.Attributes?.['QueueArn'], 'arn:aws:sqs:us-east-1:000000000000:orders');
      assert.equal(attrs.Attributes?.['ApproximateNumberOfMessages'], '0');
      assert.match(attrs.Attributes?.['CreatedTimestamp'] ?? '', /^\d{10}$/);

      await sqs.send(
        new SetQueueAttributesCommand({ QueueUrl: url, Attributes: { VisibilityTimeout: '10' } }),
      );
      const after = await sqs.send(
        new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ['VisibilityTimeout'] }),
      );
      assert.deepEqual(after.Attributes, { VisibilityTimeout: '10' });

      await sqs.send(new DeleteQueueCommand({ QueueUrl: 'orders-archive' }));
      const left = await sqs.send(new ListQueuesCommand({ QueueNamePrefix: 'orders' }));
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
      const sent = await sqs.send(
        new SendMessageCommand({ QueueUrl: url, MessageBody: body, MessageAttributes }),
      );
      assert.ok(sent.MessageId);
      const expectedMd5 = md5OfMessageAttributes({
        SellerName: MessageAttributes.SellerName,
        Count: MessageAttributes.Count,
        Blob: { DataType: 'Binary', BinaryValue: Buffer.from([0, 1, 2, 255]).toString('base64') },
      });
      assert.equal(sent.MD5OfMessageAttributes, expectedMd5);

      const got = await sqs.send(
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

      const inFlight = await sqs.send(
        new GetQueueAttributesCommand({
          QueueUrl: url,
          AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'],
        }),
      );
      assert.deepEqual(inFlight.Attributes, {
        ApproximateNumberOfMessages: '0',
        ApproximateNumberOfMessagesNotVisible: '1',
      });
      await sqs.send(new DeleteMessageCommand({ QueueUrl: url, ReceiptHandle: m.ReceiptHandle }));
      const empty = await sqs.send(new ReceiveMessageCommand({ QueueUrl: url }));
      assert.equal(empty.Messages, undefined);
      const counts = await sqs.send(
        new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ['All'] }),
      );
      assert.equal(counts.Attributes?.['ApproximateNumberOfMessagesNotVisible'], '0');

      // Only the attributes asked for come back.
      await sqs.send(new SendMessageCommand({ QueueUrl: url, MessageBody: 'x', MessageAttributes }));
      const some = await sqs.send(
        new ReceiveMessageCommand({ QueueUrl: url, MessageAttributeNames: ['Sell*', 'Count'] }),
      );
      assert.deepEqual(Object.keys(some.Messages![0]!.MessageAttributes ?? {}).sort(), ['Count']);
    });

    test('batches: a failing entry fails alone; too many entries fail the call', async () => {
      const url = await create('batch');
      const sent = await sqs.send(
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
        sqs.send(
          new SendMessageBatchCommand({
            QueueUrl: url,
            Entries: Array.from({ length: 11 }, (_, i) => ({ Id: `m${i}`, MessageBody: 'x' })),
          }),
        ),
        (err: Error) => err instanceof TooManyEntriesInBatchRequest,
      );

      const got = await sqs.send(new ReceiveMessageCommand({ QueueUrl: url, MaxNumberOfMessages: 10 }));
      assert.deepEqual(got.Messages?.map((m) => m.Body).sort(), ['one', 'three']);
      const deleted = await sqs.send(
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
      await sqs.send(new SendMessageCommand({ QueueUrl: url, MessageBody: 'again' }));
      const first = await sqs.send(new ReceiveMessageCommand({ QueueUrl: url }));
      const handle = first.Messages![0]!.ReceiptHandle!;
      assert.equal((await sqs.send(new ReceiveMessageCommand({ QueueUrl: url }))).Messages, undefined);
      await sqs.send(
        new ChangeMessageVisibilityCommand({ QueueUrl: url, ReceiptHandle: handle, VisibilityTimeout: 0 }),
      );
      const second = await sqs.send(
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
      const waiting = sqs.send(new ReceiveMessageCommand({ QueueUrl: url, WaitTimeSeconds: 10 }));
      await sleep(300);
      await other.send(new SendMessageCommand({ QueueUrl: url, MessageBody: 'wake up' }));
      const got = await waiting;
      assert.equal(got.Messages?.[0]?.Body, 'wake up');
    });

    test('a long poll ends when its client disconnects (it does not swallow a later message)', async () => {
      const url = await create('abandoned');
      const ac = new AbortController();
      const waiting = sqs.send(new ReceiveMessageCommand({ QueueUrl: url, WaitTimeSeconds: 20 }), {
        abortSignal: ac.signal,
      });
      await sleep(200);
      ac.abort();
      await assert.rejects(waiting);
      await sleep(200);
      await sqs.send(new SendMessageCommand({ QueueUrl: url, MessageBody: 'for the next receiver' }));
      const got = await sqs.send(new ReceiveMessageCommand({ QueueUrl: url, WaitTimeSeconds: 2 }));
      assert.equal(got.Messages?.[0]?.Body, 'for the next receiver');
    });

    test('FIFO: group id, deduplication id, order within a group', async () => {
      const url = await create('jobs.fifo', { FifoQueue: 'true' });
      const a = await sqs.send(
        new SendMessageCommand({
          QueueUrl: url,
          MessageBody: 'first',
          MessageGroupId: 'g',
          MessageDeduplicationId: 'd1',
        }),
      );
      const dup = await sqs.send(
        new SendMessageCommand({
          QueueUrl: url,
          MessageBody: 'first',
          MessageGroupId: 'g',
          MessageDeduplicationId: 'd1',
        }),
      );
      assert.equal(dup.MessageId, a.MessageId, 'a duplicate within the window is accepted but not enqueued');
      assert.ok(a.SequenceNumber);
      await sqs.send(
        new SendMessageCommand({
          QueueUrl: url,
          MessageBody: 'second',
          MessageGroupId: 'g',
          MessageDeduplicationId: 'd2',
        }),
      );
      await assert.rejects(
        sqs.send(new SendMessageCommand({ QueueUrl: url, MessageBody: 'no group' })),
        (err: Error) => err.name === 'InvalidParameterValue' || err.name === 'MissingParameter',
      );
      const got = await sqs.send(
        new ReceiveMessageCommand({
          QueueUrl: url,
          MaxNumberOfMessages: 10,
          MessageSystemAttributeNames: ['All'],
        }),
      );
      assert.deepEqual(
        got.Messages?.map((m) => m.Body),
        ['first', 'second'],
      );
      assert.equal(got.Messages?.[0]?.Attributes?.['MessageGroupId'], 'g');
      assert.equal(got.Messages?.[0]?.Attributes?.['MessageDeduplicationId'], 'd1');
      const attrs = await sqs.send(
        new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ['FifoQueue'] }),
      );
      assert.deepEqual(attrs.Attributes, { FifoQueue: 'true' });
    });

    test('redrive: a poison message moves to the dead-letter queue after maxReceiveCount', async () => {
      const dlqUrl = await create('poison-dlq');
      const url = await create('poison', {
        RedrivePolicy: JSON.stringify({
          deadLetterTargetArn: 'arn:aws:sqs:us-east-1:000000000000:poison-dlq',
          maxReceiveCount: 2,
        }),
      });
      await sqs.send(new SendMessageCommand({ QueueUrl: url, MessageBody: 'poison' }));
      let receives = 0;
      for (let i = 0; i < 5; i++) {
        const got = await sqs.send(new ReceiveMessageCommand({ QueueUrl: url, VisibilityTimeout: 0 }));
        if (got.Messages === undefined) break;
        receives++;
      }
      assert.equal(receives, 2);
      const dead = await sqs.send(
        new ReceiveMessageCommand({
          QueueUrl: dlqUrl,
          MessageSystemAttributeNames: ['ApproximateReceiveCount'],
        }),
      );
      assert.equal(dead.Messages?.[0]?.Body, 'poison');
      const attrs = await sqs.send(
        new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ['RedrivePolicy'] }),
      );
      assert.deepEqual(JSON.parse(attrs.Attributes!['RedrivePolicy']!), {
        deadLetterTargetArn: 'arn:aws:sqs:us-east-1:000000000000:poison-dlq',
        maxReceiveCount: 2,
      });
      // An empty RedrivePolicy removes it, as on SQS.
      await sqs.send(new SetQueueAttributesCommand({ QueueUrl: url, Attributes: { RedrivePolicy: '' } }));
      const removed = await sqs.send(
        new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ['RedrivePolicy'] }),
      );
      assert.equal(removed.Attributes?.['RedrivePolicy'], undefined);
    });

    test('PurgeQueue removes every message', async () => {
      const url = await create('purge');
      for (let i = 0; i < 3; i++)
        await sqs.send(new SendMessageCommand({ QueueUrl: url, MessageBody: `m${i}` }));
      await sqs.send(new PurgeQueueCommand({ QueueUrl: url }));
      assert.equal((await sqs.send(new ReceiveMessageCommand({ QueueUrl: url }))).Messages, undefined);
    });

    test('errors: unknown queue is QueueDoesNotExist, a wrong secret is a signature error', async () => {
      await assert.rejects(
        sqs.send(new GetQueueUrlCommand({ QueueName: 'nope' })),
        (err: Error & { Code?: string }) => {
          assert.equal(err.Code, 'AWS.SimpleQueueService.NonExistentQueue');
          assert.ok(err instanceof QueueDoesNotExist, err.name);
          assert.match(err.message, /nimbus queues create nope/);
          return true;
        },
      );
      await assert.rejects(
        sqs.send(new SendMessageCommand({ QueueUrl: `${t.url}/000000000000/nope`, MessageBody: 'x' })),
        QueueDoesNotExist,
      );
      await assert.rejects(
        client('wrong-secret').send(new ListQueuesCommand({})),
        (err: Error & { $metadata?: { httpStatusCode?: number } }) => {
          assert.equal(err.name, 'SignatureDoesNotMatch');
          assert.equal(err.$metadata?.httpStatusCode, 403);
          return true;
        },
      );
      await assert.rejects(
        client('whatever', 'AKIDUNKNOWN0000000000').send(new ListQueuesCommand({})),
        (err: Error) => err.name === 'InvalidClientTokenId',
      );
      await assert.rejects(
        sqs.send(new CreateQueueCommand({ QueueName: 'bad name!' })),
        (err: Error) => err.name === 'InvalidParameterValue',
      );
    });

    test('delays, visibility batches, dead-letter sources and moving messages back', async () => {
      const url = await create('later');
      await sqs.send(new SendMessageCommand({ QueueUrl: url, MessageBody: 'soon', DelaySeconds: 60 }));
      const delayed = await sqs.send(
        new GetQueueAttributesCommand({
          QueueUrl: url,
          AttributeNames: ['ApproximateNumberOfMessagesDelayed'],
        }),
      );
      assert.deepEqual(delayed.Attributes, { ApproximateNumberOfMessagesDelayed: '1' });
      assert.equal((await sqs.send(new ReceiveMessageCommand({ QueueUrl: url }))).Messages, undefined);

      const dlqUrl = await create('back-dlq');
      const srcUrl = await create('back', {
        VisibilityTimeout: '600',
        RedrivePolicy: JSON.stringify({ deadLetterTargetArn: 'back-dlq', maxReceiveCount: 1 }),
      });
      const sources = await sqs.send(new ListDeadLetterSourceQueuesCommand({ QueueUrl: dlqUrl }));
      assert.deepEqual(sources.queueUrls, [srcUrl]);

      await sqs.send(
        new SendMessageBatchCommand({
          QueueUrl: srcUrl,
          Entries: [
            { Id: 'a', MessageBody: 'a' },
            { Id: 'b', MessageBody: 'b' },
          ],
        }),
      );
      const got = await sqs.send(new ReceiveMessageCommand({ QueueUrl: srcUrl, MaxNumberOfMessages: 10 }));
      assert.equal(got.Messages?.length, 2);
      const changed = await sqs.send(
        new ChangeMessageVisibilityBatchCommand({
          QueueUrl: srcUrl,
          Entries: [
            ...got.Messages!.map((m, i) => ({
              Id: `v${i}`,
              ReceiptHandle: m.ReceiptHandle,
              VisibilityTimeout: 0,
            })),
            { Id: 'bad', ReceiptHandle: 'garbage', VisibilityTimeout: 0 },
          ],
        }),
      );
      assert.deepEqual(changed.Successful?.map((e) => e.Id).sort(), ['v0', 'v1']);
      assert.equal(changed.Failed?.[0]?.Id, 'bad');
      // Received once already: the next receive moves both to the dead-letter queue.
      assert.equal((await sqs.send(new ReceiveMessageCommand({ QueueUrl: srcUrl }))).Messages, undefined);
      const dead = await sqs.send(
        new GetQueueAttributesCommand({ QueueUrl: dlqUrl, AttributeNames: ['ApproximateNumberOfMessages'] }),
      );
      assert.equal(dead.Attributes?.['ApproximateNumberOfMessages'], '2');

      const task = await sqs.send(
        new StartMessageMoveTaskCommand({ SourceArn: 'arn:aws:sqs:us-east-1:000000000000:back-dlq' }),
      );
      assert.ok(task.TaskHandle);
      const back = await sqs.send(new ReceiveMessageCommand({ QueueUrl: srcUrl, MaxNumberOfMessages: 10 }));
      assert.deepEqual(back.Messages?.map((m) => m.Body).sort(), ['a', 'b']);
    });

    test('bad messages: invalid characters, too large, unsupported actions', async () => {
      const url = await create('strict', { MaximumMessageSize: '1024' });
      await assert.rejects(
        sqs.send(new SendMessageCommand({ QueueUrl: url, MessageBody: 'bell \u0007' })),
        (err: Error) => err.name === 'InvalidMessageContents' && /U\+0007/.test(err.message),
      );
      await assert.rejects(
        sqs.send(new SendMessageCommand({ QueueUrl: url, MessageBody: 'x'.repeat(1025) })),
        (err: Error) => err.name === 'InvalidParameterValue',
      );
      await assert.rejects(
        sqs.send(new TagQueueCommand({ QueueUrl: url, Tags: { team: 'a' } })),
        (err: Error) => err.name === 'UnsupportedOperation' && /Supported actions/.test(err.message),
      );
      await assert.rejects(
        sqs.send(new ReceiveMessageCommand({ QueueUrl: url, MaxNumberOfMessages: 11 })),
        (err: Error) => err.name === 'InvalidParameterValue' && /MaxNumberOfMessages/.test(err.message),
      );
    });

    test('a message sent with the SDK triggers a function subscribed in nimbus.yml', async () => {
      await t.deployFiles({
        'nimbus.yml': `app: sqsapi
functions:
  work:
    handler: index.work
    runtime: nodejs
    events:
      - sqs: arn:aws:sqs:us-east-1:000000000000:inbox
resources:
  queues:
    inbox: { visibilityTimeout: 5 }
`,
        'index.mjs': `export const work = async (event) => {
  for (const r of event.Records) console.log('RECORD ' + JSON.stringify(r));
};
`,
      });
      const { QueueUrl } = await sqs.send(new GetQueueUrlCommand({ QueueName: 'inbox' }));
      await sqs.send(
        new SendMessageCommand({
          QueueUrl,
          MessageBody: 'from the sdk',
          MessageAttributes: { k: { DataType: 'String', StringValue: 'v' } },
        }),
      );
      let record:
        | {
            body?: string;
            eventSource?: string;
            messageAttributes?: Record<string, { stringValue?: string }>;
          }
        | undefined;
      for (let i = 0; i < 200 && record === undefined; i++) {
        const { lines } = (await (await t.fetchV1('/v1/functions/sqsapi-work/logs')).json()) as {
          lines: Array<{ message: string }>;
        };
        const line = lines.find((l) => l.message.includes('RECORD '));
        if (line)
          record = JSON.parse(line.message.slice(line.message.indexOf('RECORD ') + 7)) as typeof record;
        else await sleep(100);
      }
      assert.ok(record, 'the function logged the record');
      assert.equal(record.body, 'from the sdk');
      assert.equal(record.eventSource, 'aws:sqs');
      assert.equal(record.messageAttributes?.['k']?.stringValue, 'v');
    });

    test('unknown action and the query protocol get errors naming the fix', async () => {
      const signed = async (headers: Record<string, string>, body: string) => {
        const u = new URL(t.url);
        const signer = new SignatureV4({
          credentials: {
            accessKeyId: t.credentials.accessKeyId,
            secretAccessKey: t.credentials.secretAccessKey,
          },
          region: 'us-east-1',
          service: 'sqs',
          sha256: Sha256,
        });
        const req = (await signer.sign(
          new HttpRequest({
            method: 'POST',
            protocol: 'http:',
            hostname: u.hostname,
            port: Number(u.port),
            path: '/',
            headers: { host: u.host, ...headers },
            body,
          }),
        )) as HttpRequest;
        return fetch(t.url + '/', { method: 'POST', headers: req.headers, body });
      };
      const unknown = await signed(
        { 'content-type': 'application/x-amz-json-1.0', 'x-amz-target': 'AmazonSQS.FlyToTheMoon' },
        '{}',
      );
      assert.equal(unknown.status, 400);
      const body = (await unknown.json()) as { __type: string; message: string };
      assert.equal(body.__type, 'com.amazonaws.sqs#InvalidAction');
      assert.match(body.message, /Supported actions: .*ReceiveMessage/);

      const untargeted = await signed({ 'content-type': 'application/x-amz-json-1.0' }, '{}');
      assert.equal(untargeted.status, 400);
      assert.match(((await untargeted.json()) as { message: string }).message, /X-Amz-Target/);

      const legacy = await signed(
        { 'content-type': 'application/x-www-form-urlencoded' },
        'Action=ListQueues&Version=2012-11-05',
      );
      assert.equal(legacy.status, 400);
      assert.match(await legacy.text(), /<Code>InvalidAction<\/Code>.*query protocol/);
    });
  });
});
