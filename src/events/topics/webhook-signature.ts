// Webhook signatures: `X-Nimbus-Signature: sha256=<hex HMAC-SHA256(secret, "<timestamp>.<body>")>`
// with `X-Nimbus-Timestamp: <unix seconds>`, so a receiver can check origin and refuse replays.

import { createHmac, timingSafeEqual } from 'node:crypto';
import { newWebhookSecret } from '../../services/topics/topic-types.js';

/** Header names of a webhook delivery. */
export const WEBHOOK_HEADERS = Object.freeze({
  topic: 'x-nimbus-topic',
  messageId: 'x-nimbus-message-id',
  deliveryId: 'x-nimbus-delivery-id',
  attempt: 'x-nimbus-attempt',
  timestamp: 'x-nimbus-timestamp',
  signature: 'x-nimbus-signature',
});

// Subscriptions get their secret from the topic service; re-exported for existing callers.
export { newWebhookSecret };

/** The signature header value for `body` sent at `timestamp` (unix seconds). */
export function signWebhook(secret: string, timestamp: number, body: Buffer | string): string {
  const mac = createHmac('sha256', secret);
  mac.update(`${timestamp}.`);
  mac.update(body);
  return `sha256=${mac.digest('hex')}`;
}

/**
 * Check a received delivery: the signature matches and the timestamp is within `toleranceSeconds`
 * of `now` (refusing replays of old deliveries). Constant-time comparison.
 */
export function verifyWebhook(
  secret: string,
  headers: { timestamp: string | undefined; signature: string | undefined },
  body: Buffer | string,
  options: { toleranceSeconds?: number; now?: number } = {},
): boolean {
  const ts = Number(headers.timestamp);
  if (!Number.isInteger(ts) || headers.signature === undefined) return false;
  const now = Math.floor((options.now ?? Date.now()) / 1000);
  if (Math.abs(now - ts) > (options.toleranceSeconds ?? 300)) return false;
  const expected = Buffer.from(signWebhook(secret, ts, body));
  const given = Buffer.from(headers.signature);
  return expected.length === given.length && timingSafeEqual(expected, given);
}
