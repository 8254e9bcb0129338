// The one factory that builds the runtime backends (process and thread tiers) from server options.

import type { RuntimeName } from '../functions/function-model.js';
import { ProcessBackend } from './process/process-backend.js';
import type { BackendLogger } from './process/process-backend.js';
import { ThreadBackend } from './thread/thread-backend.js';

export type { BackendLogger } from './process/process-backend.js';
export { ProcessBackend } from './process/process-backend.js';
export { ThreadBackend } from './thread/thread-backend.js';

/** Options of {@link createBackends}. */
export interface BackendOptions {
  /** Host directory for runner slot directories; the server passes `<dataDir>/run`. */
  readonly workDir: string;
  /**
   * `auto`: sandbox with bubblewrap when it works, else run unsandboxed (see
   * `backends.process.sandboxed`, and warn loudly); `required`: throw `SandboxUnavailableError`
   * without a usable bwrap; `off`: never sandbox (development only).
   */
  readonly sandbox: 'auto' | 'required' | 'off';
  /** bwrap binary to use instead of the one on PATH. */
  readonly bwrapPath?: string | undefined;
  /** Idle pre-started runners per runtime; 0 disables. @default { nodejs: 2, python: 1, provided: 1 } */
  readonly prewarm?: Partial<Record<RuntimeName, number>>;
  /** Idle pre-started worker threads for the thread tier. @default 2 */
  readonly threadPrewarm?: number;
  readonly logger?: BackendLogger;
  /** Host directory of the Nimbus API socket, mounted into sandboxes (see bwrap-sandbox.ts). */
  readonly apiSocketDir?: string | undefined;
}

/** Both tiers; the warm pool picks one per function from `config.isolation`. */
export interface Backends {
  readonly process: ProcessBackend;
  readonly thread: ThreadBackend;
  /** Close both (idempotent). */
  close(): Promise<void>;
}

/**
 * Build the process and thread backends. Probes bwrap and cgroups once and starts the
 * pre-warmed runners in the background. Rejects with `SandboxUnavailableError` when
 * `sandbox: 'required'` cannot be met.
 */
export async function createBackends(options: BackendOptions): Promise<Backends> {
  const processBackend = await ProcessBackend.create({
    workDir: options.workDir,
    sandbox: options.sandbox,
    bwrapPath: options.bwrapPath,
    apiSocketDir: options.apiSocketDir,
    ...(options.prewarm ? { prewarm: options.prewarm } : {}),
    ...(options.logger ? { logger: options.logger } : {}),
  });
  const threadBackend = new ThreadBackend({ prewarm: options.threadPrewarm ?? 2 });
  let closing: Promise<void> | undefined;
  return {
    process: processBackend,
    thread: threadBackend,
    close() {
      closing ??= Promise.all([processBackend.close(), threadBackend.close()]).then(() => undefined);
      return closing;
    },
  };
}
