// The ordered list of PostgreSQL migrations; names sort in the order they must run.

import type { Migration } from 'kysely';
import { migration001Initial } from './001-initial.js';
import { migration002Routes } from './002-routes.js';
import { migration003GatewayAuth } from './003-gateway-auth.js';
import { migration004AsyncInvocations } from './004-async-invocations.js';
import { migration005Queues } from './005-queues.js';
import { migration006Topics } from './006-topics.js';
import { migration007Buckets } from './007-buckets.js';
import { migration008Tables } from './008-tables.js';
import { migration009Schedules } from './009-schedules.js';
import { migration010AppTokens } from './010-app-tokens.js';
import { migration011UsageRetention } from './011-usage-retention.js';
import { migration012Workflows } from './012-workflows.js';
import { migration013InvocationTrace } from './013-invocation-trace.js';
import { migration014BucketEventTrace } from './014-bucket-event-trace.js';

/** Every PostgreSQL migration by name. Add new ones as `NNN-what.ts`; never edit a shipped one. */
export const POSTGRES_MIGRATIONS: Readonly<Record<string, Migration>> = Object.freeze({
  '001-initial': migration001Initial,
  '002-routes': migration002Routes,
  '003-gateway-auth': migration003GatewayAuth,
  '004-async-invocations': migration004AsyncInvocations,
  '005-queues': migration005Queues,
  '006-topics': migration006Topics,
  '007-buckets': migration007Buckets,
  '008-tables': migration008Tables,
  '009-schedules': migration009Schedules,
  '010-app-tokens': migration010AppTokens,
  '011-usage-retention': migration011UsageRetention,
  '012-workflows': migration012Workflows,
  '013-invocation-trace': migration013InvocationTrace,
  '014-bucket-event-trace': migration014BucketEventTrace,
});
