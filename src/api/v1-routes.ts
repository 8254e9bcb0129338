// The native admin API under /v1 (bearer tokens): code upload, deploy, invoke, versions,
// aliases, logs, invocations, health and pool metrics.

import { enqueueAsync } from '../invoke/enqueue-async.js';
import { NimbusError, errors } from '../errors.js';
import { deployRequestSchema, parseWith } from '../functions/function-config-schema.js';
import { lambdaName, type FunctionVersion } from '../functions/function-model.js';
import { SYNC_PAYLOAD_LIMIT } from '../invoke/invoke-service.js';
import { MAX_CODE_BYTES } from '../deploy/deploy-service.js';
import type { Platform } from '../server/platform.js';
import { z } from 'zod';
import { assertJsonPayload, header, parseJsonBody, type ApiResponse } from './http-io.js';
import { invokeResponse, type InvokeHeaderNames } from './invoke-response.js';
import type { RouteContext, RouteTable } from './route-context.js';

function describeFunction(v: FunctionVersion) {
  return {
    fullName: lambdaName(v.app, v.name),
    app: v.app,
    name: v.name,
    runtime: v.config.runtime,
    // `typescript` for TypeScript functions, which run as `nodejs` (absent otherwise).
    ...(v.config.sourceRuntime ? { sourceRuntime: v.config.sourceRuntime } : {}),
    handler: v.config.handler,
    memory: v.config.memory,
    timeout: v.config.timeout,
    isolation: v.config.isolation,
    codeSha256: v.codeSha256,
    codeSize: v.codeSize,
    lastModified: v.createdAt,
  };
}

function describeVersion(v: FunctionVersion) {
  return {
    version: v.version,
    codeSha256: v.codeSha256,
    description: v.config.description,
    createdAt: v.createdAt,
  };
}

async function requireFunction(p: Platform, name: string): Promise<FunctionVersion> {
  const v = await p.store.functions.getVersion(name, '$LATEST');
  if (!v) throw errors.functionNotFound(name);
  return v;
}

const aliasBodySchema = z
  .object({
    version: z.string().regex(/^(\d+|\$LATEST)$/),
    additionalVersion: z
      .object({ version: z.string().regex(/^\d+$/), weight: z.number().min(0).max(1) })
      .strict()
      .optional(),
    description: z.string().max(256).default(''),
  })
  .strict();

const publishBodySchema = z.object({ description: z.string().max(256).optional() }).strict();

const json = (status: number, body: unknown): ApiResponse => ({ status, body });

/** Register the /v1 routes. */
export function v1Routes(routes: RouteTable): void {
  routes.public('GET', '/v1/health', async ({ platform }) =>
    json(200, { status: 'ok', sandboxed: platform.sandboxed, store: platform.store.kind }),
  );

  routes.bearer('HEAD', '/v1/code/{sha}', async ({ platform, params, authorize }) => {
    await authorize({ kind: 'function', name: '*' });
    return { status: (await platform.store.code.has(params.sha!)) ? 200 : 404 };
  });
  routes.bearer('PUT', '/v1/code/{sha}', async ({ platform, params, body, authorize }) => {
    await authorize({ kind: 'function', name: '*' });
    const bytes = await body(MAX_CODE_BYTES, 'Code bundle');
    await platform.deployer.putCode(params.sha!, bytes);
    return json(200, { codeSha256: params.sha, size: bytes.length });
  });

  routes.bearer('POST', '/v1/apps/{app}/deploy', async ({ platform, params, body, authorize }) => {
    await authorize({ kind: 'function', name: '*' });
    const req = parseWith(deployRequestSchema, parseJsonBody(await body(1024 * 1024)), 'deploy request');
    return json(200, await platform.deployer.deploy(params.app!, req));
  });
  routes.bearer('DELETE', '/v1/apps/{app}', async ({ platform, params, authorize }) => {
    await authorize({ kind: 'function', name: '*' });
    return json(200, { app: params.app, removed: await platform.deployer.deleteApp(params.app!) });
  });

  routes.bearer('GET', '/v1/functions', async ({ platform, query, authorize }) => {
    await authorize({ kind: 'function', name: '*' });
    const fns = await platform.store.functions.listFunctions(query.get('app') ?? undefined);
    return json(200, { functions: fns.map(describeFunction) });
  });
  routes.bearer('GET', '/v1/functions/{name}', async ({ platform, params, authorize }) => {
    await authorize({ kind: 'function', name: params.name! });
    const v = await requireFunction(platform, params.name!);
    return json(200, { ...describeFunction(v), config: v.config });
  });
  routes.bearer('DELETE', '/v1/functions/{name}', async ({ platform, params, authorize }) => {
    await authorize({ kind: 'function', name: '*' });
    await platform.deployer.deleteFunction(params.name!);
    return { status: 204 };
  });

  routes.bearer('POST', '/v1/functions/{name}/invoke', invoke);

  routes.bearer('GET', '/v1/invocations/{id}', async ({ platform, params, authorize }) => {
    const inv = await platform.store.invocations.get(params.id!);
    // Another app's invocation answers as a missing one (not 403 naming its function).
    const visible =
      inv !== undefined &&
      (await authorize({ kind: 'function', name: inv.functionName }).then(
        () => true,
        (err: unknown) => {
          if ((err as { code?: unknown })?.code === 'AccessDeniedException') return false;
          throw err;
        },
      ));
    if (!inv || !visible) {
      throw new NimbusError(
        'ResourceNotFoundException',
        `Invocation not found: ${params.id}; invocation ids come from async invokes (\`nimbus invoke --async\`).`,
      );
    }
    return json(200, {
      invocationId: inv.id,
      functionName: inv.functionName,
      qualifier: inv.qualifier || '$LATEST',
      status: inv.status,
      attempts: inv.attempts,
      createdAt: new Date(inv.createdAt).toISOString(),
      finishedAt: inv.finishedAt === undefined ? undefined : new Date(inv.finishedAt).toISOString(),
      result: inv.result === undefined ? undefined : safeJson(inv.result.toString()),
      error: inv.error === undefined ? undefined : safeJson(inv.error),
      startedAt: inv.startedAt === undefined ? undefined : new Date(inv.startedAt).toISOString(),
      condition: inv.condition,
      executedVersion: inv.executedVersion,
      idempotencyKey: inv.idempotencyKey,
      // Destinations and dead letter: pending (being delivered), delivered or failed.
      destination:
        inv.delivery === undefined
          ? undefined
          : { status: inv.delivery, attempts: inv.deliveryAttempts, error: inv.deliveryError },
    });
  });

  routes.bearer('GET', '/v1/functions/{name}/versions', async ({ platform, params, authorize }) => {
    await authorize({ kind: 'function', name: params.name! });
    await requireFunction(platform, params.name!);
    const versions = await platform.store.functions.listVersions(params.name!);
    return json(200, { versions: versions.map(describeVersion) });
  });
  routes.bearer('POST', '/v1/functions/{name}/versions', async ({ platform, params, body, authorize }) => {
    await authorize({ kind: 'function', name: '*' });
    const req = parseWith(publishBodySchema, parseJsonBody(await body(64 * 1024)), 'publish request');
    await requireFunction(platform, params.name!);
    const v = await platform.store.functions.publishVersion(params.name!, req.description);
    platform.resolver.invalidate(params.name!);
    return json(201, describeVersion(v));
  });

  routes.bearer('GET', '/v1/functions/{name}/aliases', async ({ platform, params, authorize }) => {
    await authorize({ kind: 'function', name: params.name! });
    await requireFunction(platform, params.name!);
    const aliases = await platform.store.functions.listAliases(params.name!);
    return json(200, { aliases: aliases.map(({ app: _a, functionName: _f, ...rest }) => rest) });
  });
  routes.bearer(
    'PUT',
    '/v1/functions/{name}/aliases/{alias}',
    async ({ platform, params, body: readJson, authorize }) => {
      await authorize({ kind: 'function', name: '*' });
      const body = parseWith(aliasBodySchema, parseJsonBody(await readJson(64 * 1024)), 'alias');
      if (/^\d+$/.test(params.alias!) || params.alias === '$LATEST') {
        throw new NimbusError(
          'InvalidParameterValueException',
          `Alias name '${params.alias}' looks like a version; alias names must not be numbers or $LATEST.`,
        );
      }
      await requireFunction(platform, params.name!);
      const alias = await platform.store.functions.putAlias(params.name!, {
        name: params.alias!,
        version: body.version,
        additionalVersion: body.additionalVersion,
        description: body.description,
      });
      platform.resolver.invalidate(params.name!);
      const { app: _a, functionName: _f, ...rest } = alias;
      return json(200, rest);
    },
  );
  routes.bearer('DELETE', '/v1/functions/{name}/aliases/{alias}', async ({ platform, params, authorize }) => {
    await authorize({ kind: 'function', name: '*' });
    if (!(await platform.store.functions.deleteAlias(params.name!, params.alias!))) {
      throw errors.functionNotFound(params.name!, params.alias);
    }
    platform.resolver.invalidate(params.name!);
    return { status: 204 };
  });

  routes.bearer('GET', '/v1/functions/{name}/logs', async ({ platform, params, query, authorize }) => {
    await authorize({ kind: 'function', name: params.name! });
    await platform.logs.flush();
    const num = (k: string) => {
      const v = query.get(k);
      if (v === null || v === '') return undefined;
      const n = Number(v);
      if (!Number.isFinite(n))
        throw new NimbusError('InvalidParameterValueException', `Query parameter ${k} must be a number.`);
      return n;
    };
    const lines = await platform.store.logs.query({
      functionName: params.name!,
      sinceMs: num('since'),
      afterId: num('after'),
      limit: Math.min(num('limit') ?? 1000, 10_000),
    });
    return json(200, { lines });
  });

  routes.bearer('GET', '/v1/metrics', async ({ platform, authorize }) => {
    await authorize({ kind: 'function', name: '*' });
    return json(200, { pool: platform.pool.stats() });
  });
}

async function invoke({ platform, params, query, req, body, authorize }: RouteContext): Promise<ApiResponse> {
  await authorize({ kind: 'function', name: params.name! });
  const payload = await body(SYNC_PAYLOAD_LIMIT, 'Request payload');
  assertJsonPayload(payload);
  const qualifier = query.get('qualifier') ?? undefined;
  if (query.get('async') === 'true') {
    // Straight to enqueueAsync: the request's trace header goes with the event (recursion-guard.ts).
    const id = await enqueueAsync(asyncDeps(platform), {
      functionName: params.name!,
      qualifier,
      payload,
      idempotencyKey: header(req, 'x-nimbus-idempotency-key'),
      traceHeader: header(req, 'x-amzn-trace-id'),
    });
    return json(202, { invocationId: id });
  }
  const res = await platform.invoker.invoke({
    functionName: params.name!,
    qualifier,
    payload,
    requestId: header(req, 'x-request-id'),
    logTail: query.get('log') === 'tail',
    // The SDK sends the calling function's trace header (recursive loop detection).
    traceHeader: header(req, 'x-amzn-trace-id'),
  });
  return invokeResponse(res, V1_HEADERS);
}

const V1_HEADERS: InvokeHeaderNames = {
  requestId: 'x-nimbus-request-id',
  executedVersion: 'x-nimbus-executed-version',
  functionError: 'x-nimbus-function-error',
  logResult: 'x-nimbus-log-result',
};

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

/** What enqueueAsync needs, from the platform. */
function asyncDeps(platform: RouteContext['platform']): Parameters<typeof enqueueAsync>[0] {
  return { resolver: platform.resolver, queue: platform.store.invocations, dispatcher: platform.dispatcher };
}
