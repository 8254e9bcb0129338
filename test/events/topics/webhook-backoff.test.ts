// Webhook retry timing and stored policy parsing (pure).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { backoffMs, parseDeliveryPolicy } from '../../../src/events/topics/webhook-deliverer.js';
import { signWebhook, verifyWebhook } from '../../../src/events/topics/webhook-signature.js';
import { DEFAULT_WEBHOOK_POLICY } from '../../../src/services/topics/topic-types.js';
import { installLeakGuard } from '../../helpers/leak-guard.js';

installLeakGuard();

test('default backoff: 5 attempts with waits of 5, 15, 45 and 135 seconds', () => {
  assert.equal(DEFAULT_WEBHOOK_POLICY.maxAttempts, 5);
  assert.deepEqual(
    [1, 2, 3, 4].map((n) => backoffMs(DEFAULT_WEBHOOK_POLICY, n)),
    [5000, 15000, 45000, 135000],
  );
  assert.equal(backoffMs(DEFAULT_WEBHOOK_POLICY, 9), 300_000, 'capped at maxDelaySeconds');
  assert.equal(backoffMs({ ...DEFAULT_WEBHOOK_POLICY, minDelaySeconds: 0.05, maxDelaySeconds: 0.1 }, 3), 100);
});

test('stored policies fall back to the defaults field by field', () => {
  assert.deepEqual(parseDeliveryPolicy(undefined), DEFAULT_WEBHOOK_POLICY);
  assert.deepEqual(parseDeliveryPolicy('{"maxAttempts":2}'), { ...DEFAULT_WEBHOOK_POLICY, maxAttempts: 2 });
  assert.deepEqual(parseDeliveryPolicy('not json'), DEFAULT_WEBHOOK_POLICY);
});

test('signatures cover the timestamp and the body', () => {
  const body = Buffer.from('{"a":1}');
  const sig = signWebhook('k'.repeat(20), 1_700_000_000, body);
  assert.match(sig, /^sha256=[0-9a-f]{64}$/);
  const now = 1_700_000_000_000;
  assert.equal(
    verifyWebhook('k'.repeat(20), { timestamp: '1700000000', signature: sig }, body, { now }),
    true,
  );
  assert.equal(
    verifyWebhook('k'.repeat(20), { timestamp: '1700000001', signature: sig }, body, { now }),
    false,
  );
  assert.equal(verifyWebhook('k'.repeat(20), { timestamp: undefined, signature: sig }, body, { now }), false);
});
