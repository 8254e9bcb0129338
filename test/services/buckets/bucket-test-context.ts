// A BucketService over a real store and a temp data dir for tests, with the bucket triggers
// subscribed to its change feed as the server wires them; enqueued events are recorded.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import type { AppDeployHook } from '../../../src/deploy/app-deploy-hook.js';
import type { BucketEventFeedOptions } from '../../../src/events/buckets/bucket-event-feed.js';
import type { InvokeService } from '../../../src/invoke/invoke-service.js';
import { wireBucketEvents } from '../../../src/server/resource-wiring.js';
import { BucketService, type BucketServiceOptions } from '../../../src/services/buckets/bucket-service.js';
import type { ServiceContext } from '../../../src/services/service-context.js';
import type { StorageQuotas } from '../../../src/services/storage-quotas.js';
import type { Store } from '../../../src/store/store.js';
import { combinedDeployHook } from '../combined-deploy-hook.js';

/** What a test gets: the service, its data dir, and the async invocations it enqueued. */
export interface BucketTestContext {
  readonly buckets: BucketService;
  /** The buckets' deploy hook and the bucket triggers', run as the deploy service runs them. */
  readonly deployHook: AppDeployHook;
  readonly dataDir: string;
  readonly enqueued: Array<{ functionName: string; payload: unknown; idempotencyKey?: string | undefined }>;
  readonly errors: unknown[];
  /** Stop the service and delete the data dir. */
  close(): Promise<void>;
}

/** A BucketService over `store` with its own temp data dir (not started unless `start`). */
export function bucketService(
  store: Store,
  options: BucketServiceOptions &
    BucketEventFeedOptions & { start?: boolean; dataDir?: string; quotas?: StorageQuotas } = {},
): BucketTestContext {
  const dataDir = options.dataDir ?? mkdtempSync(join(tmpdir(), 'nimbus-buckets-'));
  const enqueued: BucketTestContext['enqueued'] = [];
  const errors: unknown[] = [];
  const ctx: ServiceContext = {
    store,
    dataDir,
    invoker: {
      invoke: () => Promise.reject(new Error('bucket tests do not invoke')),
    } as unknown as InvokeService,
    // The seam the server wires to the real invocation queue; here it records what was enqueued.
    enqueueAsync: (functionName, payload, opts) => {
      enqueued.push({
        functionName,
        payload: JSON.parse(payload.toString()),
        idempotencyKey: opts?.idempotencyKey,
      });
      return Promise.resolve(`inv-${enqueued.length}`);
    },
    region: 'us-east-1',
    accountId: '000000000000',
    logger: { info: () => undefined, warn: () => undefined, error: () => undefined },
    onError: (err) => errors.push(err),
    quotas: options.quotas,
  };
  const buckets = new BucketService(ctx, options);
  const events = wireBucketEvents(ctx, buckets, options);
  if (options.start) {
    buckets.start();
    events.start();
  }
  return {
    buckets,
    deployHook: combinedDeployHook(buckets.deployHook, events.deployHook),
    dataDir,
    enqueued,
    errors,
    close: async () => {
      await events.stop();
      await buckets.stop();
      if (options.dataDir === undefined) rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** A readable of `text` (or bytes). */
export function body(data: string | Buffer): Readable {
  return Readable.from([Buffer.from(data)]);
}

/** Read a stream to a Buffer. */
export async function readAll(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of stream) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}
