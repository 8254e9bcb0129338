// The domain model of deployed functions: the compiled config of a version, and how names map.

/** Runtimes Nimbus can run. TypeScript is `nodejs` after bundling. */
export type RuntimeName = 'nodejs' | 'python' | 'provided';

/** Isolation tier: `process` (sandboxed child process, default) or `thread` (worker_threads, trusted code). */
export type IsolationTier = 'process' | 'thread';

/** Fully-defaulted, frozen configuration of one function version. */
export interface FunctionConfig {
  /** Runtime that runs the code. */
  readonly runtime: RuntimeName;
  /**
   * The language as written in nimbus.yml when it is not `runtime` itself: `typescript` (bundled,
   * then run as `nodejs`). Shown by `nimbus ls` and `/v1/functions`; nothing runs differently.
   */
  readonly sourceRuntime?: 'typescript' | undefined;
  /** Lambda handler string, e.g. `index.handler` or `src/app.main`. Ignored for `provided`. */
  readonly handler: string;
  /** Memory limit in MB. @default 128 */
  readonly memory: number;
  /** Timeout in seconds. @default 3 */
  readonly timeout: number;
  /** Environment variables the function sees (besides the Lambda ones Nimbus sets). */
  readonly environment: Readonly<Record<string, string>>;
  /** Isolation tier. @default 'process' */
  readonly isolation: IsolationTier;
  /** Whether the sandbox may reach the network. @default false */
  readonly network: boolean;
  /** Size of the private /tmp in MB. @default 512 */
  readonly tmpSize: number;
  /** Maximum concurrent instances of this function on a node. @default 10 */
  readonly maxConcurrency: number;
  /** Instances kept warm even when idle. @default 0 */
  readonly minInstances: number;
  /** Seconds an idle instance lives before it is reaped. @default 300 */
  readonly idleTimeout: number;
  /** Open files allowed per instance. @default 1024 */
  readonly maxOpenFiles: number;
  /** Processes/threads allowed per instance. @default 256 */
  readonly maxProcesses: number;
  /** Human description. */
  readonly description: string;
  /** Async invocations: retries after a failed attempt, 0-2 (Lambda's range). @default 2 */
  readonly maximumRetryAttempts: number;
  /** Async invocations: seconds an event may wait before it is dropped, 60-21600. @default 21600 */
  readonly maximumEventAge: number;
  /** Async invocations: where a record of the outcome goes. @default {} */
  readonly destinations: AsyncDestinations;
  /** Async invocations: a queue or topic that receives the original event after the final failure. */
  readonly deadLetter?: DestinationTarget | undefined;
  /**
   * Lambda's `RecursiveLoop`: `Terminate` stops the function's 17th run in one chain of
   * requests (src/invoke/recursion-guard.ts); `Allow` lets an intended loop run. @default 'Terminate'
   */
  readonly recursiveLoop?: 'Allow' | 'Terminate' | undefined;
}

/** Where an async invocation record (or dead letter) is delivered. */
export interface DestinationTarget {
  readonly type: 'queue' | 'topic' | 'function';
  /** Queue or topic name, or the function's Lambda full name (`app-fn`). */
  readonly name: string;
}

/** On-success and on-failure destinations of async invocations (Lambda's DestinationConfig). */
export interface AsyncDestinations {
  readonly onSuccess?: DestinationTarget | undefined;
  readonly onFailure?: DestinationTarget | undefined;
}

/** Defaults for {@link FunctionConfig}; the nimbus.yml schema applies the same ones. */
export const FUNCTION_DEFAULTS: Omit<FunctionConfig, 'runtime' | 'handler'> = Object.freeze({
  memory: 128,
  timeout: 3,
  environment: Object.freeze({}),
  isolation: 'process',
  network: false,
  tmpSize: 512,
  maxConcurrency: 10,
  minInstances: 0,
  idleTimeout: 300,
  maxOpenFiles: 1024,
  maxProcesses: 256,
  description: '',
  maximumRetryAttempts: 2,
  maximumEventAge: 21_600,
  destinations: Object.freeze({}),
} as const);

/** The reserved name of the mutable head version. */
export const LATEST = '$LATEST';

/** One version of a function: `$LATEST` (mutable) or a published number as a string. */
export interface FunctionVersion {
  readonly app: string;
  /** Function name inside its app (`hello`). */
  readonly name: string;
  /** `$LATEST` or `1`, `2`, ... */
  readonly version: string;
  /** sha256 (hex) of the code bundle. */
  readonly codeSha256: string;
  /** Size of the code bundle in bytes. */
  readonly codeSize: number;
  readonly config: FunctionConfig;
  /** ISO timestamp. */
  readonly createdAt: string;
}

/** An alias: a name pointing at one version, optionally splitting traffic with a second. */
export interface Alias {
  readonly app: string;
  readonly functionName: string;
  readonly name: string;
  readonly version: string;
  /** Optional second version with the share of traffic (0..1) it receives. */
  readonly additionalVersion?: { readonly version: string; readonly weight: number } | undefined;
  readonly description: string;
  readonly updatedAt: string;
}

/**
 * The Lambda-API name of a function: app `demo`, function `hello` → `demo-hello`.
 * Apps and functions may themselves contain dashes, so lookups go through the store, which
 * keeps this full name as a unique key.
 */
export function lambdaName(app: string, fn: string): string {
  return `${app}-${fn}`;
}

/** Allowed app and function names: letters, digits, dashes and underscores, 1–64 chars. */
export const NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$/;
