// The AWS Lambda-compatible facade (SigV4): Invoke, GetFunction and ListFunctions, so
// `@aws-sdk/client-lambda` works against a Nimbus endpoint.

import { enqueueAsync } from '../invoke/enqueue-async.js';
import { NimbusError } from '../errors.js';
import { lambdaName, LATEST, type FunctionVersion } from '../functions/function-model.js';
import { SYNC_PAYLOAD_LIMIT } from '../invoke/invoke-service.js';
import type { Platform } from '../server/platform.js';
import { assertJsonPayload, header, type ApiResponse } from './http-io.js';
import { invokeResponse, type InvokeHeaderNames } from './invoke-response.js';
import type { RouteContext, RouteTable } from './route-context.js';

const RUNTIME_IDS = { nodejs: 'nodejs20.x', python: 'python3.11', provided: 'provided.al2023' } as const;

/**
 * Split a Lambda `FunctionName` (name, `name:qualifier`, full or partial ARN) into name and
 * qualifier, reconciling a qualifier in the name with the `Qualifier` query parameter.
 */
export function parseFunctionName(
  raw: string,
  queryQualifier: string | undefined,
): { name: string; qualifier: string | undefined } {
  let name = raw;
  let qualifier: string | undefined;
  const arn = /^(?:arn:[^:]+:lambda:[^:]*:)?(?:\d{12}:)?function:([^:]+)(?::([^:]+))?$/.exec(raw);
  if (arn) {
    name = arn[1]!;
    qualifier = arn[2];
  } else {
    const colon = raw.indexOf(':');
    if (colon > 0) {
      name = raw.slice(0, colon);
      qualifier = raw.slice(colon + 1);
    }
  }
  if (qualifier !== undefined && queryQualifier !== undefined && queryQualifier !== qualifier) {
    throw new NimbusError(
      'InvalidParameterValueException',
      `The derived qualifier from the function name (${qualifier}) does not match the specified qualifier (${queryQualifier}).`,
    );
  }
  return { name, qualifier: qualifier ?? queryQualifier };
}

/** The function's ARN as Lambda spells it. */
export function functionArn(p: Platform, name: string, qualifier?: string): string {
  return `arn:aws:lambda:${p.region}:${p.accountId}:function:${name}${qualifier ? `:${qualifier}` : ''}`;
}

function configuration(p: Platform, v: FunctionVersion) {
  const name = lambdaName(v.app, v.name);
  return {
    FunctionName: name,
    FunctionArn: functionArn(p, name, v.version === LATEST ? undefined : v.version),
    Runtime: RUNTIME_IDS[v.config.runtime],
    Handler: v.config.handler,
    CodeSize: v.codeSize,
    Description: v.config.description,
    Timeout: v.config.timeout,
    MemorySize: v.config.memory,
    LastModified: v.createdAt.replace('Z', '+0000'),
    // Lambda reports the base64 sha256 of the deployment package.
    CodeSha256: Buffer.from(v.codeSha256, 'hex').toString('base64'),
    Version: v.version,
    Environment: { Variables: { ...v.config.environment } },
    State: 'Active',
    LastUpdateStatus: 'Successful',
    PackageType: 'Zip',
    Architectures: [process.arch === 'arm64' ? 'arm64' : 'x86_64'],
  };
}

/** Register the Lambda API routes. */
export function lambdaRoutes(routes: RouteTable): void {
  routes.sigv4('POST', '/2015-03-31/functions/{name}/invocations', invoke);

  routes.sigv4('GET', '/2015-03-31/functions', async ({ platform }) => {
    const fns = await platform.store.functions.listFunctions();
    return { status: 200, body: { Functions: fns.map((v) => configuration(platform, v)) } };
  });

  routes.sigv4('GET', '/2015-03-31/functions/{name}', async ({ platform, params, query }) => {
    const { name, qualifier } = parseFunctionName(params.name!, query.get('Qualifier') ?? undefined);
    const v = await platform.resolver.resolve(name, qualifier);
    return {
      status: 200,
      body: { Configuration: configuration(platform, v), Code: { RepositoryType: 'Nimbus', Location: '' } },
    };
  });
}

async function invoke(ctx: RouteContext): Promise<ApiResponse> {
  const { platform, params, query, req } = ctx;
  const { name, qualifier } = parseFunctionName(params.name!, query.get('Qualifier') ?? undefined);
  const type = header(req, 'x-amz-invocation-type') ?? 'RequestResponse';
  const payload = await ctx.body(SYNC_PAYLOAD_LIMIT, 'Request payload');
  assertJsonPayload(payload);

  if (type === 'DryRun') {
    // Checks that the function exists and the caller may invoke it; runs nothing.
    const v = await platform.resolver.resolve(name, qualifier);
    return { status: 204, headers: { 'x-amz-executed-version': v.version } };
  }
  if (type === 'Event') {
    // Straight to enqueueAsync: the request's trace header goes with the event (recursion-guard.ts).
    const id = await enqueueAsync(asyncDeps(platform), {
      functionName: name,
      qualifier,
      payload,
      traceHeader: header(req, 'x-amzn-trace-id'),
    });
    return { status: 202, headers: { 'x-amzn-requestid': id } };
  }
  if (type !== 'RequestResponse') {
    throw new NimbusError(
      'InvalidParameterValueException',
      `X-Amz-Invocation-Type must be RequestResponse, Event or DryRun; got '${type}'.`,
    );
  }
  const logType = header(req, 'x-amz-log-type') ?? 'None';
  if (logType !== 'None' && logType !== 'Tail') {
    throw new NimbusError(
      'InvalidParameterValueException',
      `X-Amz-Log-Type must be None or Tail; got '${logType}'.`,
    );
  }
  const res = await platform.invoker.invoke({
    functionName: name,
    qualifier,
    payload,
    logTail: logType === 'Tail',
    clientContext: header(req, 'x-amz-client-context'),
    // The AWS SDK sends the calling function's trace header (recursive loop detection).
    traceHeader: header(req, 'x-amzn-trace-id'),
  });
  return invokeResponse(res, LAMBDA_HEADERS);
}

const LAMBDA_HEADERS: InvokeHeaderNames = {
  requestId: 'x-amzn-requestid',
  executedVersion: 'x-amz-executed-version',
  functionError: 'x-amz-function-error',
  logResult: 'x-amz-log-result',
};

/** What enqueueAsync needs, from the platform. */
function asyncDeps(platform: RouteContext['platform']): Parameters<typeof enqueueAsync>[0] {
  return { resolver: platform.resolver, queue: platform.store.invocations, dispatcher: platform.dispatcher };
}
