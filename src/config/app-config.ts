// The compiled, frozen shape of an app's nimbus.yml: what every layer after the config edge sees.

import type { FunctionConfig } from '../functions/function-model.js';
import type { AppGatewaySpec } from '../gateway/route-spec.js';
import type { AppWorkflowSpec } from '../workflow/app-workflows.js';
import type { ConfigIssue } from './config-error.js';

/** The runtime as written in nimbus.yml; `typescript` runs as `nodejs` after bundling. */
export type SourceRuntime = 'nodejs' | 'typescript' | 'python' | 'provided';

/** Which file format the config came in. */
export type ConfigFlavour = 'nimbus' | 'serverless';

/** Extra files for a function's bundle, as globs relative to the app dir (`**`, `*`, `?`). */
export interface PackagePatterns {
  /**
   * For python/provided: when non-empty, only matching files are bundled. For nodejs: extra
   * files copied next to the bundled `index.*` (templates, data files read at runtime).
   * @default []
   */
  readonly include: readonly string[];
  /** Files left out of the bundle. @default [] */
  readonly exclude: readonly string[];
}

/** One function of the app, fully defaulted. */
export interface AppFunction {
  /** Function name inside the app (`hello`); the Lambda name is `<app>-<name>`. */
  readonly name: string;
  /** Runtime as written; `typescript` means the bundler compiles TS (config.runtime is `nodejs`). */
  readonly sourceRuntime: SourceRuntime;
  /**
   * The compiled config. `handler` is the one written in nimbus.yml (`src/app.handler`); the
   * bundler returns the handler of the deployed bundle (`index.handler`) to store instead.
   */
  readonly config: FunctionConfig;
  /**
   * The `events` entries as written (frozen), each a one-key mapping such as
   * `{ http: 'POST /images' }` or `{ queue: 'jobs' }`; shapes were validated loosely.
   */
  readonly events: readonly unknown[];
  /** Bundle include/exclude patterns (top-level `package` merged with the function's). */
  readonly package: PackagePatterns;
}

/** The kinds of built-in resources an app can declare. */
export type ResourceKind = 'buckets' | 'queues' | 'tables' | 'topics';

/**
 * Declared resources: for each kind, name → options as written (`{}` when declared by name
 * only, as in `buckets: [images]`).
 */
export type AppResources = {
  readonly [K in ResourceKind]: Readonly<Record<string, Readonly<Record<string, unknown>>>>;
};

/** The validated, frozen, fully-defaulted config of one app. */
export interface AppConfig {
  /** App name (`app:` in nimbus.yml, `service:` in serverless.yml). */
  readonly app: string;
  /** The config file path as given to the loader. */
  readonly file: string;
  /** Whether the file was a nimbus.yml or a serverless.yml. */
  readonly flavour: ConfigFlavour;
  /** Functions in file order. */
  readonly functions: readonly AppFunction[];
  readonly resources: AppResources;
  /** HTTP routes from the functions' `http`/`httpApi` events, with the `gateway:` block's settings. */
  readonly gateway: AppGatewaySpec;
  /**
   * Workflows by key (`workflows:`, or serverless.yml's `stepFunctions.stateMachines`): type and
   * definition (files read, CloudFormation function references resolved), checked as a deploy
   * checks them.
   */
  readonly workflows: Readonly<Record<string, AppWorkflowSpec>>;
  /** Things accepted but ignored or not yet supported (AWS-only keys, Serverless variables). */
  readonly warnings: readonly ConfigIssue[];
}
