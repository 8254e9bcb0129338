// `nimbus/sdk`: what function code uses to reach Nimbus — queues, topics, buckets, tables and
// other functions — through the API socket and the app-scoped token Nimbus puts in the function's
// environment. Outside a function, create a client with an endpoint and a token.
//
//   import { queues, buckets, tables, functions } from 'nimbus/sdk';
//   await queues.send('jobs', { id: 42 });

import { BucketsClient } from './buckets.js';
import { FunctionsClient } from './functions.js';
import { QueuesClient } from './queues.js';
import { TablesClient } from './tables.js';
import { TopicsClient } from './topics.js';
import { optionsFromEnv, Transport, type SdkOptions } from './transport.js';

export type { PutOptions, SdkObject, SdkObjectInfo } from './buckets.js';
export { FunctionError, type AsyncInvocationAccepted, type InvokeOptions } from './functions.js';
export type { SdkMessage, SdkMessageAttribute, SendOptions } from './queues.js';
export type { Condition, SdkItem, SdkPage, SdkQuery } from './tables.js';
export type { PublishOptions } from './topics.js';
export { NimbusSdkError, type SdkOptions } from './transport.js';
export { BucketsClient, FunctionsClient, QueuesClient, TablesClient, TopicsClient };

/** A client of one Nimbus node. */
export class NimbusClient {
  readonly functions: FunctionsClient;
  readonly queues: QueuesClient;
  readonly topics: TopicsClient;
  readonly buckets: BucketsClient;
  readonly tables: TablesClient;

  /**
   * @param options Where Nimbus is and the token.
   * @default from the environment: NIMBUS_API_SOCKET (set in functions), else NIMBUS_ENDPOINT; NIMBUS_TOKEN; NIMBUS_APP
   */
  constructor(options: SdkOptions = optionsFromEnv()) {
    const transport = new Transport(options);
    this.functions = new FunctionsClient(transport);
    this.queues = new QueuesClient(transport);
    this.topics = new TopicsClient(transport);
    this.buckets = new BucketsClient(transport);
    this.tables = new TablesClient(transport);
  }
}

let defaultClient: NimbusClient | undefined;

/** The client built from the environment, created on first use. */
export function client(): NimbusClient {
  defaultClient ??= new NimbusClient();
  return defaultClient;
}

/** Bind every method of a client namespace to the default client, lazily. */
function lazy<K extends 'functions' | 'queues' | 'topics' | 'buckets' | 'tables'>(
  name: K,
  methods: ReadonlyArray<keyof NimbusClient[K]>,
): NimbusClient[K] {
  const out: Record<string, unknown> = {};
  for (const method of methods) {
    out[method as string] = (...args: unknown[]) =>
      (client()[name][method] as (...a: unknown[]) => unknown).apply(client()[name], args);
  }
  return out as unknown as NimbusClient[K];
}

/** Invoke other functions of the app. */
export const functions = lazy('functions', ['invoke', 'invokeAsync', 'fullName']);
/** Send to and receive from queues. */
export const queues = lazy('queues', ['send', 'sendBatch', 'receive', 'delete']);
/** Publish to topics. */
export const topics = lazy('topics', ['publish']);
/** Objects in buckets. */
export const buckets = lazy('buckets', ['put', 'get', 'list', 'delete']);
/** Documents in tables. */
export const tables = lazy('tables', ['put', 'get', 'update', 'delete', 'query', 'scan']);
