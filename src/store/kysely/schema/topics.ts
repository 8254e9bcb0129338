// Kysely table types of topics, their subscriptions and webhook deliveries (see migration 006 of both backends).

import type { Bytes, EpochMs } from '../database.js';

/** One topic. */
export interface TopicsTable {
  name: string;
  /** The app that declared it (or whose trigger named it); null when created by hand. */
  owner_app: string | null;
  created_at: EpochMs;
}

/** One subscription of a topic. */
export interface TopicSubscriptionsTable {
  id: string;
  topic: string;
  /** `function`, `queue` or `webhook`. */
  protocol: string;
  /** Function full name, queue name or URL. */
  endpoint: string;
  /** The filter policy as JSON, or null. */
  filter_policy: string | null;
  /** `MessageAttributes` or `MessageBody`. */
  filter_scope: string;
  /** 1 to deliver the message alone instead of the SNS envelope. */
  raw_delivery: number;
  /** Webhook delivery settings as JSON (`{ maxAttempts, minDelaySeconds, maxDelaySeconds, timeoutSeconds }`), or null. */
  delivery_policy: string | null;
  /** The app whose deploy made it; null for subscriptions made through the API. */
  owner_app: string | null;
  /** The function (full name) whose trigger made it; null for resource-declared or manual ones. */
  owner_function: string | null;
  /** HMAC key of webhook signatures; null for other protocols. */
  secret: string | null;
  created_at: EpochMs;
}

/** A webhook delivery (and failed hand-overs of other protocols), claimed with a lease. */
export interface TopicDeliveriesTable {
  id: string;
  subscription_id: string;
  topic: string;
  message_id: string;
  protocol: string;
  endpoint: string;
  /** The request body to POST. */
  body: Bytes;
  /** `pending`, `running`, `delivered` or `failed`. */
  status: string;
  attempts: number;
  max_attempts: number;
  created_at: EpochMs;
  available_at: EpochMs;
  lease_until: EpochMs | null;
  /** HTTP status of the last attempt (null when it did not get one). */
  last_status: number | null;
  last_error: string | null;
  finished_at: EpochMs | null;
}

/** The tables of topics and their subscriptions, merged into {@link Database}. */
export interface TopicTables {
  topics: TopicsTable;
  topic_subscriptions: TopicSubscriptionsTable;
  topic_deliveries: TopicDeliveriesTable;
}
