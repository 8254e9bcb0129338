// Server options: validated once at the edge (CLI flags, env), then frozen and fully defaulted.

import type { ServerLogger } from '../lifecycle.js';
import { resolve } from 'node:path';
import { NimbusError } from '../errors.js';
import { parseEgressAllowList } from '../events/topics/egress-policy.js';
import type { Store } from '../store/store.js';
import type { AsyncDispatcherOptions } from '../invoke/async-dispatcher.js';
import type { RetentionOptions } from '../observe/retention.js';
import { compileStorageQuotas, type StorageQuotas } from '../services/storage-quotas.js';

/** Options accepted by `startServer`. */
export interface ServerOptionsInput {
  /** TCP port; 0 picks a free one. @default 8080 */
  port?: number;
  /** Interface to listen on. @default '127.0.0.1' */
  host?: string;
  /** Where the SQLite file, code cache, sandboxes' work dirs and credentials live. @default './.nimbus' */
  dataDir?: string;
  /** Store URL (`postgres://…` or `sqlite:path`); NIMBUS_DATABASE_URL is the env equivalent. @default sqlite in dataDir */
  store?: string;
  /**
   * An already-open store to use instead of `store` (embedding and tests); the server does not
   * close it.
   */
  storeInstance?: Store;
  /** `auto`: sandbox when bwrap works, else warn; `required`: refuse to start without; `off`: never. @default 'auto' */
  sandbox?: 'auto' | 'required' | 'off';
  /** bubblewrap binary (NIMBUS_BWRAP); looked up on PATH when unset. */
  bwrapPath?: string;
  /** Region in ARNs and AWS_REGION. @default 'us-east-1' */
  region?: string;
  /** Node-wide memory budget for instances, MB. @default 8192 */
  memoryBudgetMB?: number;
  /** Pre-started generic runners per runtime (process tier). */
  prewarm?: Partial<Record<'nodejs' | 'python' | 'provided', number>>;
  /** Pre-started worker threads (thread tier). @default 2 */
  threadPrewarm?: number;
  /** How long a saturated sync call waits for an instance before 429, ms. @default 1000 */
  acquireTimeoutMs?: number;
  /** Async invocation tuning (retries, event age); Lambda's defaults when unset. */
  async?: AsyncDispatcherOptions;
  /** Storage quotas of buckets, queues, tables and logs (see docs/resources.md#quotas); defaults when unset. */
  quotas?: Partial<StorageQuotas>;
  /** How long logs, finished invocations and webhook deliveries are kept (docs/resources.md#retention). */
  retention?: RetentionOptions;
  /**
   * Webhook targets allowed despite the egress policy's deny list (loopback, private, link-local,
   * metadata): CIDRs, addresses or host names, e.g. `['127.0.0.1', '10.1.0.0/16']`.
   * NIMBUS_WEBHOOK_ALLOW (comma-separated) is the env equivalent. @default []
   */
  webhookAllow?: readonly string[];
  logger?: ServerLogger;
  /** Environment to read NIMBUS_* variables from. @default process.env */
  env?: NodeJS.ProcessEnv;
}

/** Where the server reports. */
export type { ServerLogger };

/** Compiled options. */
export interface ServerOptions {
  readonly port: number;
  readonly host: string;
  readonly dataDir: string;
  readonly store: string | undefined;
  readonly storeInstance: Store | undefined;
  readonly sandbox: 'auto' | 'required' | 'off';
  readonly bwrapPath: string | undefined;
  readonly region: string;
  readonly memoryBudgetMB: number;
  readonly prewarm: Partial<Record<'nodejs' | 'python' | 'provided', number>>;
  readonly threadPrewarm: number;
  readonly acquireTimeoutMs: number;
  readonly async: AsyncDispatcherOptions;
  readonly quotas: StorageQuotas;
  readonly retention: RetentionOptions;
  readonly webhookAllow: readonly string[];
  readonly logger: ServerLogger;
  readonly env: NodeJS.ProcessEnv;
}

const consoleLogger: ServerLogger = {
  info: (m) => console.log(m),
  warn: (m) => console.warn(m),
  error: (m) => console.error(m),
};

/** Validate and default server options. */
export function compileServerOptions(input: ServerOptionsInput = {}): ServerOptions {
  const env = input.env ?? process.env;
  const port = input.port ?? 8080;
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new NimbusError('InvalidConfigError', `--port must be an integer from 0 to 65535; got ${port}.`);
  }
  const sandbox = input.sandbox ?? (env.NIMBUS_SANDBOX as ServerOptions['sandbox'] | undefined) ?? 'auto';
  if (!['auto', 'required', 'off'].includes(sandbox)) {
    throw new NimbusError('InvalidConfigError', `--sandbox must be auto, required or off; got '${sandbox}'.`);
  }
  const webhookAllow = Object.freeze([
    ...(input.webhookAllow ??
      (env.NIMBUS_WEBHOOK_ALLOW ?? '')
        .split(',')
        .map((s) => s.trim())
        .filter((s) => s !== '')),
  ]);
  parseEgressAllowList(webhookAllow); // throws InvalidConfigError naming a bad entry
  return Object.freeze({
    port,
    host: input.host ?? '127.0.0.1',
    dataDir: resolve(input.dataDir ?? env.NIMBUS_DATA_DIR ?? '.nimbus'),
    store: input.store ?? env.NIMBUS_DATABASE_URL,
    storeInstance: input.storeInstance,
    sandbox,
    bwrapPath: input.bwrapPath ?? env.NIMBUS_BWRAP,
    region: input.region ?? env.NIMBUS_REGION ?? 'us-east-1',
    memoryBudgetMB: input.memoryBudgetMB ?? 8192,
    prewarm: Object.freeze({ ...input.prewarm }),
    threadPrewarm: input.threadPrewarm ?? 2,
    acquireTimeoutMs: input.acquireTimeoutMs ?? 1000,
    async: Object.freeze({ ...input.async }),
    quotas: compileStorageQuotas(input.quotas),
    retention: compileRetention(input.retention),
    webhookAllow,
    logger: input.logger ?? consoleLogger,
    env,
  });
}

/** Validates retention windows (positive whole milliseconds). */
function compileRetention(input: RetentionOptions = {}): RetentionOptions {
  for (const [name, value] of Object.entries(input)) {
    if (value !== undefined && (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 1)) {
      throw new NimbusError(
        'InvalidConfigError',
        `retention.${name} must be a whole number of milliseconds of at least 1; got ${JSON.stringify(value)}.`,
      );
    }
  }
  return Object.freeze({ ...input });
}
