// Composition root: opens the store, creates credentials on first start, starts the runtime
// backends, the warm pool, the invoke and async services and the HTTP server.

import type { AddressInfo } from 'node:net';
import { dirname, join } from 'node:path';
import { createApiServer } from '../api/http-server.js';
import { APP_TOKEN_REFRESH_MS, MAX_INSTANCE_AGE_MS } from '../auth/app-tokens.js';
import { AuthService } from '../auth/auth-service.js';
import { CodeCache } from '../deploy/code-cache.js';
import { AppResourceRegistry } from '../deploy/app-resources.js';
import { DeployService } from '../deploy/deploy-service.js';
import { lambdaName, LATEST, type FunctionVersion } from '../functions/function-model.js';
import { RouteAuthorizer } from '../gateway/auth/route-authorizer.js';
import { Gateway } from '../gateway/gateway.js';
import { EgressPolicy } from '../events/topics/egress-policy.js';
import { AsyncDispatcher } from '../invoke/async-dispatcher.js';
import { DestinationRouter, serviceTransports } from '../invoke/destinations.js';
import { loadNodeId } from '../invoke/node-id.js';
import { enqueueAsync } from '../invoke/enqueue-async.js';
import { FunctionResolver } from '../invoke/function-resolver.js';
import { InvokeService } from '../invoke/invoke-service.js';
import { LogSink } from '../observe/log-sink.js';
import { RetentionSweeper } from '../observe/retention.js';
import { WarmPool } from '../pool/warm-pool.js';
import { createBackends } from '../runtime/create-backends.js';
import type { InstanceSpec } from '../runtime/runtime-backend.js';
import type { ServiceContext } from '../services/service-context.js';
import { defaultStoreUrl, openStore } from '../store/open-store.js';
import type { Store } from '../store/store.js';
import { API_SOCKET_ENV } from '../runtime/lambda-environment.js';
import { apiSocketPath, closeApiSocket, listenApiSocket } from './api-socket.js';
import { prepareDataDir, removeRunDir, sandboxRunDir } from './data-dir.js';
import { lockDataDir } from './data-dir-lock.js';
import type { Platform } from './platform.js';
import { wireResources } from './resource-wiring.js';
import { createWorkflowEngine } from './workflow-wiring.js';
import { workflowDeployHook } from '../workflow/workflow-deploy-hook.js';
import { compileServerOptions, type ServerOptionsInput } from './server-options.js';

/** Root credentials, returned only by the start that created them. */
export interface RootCredentials {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly token: string;
}

/** A running Nimbus node. */
export interface NimbusServer {
  /** Base URL, e.g. `http://127.0.0.1:8080`. */
  readonly url: string;
  readonly port: number;
  /** Set on the first start of a data dir: show these once. */
  readonly rootCredentials?: RootCredentials | undefined;
  /** The composed services (for tests and embedding). */
  readonly platform: Platform;
  /** Stop serving, finish in-flight work, stop every instance, close the store. Idempotent. */
  close(): Promise<void>;
}

/** Account id used in ARNs (Nimbus has no AWS account; twelve zeros as LocalStack uses). */
const ACCOUNT_ID = '000000000000';

/** Start a Nimbus node. */
export async function startServer(input: ServerOptionsInput = {}): Promise<NimbusServer> {
  const options = compileServerOptions(input);
  const { logger } = options;
  prepareDataDir(options.dataDir);
  // One data dir, one server, checked before anything touches the data dir or its run dir: a
  // refused second server must neither create nor clean up anything of the running one.
  const lock = lockDataDir(options.dataDir);

  let store: Store;
  try {
    store =
      options.storeInstance ?? (await openStore({ url: options.store ?? defaultStoreUrl(options.dataDir) }));
  } catch (err) {
    lock.release();
    throw err;
  }
  // Run in reverse: the lock is released last, after everything under the data dir is done.
  const cleanups: Array<() => Promise<void>> = [async () => lock.release()];
  if (!options.storeInstance) cleanups.push(() => store.close());
  const cleanup = async () => {
    for (const fn of cleanups.reverse()) await fn().catch((err) => logger.error(String(err)));
  };
  try {
    const auth = new AuthService(store.credentials, { dataDir: options.dataDir, env: options.env });
    const rootCredentials = await auth.bootstrap();

    // The API on a unix socket, for the SDK inside function sandboxes (which have no network).
    // Outside the data dir: what sandboxes mount must be reachable by their user (see data-dir.ts).
    const runDir = sandboxRunDir(options.dataDir);
    cleanups.push(async () => removeRunDir(runDir));
    const apiSocket = apiSocketPath(runDir);
    const backends = await createBackends({
      workDir: runDir,
      apiSocketDir: dirname(apiSocket),
      sandbox: options.sandbox,
      bwrapPath: options.bwrapPath,
      prewarm: options.prewarm,
      threadPrewarm: options.threadPrewarm,
      logger,
    });
    cleanups.push(() => backends.close());
    const sandboxed = backends.process.sandboxed;
    if (!sandboxed) {
      logger.warn(
        [
          '',
          '!!! WARNING: functions run UNSANDBOXED: bubblewrap (bwrap) is not installed or cannot create namespaces,',
          '!!! or --sandbox off was given. Function code can read your files and environment.',
          '!!! Install it (apt-get install bubblewrap) or start with --sandbox required to refuse to run without it.',
          '',
        ].join('\n'),
      );
    }

    const onError = (err: unknown) =>
      logger.error(`background error: ${(err as Error)?.stack ?? String(err)}`);
    const pool = new WarmPool({
      // An instance never outlives the app token in its environment (src/auth/app-tokens.ts).
      maxInstanceAgeMs: MAX_INSTANCE_AGE_MS,
      backends,
      memoryBudgetMB: options.memoryBudgetMB,
      acquireTimeoutMs: options.acquireTimeoutMs,
      onError,
    });
    cleanups.push(() => pool.close());
    const logs = new LogSink(store.logs, { onError });
    cleanups.push(() => logs.close());
    const resolver = new FunctionResolver(store.functions);
    const codeCache = new CodeCache(join(options.dataDir, 'code'), store.code);

    const specs = new Map<string, Promise<InstanceSpec>>();
    /** When each spec was built: rebuilt after APP_TOKEN_REFRESH_MS so new instances get a fresh token. */
    const specBuilt = new Map<string, number>();
    const specFor = (v: FunctionVersion, qualifier: string | undefined): Promise<InstanceSpec> => {
      const name = lambdaName(v.app, v.name);
      const key = `${name}\u0000${v.version}\u0000${v.createdAt}\u0000${v.codeSha256}\u0000${qualifier ?? ''}`;
      let spec = specs.get(key);
      if (spec && Date.now() - (specBuilt.get(key) ?? 0) >= APP_TOKEN_REFRESH_MS) spec = undefined;
      if (!spec) {
        // Bounded: stale entries of old deploys are dropped wholesale rather than tracked.
        if (specs.size > 2000) {
          specs.clear();
          specBuilt.clear();
        }
        const sdkEnv = auth.appToken(v.app).then((token) => ({
          [API_SOCKET_ENV]: apiSocket,
          NIMBUS_TOKEN: token,
          NIMBUS_APP: v.app,
        }));
        spec = Promise.all([codeCache.dir(v.codeSha256), sdkEnv]).then(([codeDir, platformEnvironment]) => ({
          functionName: name,
          version: v.version,
          config: v.config,
          codeDir,
          codeSha256: v.codeSha256,
          invokedFunctionArn: `arn:aws:lambda:${options.region}:${ACCOUNT_ID}:function:${name}${qualifier && qualifier !== LATEST ? `:${qualifier}` : ''}`,
          region: options.region,
          platformEnvironment,
        }));
        spec.catch(() => specs.delete(key));
        specs.set(key, spec);
        specBuilt.set(key, Date.now());
      }
      return spec;
    };
    const warmMinimum = (versions: readonly FunctionVersion[]) => {
      for (const v of versions) {
        if (v.config.minInstances > 0) {
          specFor(v, undefined)
            .then((spec) => pool.ensureMinInstances(spec))
            .catch(onError);
        }
      }
    };

    // A revoked app token is replaced: new specs get a new one, and the app's instances (whose
    // environment holds the revoked one) are recycled as they finish.
    auth.onAppTokenRevoked((record) => {
      specs.clear();
      specBuilt.clear();
      store.functions
        .listFunctions(record.app)
        .then((versions) => {
          for (const v of versions) pool.retire(lambdaName(v.app, v.name));
        })
        .catch(onError);
    });

    const invoker = new InvokeService({ resolver, pool, logs, specFor });
    // Destinations are bound to the queue/topic services once those exist (they need the dispatcher).
    const destinations = new DestinationRouter({ region: options.region, accountId: ACCOUNT_ID });
    const nodeId = loadNodeId(options.dataDir);
    const dispatcher = new AsyncDispatcher(
      { queue: store.invocations, invoker, resolver, destinations },
      { ...options.async, nodeId, onError },
    );
    cleanups.push(() => dispatcher.stop());
    // Durable workflows: tasks through the same invoke service. Stopped before the pool (cleanups
    // run in reverse), so invocations in flight record their results.
    const workflows = createWorkflowEngine({
      store,
      invoker,
      nodeId,
      region: options.region,
      accountId: ACCOUNT_ID,
      onError,
    });
    cleanups.push(() => workflows.stop());

    // Resources, and the triggers that subscribe to their change feeds (see resource-wiring.ts).
    const services: ServiceContext = {
      store,
      dataDir: options.dataDir,
      invoker,
      enqueueAsync: (functionName, payload, opts) =>
        enqueueAsync(
          { resolver, queue: store.invocations, dispatcher },
          {
            functionName,
            qualifier: opts?.qualifier,
            payload,
            idempotencyKey: opts?.idempotencyKey,
            traceHeader: opts?.traceHeader,
          },
        ),
      region: options.region,
      accountId: ACCOUNT_ID,
      logger,
      onError,
      quotas: options.quotas,
    };
    const webhookEgress = new EgressPolicy({ allow: options.webhookAllow });
    const resources = wireResources(services, { webhooks: { egress: webhookEgress } });
    const { queues, topics, buckets, tables, scheduler } = resources;
    destinations.bind(serviceTransports({ queues, topics, enqueueAsync: services.enqueueAsync }));
    // Stopped before the dispatcher and pool (cleanups run in reverse), so triggers in flight finish.
    cleanups.push(() => resources.stop());
    const gatewayAuth = new RouteAuthorizer({
      apiKeys: store.apiKeys,
      invoker,
      accountId: ACCOUNT_ID,
      region: options.region,
      env: options.env,
      logger,
    });
    cleanups.push(() => gatewayAuth.stop());
    const gateway = new Gateway({
      routes: store.routes,
      invoker,
      accountId: ACCOUNT_ID,
      logger,
      authorizer: gatewayAuth,
    });
    const appResources = new AppResourceRegistry(store);
    const deployer = new DeployService({
      store,
      resolver,
      pool,
      onDeployed: warmMinimum,
      onRoutesChanged: async () => {
        gateway.invalidate();
        // Load it now (a failure is logged by the gateway's next request, which retries).
        await gateway.table().catch(() => undefined);
      },
      // The registry last: it records what the services just created, for SDK token scopes.
      hooks: [
        ...resources.deployHooks,
        workflowDeployHook({ store, region: options.region, accountId: ACCOUNT_ID }),
        appResources.deployHook,
      ],
    });

    const platform: Platform = {
      store,
      auth,
      resolver,
      invoker,
      dispatcher,
      deployer,
      pool,
      logs,
      gatewayAuth,
      region: options.region,
      accountId: ACCOUNT_ID,
      sandboxed,
      services,
      queues,
      topics,
      buckets,
      tables,
      scheduler,
      webhookEgress,
      appResourcePolicy: appResources.policy,
      workflows,
    };
    const server = createApiServer(platform, logger, gateway);
    await new Promise<void>((resolveListen, reject) => {
      server.once('error', reject);
      server.listen(options.port, options.host, () => {
        server.off('error', reject);
        resolveListen();
      });
    });
    cleanups.push(
      () =>
        new Promise<void>((resolveClose) => {
          server.close(() => resolveClose());
          server.closeAllConnections();
        }),
    );
    const socketServer = createApiServer(platform, logger);
    await listenApiSocket(socketServer, apiSocket);
    cleanups.push(() => closeApiSocket(socketServer, apiSocket));
    {
      // Running rows of this node were left by its previous process (killed mid-invocation);
      // without this they would wait out their lease. A single-writer store has one node: all
      // of them; with several writers, those claimed under this node's id.
      const requeued = await store.invocations.requeueRunning(
        store.capabilities.multipleWriters ? { claimedBy: nodeId } : {},
      );
      if (requeued > 0)
        logger.info(`requeued ${requeued} async invocation(s) left running by a previous run`);
    }
    dispatcher.start();
    await resources.start();
    // Frees the leases this node's previous process left (killed mid-step), then runs.
    await workflows.start();
    // Logs, finished invocations and webhook deliveries past their retention (and logs past quota).
    const retention = new RetentionSweeper(
      { store, logBytesPerApp: options.quotas.logBytesPerApp, onError, info: (m) => logger.info(m) },
      options.retention,
    );
    cleanups.push(() => retention.stop());
    retention.start();
    warmMinimum(await store.functions.listFunctions());

    const port = (server.address() as AddressInfo).port;
    const host = options.host.includes(':') ? `[${options.host}]` : options.host;
    const url = `http://${host === '0.0.0.0' ? '127.0.0.1' : host}:${port}`;
    lock.listening(url, port);
    let closing: Promise<void> | undefined;
    return {
      url,
      port,
      rootCredentials,
      platform,
      close: () => (closing ??= cleanup()),
    };
  } catch (err) {
    await cleanup();
    throw err;
  }
}
