// Reading topic configuration: every trigger spelling, declared subscriptions, and errors with paths.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { AppEventSpec } from '../../../src/deploy/app-deploy-hook.js';
import { parseSubscription, planTopics } from '../../../src/services/topics/topic-config.js';
import { installLeakGuard } from '../../helpers/leak-guard.js';

installLeakGuard();

const spec = (events: unknown[], topics: Record<string, Record<string, unknown>> = {}): AppEventSpec => ({
  app: 'shop',
  resources: { buckets: {}, queues: {}, tables: {}, topics },
  functions: [{ name: 'work', fullName: 'shop-work', events }],
  prune: true,
});

test('every trigger spelling names its topic; triggers create undeclared topics', () => {
  const plan = planTopics(
    spec([
      { topic: 'a' },
      { topic: { topic: 'b', filterPolicy: { k: ['v'] }, filterPolicyScope: 'MessageBody' } },
      { sns: 'c' },
      { sns: 'arn:aws:sns:eu-west-1:123456789012:d' },
      { sns: { topicName: 'e', displayName: 'ignored' } },
      { sns: { arn: 'arn:aws:sns:us-east-1:000000000000:f', filterPolicy: { x: [1] } } },
      { http: 'GET /' },
    ]),
  );
  assert.deepEqual(plan.topics, ['a', 'b', 'c', 'd', 'e', 'f']);
  assert.deepEqual(plan.declared, []);
  assert.ok(
    plan.subscriptions.every(
      (s) => s.protocol === 'function' && s.endpoint === 'shop-work' && s.ownerFunction === 'shop-work',
    ),
  );
  const b = plan.subscriptions.find((s) => s.topic === 'b')!;
  assert.deepEqual(b.filterPolicy, { k: ['v'] });
  assert.equal(b.filterPolicyScope, 'MessageBody');
  assert.equal(plan.subscriptions.find((s) => s.topic === 'a')!.filterPolicyScope, 'MessageAttributes');
});

test('declared subscriptions resolve function names and keep their settings', () => {
  const plan = planTopics(
    spec([], {
      orders: {
        subscriptions: [
          {
            webhook: 'https://example.com/h',
            deliveryPolicy: { maxAttempts: 3 },
            secret: 'a-long-enough-secret',
          },
          { queue: 'jobs', rawMessageDelivery: true },
          { function: 'work' },
        ],
      },
      quiet: {},
    }),
  );
  assert.deepEqual(plan.declared, ['orders', 'quiet']);
  assert.deepEqual(
    plan.subscriptions.map((s) => [s.protocol, s.endpoint, s.rawMessageDelivery, s.ownerFunction]),
    [
      ['webhook', 'https://example.com/h', false, undefined],
      ['queue', 'jobs', true, undefined],
      ['function', 'shop-work', false, undefined],
    ],
  );
  assert.deepEqual(plan.subscriptions[0]!.deliveryPolicy, { maxAttempts: 3 });
});

test('errors name the path and the fix', () => {
  const cases: Array<[AppEventSpec, RegExp]> = [
    [spec([{ topic: 'bad name' }]), /functions\.work\.events\[0\]\.topic: topic names are 1-256 letters/],
    [
      spec([{ sns: { arn: { Ref: 'T' } } }]),
      /events\[0\]\.sns\.arn: CloudFormation references are not supported/,
    ],
    [spec([{ sns: 'arn:aws:sqs:r:1:q' }]), /is not an SNS topic ARN/],
    [
      spec([{ topic: { topic: 't', filter: {} } }]),
      /events\[0\]\.topic\.filter: unknown setting; use topic, filterPolicy, filterPolicyScope/,
    ],
    [
      spec([{ topic: { topic: 't', filterPolicyScope: 'Body' } }]),
      /topic\.filterPolicyScope: must be MessageAttributes/,
    ],
    [
      spec([], { t: { subscriptions: { queue: 'q' } } }),
      /resources\.topics\.t\.subscriptions: must be a list/,
    ],
    [spec([], { t: { retention: 1 } }), /resources\.topics\.t\.retention: unknown setting/],
    [
      spec([], { t: { subscriptions: [{ queue: 'q', webhook: 'https://x' }] } }),
      /give exactly one of function, queue or webhook/,
    ],
    [
      spec([], { t: { subscriptions: [{ queue: 'q', secret: 'x'.repeat(20) }] } }),
      /for webhook subscriptions only/,
    ],
    [
      spec([], { t: { subscriptions: [{ webhook: 'https://x', deliveryPolicy: { maxAttempts: 0 } }] } }),
      /deliveryPolicy\.maxAttempts: must be an integer from 1 to 20/,
    ],
    [
      spec([], {
        t: {
          subscriptions: [
            { webhook: 'https://x', deliveryPolicy: { minDelaySeconds: 9, maxDelaySeconds: 1 } },
          ],
        },
      }),
      /minDelaySeconds \(9\) is above maxDelaySeconds/,
    ],
    [
      spec([], { t: { subscriptions: [{ function: 'work', rawMessageDelivery: true }] } }),
      /functions always get the SNS event/,
    ],
    [
      spec([], { t: { subscriptions: [{ queue: 'q', filterPolicy: { a: [{ numeric: ['>', 'x'] }] } }] } }),
      /subscriptions\[0\]\.filterPolicy\.a\[0\]\.numeric\[1\]/,
    ],
  ];
  for (const [s, pattern] of cases) assert.throws(() => planTopics(s), pattern);
  assert.throws(
    () => parseSubscription({ webhook: 'mailto:a@b' }, 'subscription'),
    /subscription\.webhook: must be an http/,
  );
});
