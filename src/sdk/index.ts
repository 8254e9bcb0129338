// `nimbus/sdk`: what function code uses to reach Nimbus — queues, topics, buckets, tables and
// other functions — through the API socket and the app-scoped token Nimbus puts in the function's
// environment. Outside a function, create a client with an endpoint and a token.
//
//   import { queues, buckets, tables, functions } from 'nimbus/sdk';
//   await queues.send('jobs', { id: 42 });

import { FunctionsClient } from './functions.js';
import { optionsFromEnv, Transport, type SdkOptions } from './transport.js';

export { FunctionError, type AsyncInvocationAccepted, type InvokeOptions } from './functions.js';
export { NimbusSdkError, type SdkOptions } from './transport.js';

/** A client of one Nimbus node. */
export class NimbusClient {
  readonly functions: FunctionsClient;

  /** @param options Where Nimbus is and the token; @default from the environment (NIMBUS_API_SOCKET, NIMBUS_ENDPOINT, NIMBUS_TOKEN, NIMBUS_APP) */
  constructor(options: SdkOptions = optionsFromEnv()) {
    const transport = new Transport(options);
    this.functions = new FunctionsClient(transport);
  }
}

let defaultClient: NimbusClient | undefined;

/** The client built from the environment, created on first use. */
export function client(): NimbusClient {
  defaultClient ??= new NimbusClient();
  return defaultClient;
}

/** Invoke other functions of the app. */
export const functions = {
  invoke: <T = unknown>(...args: Parameters<FunctionsClient['invoke']>) =>
    client().functions.invoke<T>(...args),
  invokeAsync: (...args: Parameters<FunctionsClient['invokeAsync']>) =>
    client().functions.invokeAsync(...args),
};
