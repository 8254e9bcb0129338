// The composed services of one Nimbus node, as the API routes see them.

import type { AuthService } from '../auth/auth-service.js';
import type { AppResourcePolicy } from '../auth/resource-scopes.js';
import type { RouteAuthorizer } from '../gateway/auth/route-authorizer.js';
import type { DeployService } from '../deploy/deploy-service.js';
import type { EgressPolicy } from '../events/topics/egress-policy.js';
import type { AsyncDispatcher } from '../invoke/async-dispatcher.js';
import type { FunctionResolver } from '../invoke/function-resolver.js';
import type { InvokeService } from '../invoke/invoke-service.js';
import type { LogSink } from '../observe/log-sink.js';
import type { WarmPool } from '../pool/warm-pool.js';
import type { Scheduler } from '../events/schedules/scheduler.js';
import type { BucketService } from '../services/buckets/bucket-service.js';
import type { QueueService } from '../services/queues/queue-service.js';
import type { ServiceContext } from '../services/service-context.js';
import type { TableService } from '../services/tables/table-service.js';
import type { TopicService } from '../services/topics/topic-service.js';
import type { Store } from '../store/store.js';
import type { WorkflowEngine } from '../workflow/core/workflow-engine.js';

/** Everything a route handler may use. */
export interface Platform {
  readonly store: Store;
  readonly auth: AuthService;
  readonly resolver: FunctionResolver;
  readonly invoker: InvokeService;
  readonly dispatcher: AsyncDispatcher;
  readonly deployer: DeployService;
  readonly pool: WarmPool;
  readonly logs: LogSink;
  /** Gateway auth: API keys, their usage, authorizer caches. */
  readonly gatewayAuth: RouteAuthorizer;
  /** Region reported in ARNs and to functions. */
  readonly region: string;
  /** Account id reported in ARNs. */
  readonly accountId: string;
  /** Whether function instances run sandboxed (bubblewrap available and enabled). */
  readonly sandboxed: boolean;
  /** What the resource services were built from (enqueueAsync, dataDir, ...). */
  readonly services: ServiceContext;
  readonly queues: QueueService;
  readonly topics: TopicService;
  readonly buckets: BucketService;
  readonly tables: TableService;
  readonly scheduler: Scheduler;
  /** Which addresses webhooks may reach (checked at subscribe time and on every delivery). */
  readonly webhookEgress: EgressPolicy;
  /** What an `app:<name>` scoped token may use; undefined refuses scoped tokens. */
  readonly appResourcePolicy?: AppResourcePolicy | undefined;
  /** The durable workflow engine of this node (state machines, executions, task tokens). */
  readonly workflows: WorkflowEngine;
}
