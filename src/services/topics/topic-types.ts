// The topic service's public types: what the /v1 routes, the CLI, the SDK and other services use.

import { randomBytes } from 'node:crypto';
import type { FilterPolicyScope } from './filter-policy.js';

/** A message attribute as published (SNS's shape). `DataType`: String, Number, Binary or String.Array. */
export interface TopicMessageAttribute {
  readonly DataType: string;
  readonly StringValue?: string | undefined;
  /** Base64, for `Binary`. */
  readonly BinaryValue?: string | undefined;
}

/** Options of a publish. */
export interface PublishOptions {
  /** SNS's Subject (1-100 printable characters). */
  readonly subject?: string | undefined;
  /** Message attributes by name (at most 10); filter policies of the MessageAttributes scope match on these. */
  readonly attributes?: Readonly<Record<string, TopicMessageAttribute>> | undefined;
  /**
   * The publisher's X-Ray header (`X-Amzn-Trace-Id`; function code sends its invocation's):
   * every delivery carries its recursion Lineage (a function subscription's async invocation,
   * a queue subscription's `AWSTraceHeader`), so a loop through the topic is stopped.
   */
  readonly traceHeader?: string | undefined;
}

/** Retry settings of a webhook subscription, fully defaulted. */
export interface WebhookDeliveryPolicy {
  /** Attempts in all, the first included. 1-20. @default 5 */
  readonly maxAttempts: number;
  /** Wait after the first failed attempt; each later wait is 3 times the one before. 0-3600. @default 5 */
  readonly minDelaySeconds: number;
  /** Longest wait between two attempts. 0-3600. @default 300 */
  readonly maxDelaySeconds: number;
  /** How long one attempt may take before it counts as failed. 1-60. @default 10 */
  readonly timeoutSeconds: number;
}

/** The defaults of {@link WebhookDeliveryPolicy}: 5 attempts over about 3 minutes (5 s, 15 s, 45 s, 135 s). */
export const DEFAULT_WEBHOOK_POLICY: WebhookDeliveryPolicy = Object.freeze({
  maxAttempts: 5,
  minDelaySeconds: 5,
  maxDelaySeconds: 300,
  timeoutSeconds: 10,
});

/** Parses a stored delivery policy (JSON) over the defaults; bad JSON means the defaults. */
export function parseDeliveryPolicy(json: string | undefined): WebhookDeliveryPolicy {
  if (json === undefined) return DEFAULT_WEBHOOK_POLICY;
  try {
    return { ...DEFAULT_WEBHOOK_POLICY, ...(JSON.parse(json) as Partial<WebhookDeliveryPolicy>) };
  } catch {
    return DEFAULT_WEBHOOK_POLICY;
  }
}

/** A new random webhook secret (`whsec_` + 32 random bytes, base64url), given to a subscription without one. */
export function newWebhookSecret(): string {
  return `whsec_${randomBytes(32).toString('base64url')}`;
}

/** A subscription to make (API, CLI, nimbus.yml), as given. */
export interface SubscribeInput {
  readonly protocol: 'function' | 'queue' | 'webhook';
  /** Function full name, queue name or http(s) URL. */
  readonly endpoint: string;
  readonly filterPolicy?: Readonly<Record<string, unknown>> | undefined;
  /** @default 'MessageAttributes' */
  readonly filterPolicyScope?: FilterPolicyScope | undefined;
  /** Deliver the message alone instead of the SNS JSON envelope (queues and webhooks). @default false */
  readonly rawMessageDelivery?: boolean | undefined;
  /** Webhooks only. */
  readonly deliveryPolicy?: Partial<WebhookDeliveryPolicy> | undefined;
  /** Webhooks only: the HMAC key of `X-Nimbus-Signature`. @default a random key */
  readonly secret?: string | undefined;
}

/** A subscription as listed. */
export interface SubscriptionInfo {
  readonly id: string;
  readonly topic: string;
  /** `arn:aws:sns:<region>:<account>:<topic>:<id>`. */
  readonly arn: string;
  readonly protocol: 'function' | 'queue' | 'webhook';
  readonly endpoint: string;
  readonly filterPolicy?: Readonly<Record<string, unknown>> | undefined;
  readonly filterPolicyScope: FilterPolicyScope;
  readonly rawMessageDelivery: boolean;
  readonly deliveryPolicy?: WebhookDeliveryPolicy | undefined;
  /** Webhooks: the signing key. */
  readonly secret?: string | undefined;
  /** The app whose deploy made it (replaced on redeploy); undefined when made through the API. */
  readonly app?: string | undefined;
  /** The function whose `events:` made it. */
  readonly function?: string | undefined;
  /** Epoch ms. */
  readonly createdAt: number;
}

/** A topic as listed. */
export interface TopicInfo {
  readonly name: string;
  /** `arn:aws:sns:<region>:<account>:<name>`. */
  readonly arn: string;
  /** The app that declared it; undefined when made by hand. */
  readonly app?: string | undefined;
  /** Epoch ms. */
  readonly createdAt: number;
}

/** A webhook delivery (or a hand-over that failed) as listed. */
export interface DeliveryInfo {
  readonly id: string;
  readonly subscriptionId: string;
  readonly messageId: string;
  readonly protocol: 'function' | 'queue' | 'webhook';
  readonly endpoint: string;
  readonly status: 'pending' | 'running' | 'delivered' | 'failed';
  readonly attempts: number;
  readonly maxAttempts: number;
  /** HTTP status of the last attempt. */
  readonly lastStatus?: number | undefined;
  readonly lastError?: string | undefined;
  /** Epoch ms. */
  readonly createdAt: number;
  /** Epoch ms of the next attempt (pending ones). */
  readonly nextAttemptAt?: number | undefined;
  readonly finishedAt?: number | undefined;
}
