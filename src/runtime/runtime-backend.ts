// The runtime port: a backend spawns function instances; the warm pool knows nothing else.
// Implementations: process/ (sandboxed child processes, default) and thread/ (worker_threads).

import type { FunctionConfig, IsolationTier, RuntimeName } from '../functions/function-model.js';

/** What to run: one version of one function, with its code unpacked on the host. */
export interface InstanceSpec {
  /** Lambda full name, e.g. `demo-hello`. */
  readonly functionName: string;
  /** `$LATEST` or a version number. */
  readonly version: string;
  readonly config: FunctionConfig;
  /** Host directory holding the unpacked, read-only code bundle. */
  readonly codeDir: string;
  readonly codeSha256: string;
  /** `arn:aws:lambda:<region>:<account>:function:<name>[:qualifier]` as the function should see it. */
  readonly invokedFunctionArn: string;
  /** Region reported to the function (`AWS_REGION`). */
  readonly region: string;
  /** Extra environment added by the platform (e.g. SDK endpoint and token), merged under config.environment. */
  readonly platformEnvironment?: Readonly<Record<string, string>>;
  /**
   * Why the instance starts, as `AWS_LAMBDA_INITIALIZATION_TYPE` tells the function: kept warm for
   * `minInstances` (Lambda's provisioned concurrency) or started for a call. @default 'on-demand'
   */
  readonly initializationType?: 'on-demand' | 'provisioned-concurrency';
}

/** The Lambda error shape; what crosses a sandbox boundary. */
export interface LambdaError {
  readonly errorType: string;
  readonly errorMessage: string;
  readonly trace?: readonly string[];
}

/** One invocation sent to an instance. */
export interface InstanceInvokeRequest {
  readonly requestId: string;
  /** The raw JSON event bytes. */
  readonly payload: Buffer;
  /** Epoch ms at which the invocation times out. */
  readonly deadlineMs: number;
  /** Base64 client context (Lambda `X-Amz-Client-Context`), if any. */
  readonly clientContext?: string;
  /** X-Ray trace header the code sees as `_X_AMZN_TRACE_ID` (with the recursion lineage). */
  readonly traceId?: string;
}

/** The outcome of one invocation on an instance. Function faults are data, not rejections. */
export type InstanceInvokeResult =
  | {
      readonly ok: true;
      /** Raw JSON response bytes. */
      readonly payload: Buffer;
      readonly logs: string;
      readonly maxMemoryUsedMB: number;
      /** False when the instance must not be reused (the pool disposes it). */
      readonly reusable: boolean;
      /** Output bytes dropped over the per-invocation cap (REPORT's `Dropped Output`). @default 0 */
      readonly droppedOutputBytes?: number;
    }
  | {
      readonly ok: false;
      readonly error: LambdaError;
      readonly logs: string;
      readonly maxMemoryUsedMB: number;
      readonly reusable: boolean;
      readonly droppedOutputBytes?: number;
    };

/** One live sandbox running one version; serves one invocation at a time. */
export interface FunctionInstance {
  readonly id: string;
  readonly spec: InstanceSpec;
  /** Milliseconds spent loading the code (Lambda's `Init Duration`). */
  readonly initDurationMs: number;
  /** False once the instance died or was disposed. */
  readonly alive: boolean;
  /**
   * Run one invocation. Resolves with the function's result or error, including timeouts
   * (`Task timed out after N.NN seconds`, instance killed) and crashes (instance replaced).
   * Rejects only when called on a dead or busy instance.
   */
  invoke(req: InstanceInvokeRequest): Promise<InstanceInvokeResult>;
  /** Stop the instance and free its resources. Idempotent. */
  dispose(): Promise<void>;
}

/**
 * Thrown by {@link RuntimeBackend.spawn} when the function's code fails to initialise
 * (syntax error, missing handler, init exception, bootstrap missing). The invoke path turns it
 * into a function error with Lambda's shape.
 */
export class FunctionInitError extends Error {
  readonly lambdaError: LambdaError;
  readonly logs: string;
  constructor(lambdaError: LambdaError, logs = '') {
    super(`${lambdaError.errorType}: ${lambdaError.errorMessage}`);
    this.name = 'FunctionInitError';
    this.lambdaError = lambdaError;
    this.logs = logs;
  }
}

/** Starts instances of one isolation tier. */
export interface RuntimeBackend {
  readonly tier: IsolationTier;
  /** Whether this backend can run the runtime (the thread tier runs only `nodejs`). */
  supports(runtime: RuntimeName): boolean;
  /**
   * Start an instance and load its code (a cold start). Uses a pre-started generic runner when
   * one is idle. Rejects with {@link FunctionInitError} when the code fails to load.
   */
  spawn(spec: InstanceSpec): Promise<FunctionInstance>;
  /** Instances currently alive (for leak checks and metrics). */
  liveInstances(): number;
  /** Stop every instance and pre-started runner. Idempotent. */
  close(): Promise<void>;
}
