// End to end over a real socket, part two: the official @aws-sdk/client-sqs on every store with
// FIFO queues, redrive to a dead-letter queue and back, purge, delays, bad messages, a queue
// trigger, and SQS's error types (part one: sqs-api.test.ts).
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { Sha256 } from '@aws-crypto/sha256-js';
import { HttpRequest } from '@smithy/protocol-http';
import { SignatureV4 } from '@smithy/signature-v4';
import {
  ChangeMessageVisibilityBatchCommand,
  CreateQueueCommand,
  GetQueueAttributesCommand,
  GetQueueUrlCommand,
  ListDeadLetterSourceQueuesCommand,
  ListQueuesCommand,
  PurgeQueueCommand,
  QueueDoesNotExist,
  ReceiveMessageCommand,
  SendMessageBatchCommand,
  SendMessageCommand,
  SetQueueAttributesCommand,
  StartMessageMoveTaskCommand,
  TagQueueCommand,
} from '@aws-sdk/client-sqs';

import { installLeakGuard } from '../helpers/leak-guard.js';
import { forEachStore } from '../helpers/test-stores.js';
import { sqsServer } from './sqs-fixture.js';

installLeakGuard();

forEachStore((storeName, open) => {
  describe(`SQS API: FIFO, redrive, triggers, errors (${storeName})`, () => {
    const f = sqsServer(open);
    const { client, create } = f;

    test('FIFO: group id, deduplication id, order within a group', async () => {
      const url = await create('jobs.fifo', { FifoQueue: 'true' });
      const a = await f.sqs.send(
        new SendMessageCommand({
          QueueUrl: url,
          MessageBody: 'first',
          MessageGroupId: 'g',
          MessageDeduplicationId: 'd1',
        }),
      );
      const dup = await f.sqs.send(
        new SendMessageCommand({
          QueueUrl: url,
          MessageBody: 'first',
          MessageGroupId: 'g',
          MessageDeduplicationId: 'd1',
        }),
      );
      assert.equal(dup.MessageId, a.MessageId, 'a duplicate within the window is accepted but not enqueued');
      assert.ok(a.SequenceNumber);
      await f.sqs.send(
        new SendMessageCommand({
          QueueUrl: url,
          MessageBody: 'second',
          MessageGroupId: 'g',
          MessageDeduplicationId: 'd2',
        }),
      );
      await assert.rejects(
        f.sqs.send(new SendMessageCommand({ QueueUrl: url, MessageBody: 'no group' })),
        (err: Error) => err.name === 'InvalidParameterValue' || err.name === 'MissingParameter',
      );
      const got = await f.sqs.send(
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
      const attrs = await f.sqs.send(
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
      await f.sqs.send(new SendMessageCommand({ QueueUrl: url, MessageBody: 'poison' }));
      let receives = 0;
      for (let i = 0; i < 5; i++) {
        const got = await f.sqs.send(new ReceiveMessageCommand({ QueueUrl: url, VisibilityTimeout: 0 }));
        if (got.Messages === undefined) break;
        receives++;
      }
      assert.equal(receives, 2);
      const dead = await f.sqs.send(
        new ReceiveMessageCommand({
          QueueUrl: dlqUrl,
          MessageSystemAttributeNames: ['ApproximateReceiveCount'],
        }),
      );
      assert.equal(dead.Messages?.[0]?.Body, 'poison');
      const attrs = await f.sqs.send(
        new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ['RedrivePolicy'] }),
      );
      assert.deepEqual(JSON.parse(attrs.Attributes!['RedrivePolicy']!), {
        deadLetterTargetArn: 'arn:aws:sqs:us-east-1:000000000000:poison-dlq',
        maxReceiveCount: 2,
      });
      // An empty RedrivePolicy removes it, as on SQS.
      await f.sqs.send(new SetQueueAttributesCommand({ QueueUrl: url, Attributes: { RedrivePolicy: '' } }));
      const removed = await f.sqs.send(
        new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ['RedrivePolicy'] }),
      );
      assert.equal(removed.Attributes?.['RedrivePolicy'], undefined);
    });

    test('PurgeQueue removes every message', async () => {
      const url = await create('purge');
      for (let i = 0; i < 3; i++)
        await f.sqs.send(new SendMessageCommand({ QueueUrl: url, MessageBody: `m${i}` }));
      await f.sqs.send(new PurgeQueueCommand({ QueueUrl: url }));
      assert.equal((await f.sqs.send(new ReceiveMessageCommand({ QueueUrl: url }))).Messages, undefined);
    });

    test('errors: unknown queue is QueueDoesNotExist, a wrong secret is a signature error', async () => {
      await assert.rejects(
        f.sqs.send(new GetQueueUrlCommand({ QueueName: 'nope' })),
        (err: Error & { Code?: string }) => {
          assert.equal(err.Code, 'AWS.SimpleQueueService.NonExistentQueue');
          assert.ok(err instanceof QueueDoesNotExist, err.name);
          assert.match(err.message, /nimbus queues create nope/);
          return true;
        },
      );
      await assert.rejects(
        f.sqs.send(new SendMessageCommand({ QueueUrl: `${f.t.url}/000000000000/nope`, MessageBody: 'x' })),
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
      // An unknown key id is answered as a wrong secret (no oracle for which ids exist).
      await assert.rejects(
        client('whatever', 'AKIDUNKNOWN0000000000').send(new ListQueuesCommand({})),
        (err: Error) => err.name === 'SignatureDoesNotMatch',
      );
      await assert.rejects(
        f.sqs.send(new CreateQueueCommand({ QueueName: 'bad name!' })),
        (err: Error) => err.name === 'InvalidParameterValue',
      );
    });

    test('delays, visibility batches, dead-letter sources and moving messages back', async () => {
      const url = await create('later');
      await f.sqs.send(new SendMessageCommand({ QueueUrl: url, MessageBody: 'soon', DelaySeconds: 60 }));
      const delayed = await f.sqs.send(
        new GetQueueAttributesCommand({
          QueueUrl: url,
          AttributeNames: ['ApproximateNumberOfMessagesDelayed'],
        }),
      );
      assert.deepEqual(delayed.Attributes, { ApproximateNumberOfMessagesDelayed: '1' });
      assert.equal((await f.sqs.send(new ReceiveMessageCommand({ QueueUrl: url }))).Messages, undefined);

      const dlqUrl = await create('back-dlq');
      const srcUrl = await create('back', {
        VisibilityTimeout: '600',
        RedrivePolicy: JSON.stringify({ deadLetterTargetArn: 'back-dlq', maxReceiveCount: 1 }),
      });
      const sources = await f.sqs.send(new ListDeadLetterSourceQueuesCommand({ QueueUrl: dlqUrl }));
      assert.deepEqual(sources.queueUrls, [srcUrl]);

      await f.sqs.send(
        new SendMessageBatchCommand({
          QueueUrl: srcUrl,
          Entries: [
            { Id: 'a', MessageBody: 'a' },
            { Id: 'b', MessageBody: 'b' },
          ],
        }),
      );
      const got = await f.sqs.send(new ReceiveMessageCommand({ QueueUrl: srcUrl, MaxNumberOfMessages: 10 }));
      assert.equal(got.Messages?.length, 2);
      const changed = await f.sqs.send(
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
      assert.equal((await f.sqs.send(new ReceiveMessageCommand({ QueueUrl: srcUrl }))).Messages, undefined);
      const dead = await f.sqs.send(
        new GetQueueAttributesCommand({ QueueUrl: dlqUrl, AttributeNames: ['ApproximateNumberOfMessages'] }),
      );
      assert.equal(dead.Attributes?.['ApproximateNumberOfMessages'], '2');

      const task = await f.sqs.send(
        new StartMessageMoveTaskCommand({ SourceArn: 'arn:aws:sqs:us-east-1:000000000000:back-dlq' }),
      );
      assert.ok(task.TaskHandle);
      const back = await f.sqs.send(new ReceiveMessageCommand({ QueueUrl: srcUrl, MaxNumberOfMessages: 10 }));
      assert.deepEqual(back.Messages?.map((m) => m.Body).sort(), ['a', 'b']);
    });

    test('bad messages: invalid characters, too large, unsupported actions', async () => {
      const url = await create('strict', { MaximumMessageSize: '1024' });
      await assert.rejects(
        f.sqs.send(new SendMessageCommand({ QueueUrl: url, MessageBody: 'bell \u0007' })),
        (err: Error) => err.name === 'InvalidMessageContents' && /U\+0007/.test(err.message),
      );
      await assert.rejects(
        f.sqs.send(new SendMessageCommand({ QueueUrl: url, MessageBody: 'x'.repeat(1025) })),
        (err: Error) => err.name === 'InvalidParameterValue',
      );
      await assert.rejects(
        f.sqs.send(new TagQueueCommand({ QueueUrl: url, Tags: { team: 'a' } })),
        (err: Error) => err.name === 'UnsupportedOperation' && /Supported actions/.test(err.message),
      );
      await assert.rejects(
        f.sqs.send(new ReceiveMessageCommand({ QueueUrl: url, MaxNumberOfMessages: 11 })),
        (err: Error) => err.name === 'InvalidParameterValue' && /MaxNumberOfMessages/.test(err.message),
      );
    });

    test('a message sent with the SDK triggers a function subscribed in nimbus.yml', async () => {
      await f.t.deployFiles({
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
      const { QueueUrl } = await f.sqs.send(new GetQueueUrlCommand({ QueueName: 'inbox' }));
      await f.sqs.send(
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
        const { lines } = (await (await f.t.fetchV1('/v1/functions/sqsapi-work/logs')).json()) as {
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
        const u = new URL(f.t.url);
        const signer = new SignatureV4({
          credentials: {
            accessKeyId: f.t.credentials.accessKeyId,
            secretAccessKey: f.t.credentials.secretAccessKey,
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
        return fetch(f.t.url + '/', { method: 'POST', headers: req.headers, body });
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
