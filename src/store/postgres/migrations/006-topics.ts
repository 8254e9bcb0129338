// PostgreSQL migration 006: topics, their subscriptions, and the durable webhook deliveries.

import { sql } from 'kysely';
import type { Kysely, Migration } from 'kysely';

const STATEMENTS = [
  sql`CREATE TABLE topics (
    name TEXT PRIMARY KEY,
    owner_app TEXT,
    created_at BIGINT NOT NULL
  )`,
  // owner_app/owner_function say which deploy made a subscription, so a redeploy replaces exactly
  // its own (and keeps ids and webhook secrets of the ones that stay).
  sql`CREATE TABLE topic_subscriptions (
    id TEXT PRIMARY KEY,
    topic TEXT NOT NULL,
    protocol TEXT NOT NULL,
    endpoint TEXT NOT NULL,
    filter_policy TEXT,
    filter_scope TEXT NOT NULL,
    raw_delivery INTEGER NOT NULL,
    delivery_policy TEXT,
    owner_app TEXT,
    owner_function TEXT,
    secret TEXT,
    created_at BIGINT NOT NULL
  )`,
  sql`CREATE INDEX topic_subscriptions_topic ON topic_subscriptions (topic)`,
  sql`CREATE INDEX topic_subscriptions_owner ON topic_subscriptions (owner_app)`,
  // Webhook deliveries outlive restarts; claims scan by status then time, like invocations.
  sql`CREATE TABLE topic_deliveries (
    id TEXT PRIMARY KEY,
    subscription_id TEXT NOT NULL,
    topic TEXT NOT NULL,
    message_id TEXT NOT NULL,
    protocol TEXT NOT NULL,
    endpoint TEXT NOT NULL,
    body BYTEA NOT NULL,
    status TEXT NOT NULL,
    attempts INTEGER NOT NULL,
    max_attempts INTEGER NOT NULL,
    created_at BIGINT NOT NULL,
    available_at BIGINT NOT NULL,
    lease_until BIGINT,
    last_status INTEGER,
    last_error TEXT,
    finished_at BIGINT
  )`,
  sql`CREATE INDEX topic_deliveries_claim ON topic_deliveries (status, available_at)`,
  sql`CREATE INDEX topic_deliveries_topic ON topic_deliveries (topic, status, created_at)`,
  sql`CREATE INDEX topic_deliveries_subscription ON topic_deliveries (subscription_id)`,
];

/** Creates the tables for topics, subscriptions and webhook deliveries. */
export const migration006Topics: Migration = {
  async up(db: Kysely<unknown>): Promise<void> {
    for (const statement of STATEMENTS) await statement.execute(db);
  },
};
