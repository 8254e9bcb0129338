// The node:http front door: routes API requests, authenticates them per route, and maps
// errors to the dialect of the API that was called (native /v1 or the AWS Lambda facade);
// every other path goes to the HTTP gateway (user routes).

import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { Readable, pipeline } from 'node:stream';
import { checkScopes } from '../auth/resource-scopes.js';
import { NimbusError, errors, isNimbusError } from '../errors.js';
import { SYNC_PAYLOAD_LIMIT } from '../invoke/invoke-service.js';
import type { Platform } from '../server/platform.js';
import { awsServiceOf, isAwsSigned } from './aws-service.js';
import { answerUnsupportedAws } from './aws-unsupported.js';
import { bucketsRoutes } from './buckets-routes.js';
import { readBody, type ApiResponse } from './http-io.js';
import { keysRoutes } from './keys-routes.js';
import { lambdaRoutes } from './lambda-routes.js';
import { queuesRoutes } from './queues-routes.js';
import { handleS3 } from './s3/s3-facade.js';
import { schedulesRoutes } from './schedules-routes.js';
import { handleSfn } from './sfn/sfn-facade.js';
import { handleSqs } from './sqs/sqs-facade.js';
import { tablesRoutes } from './tables-routes.js';
import { tokensRoutes } from './tokens-routes.js';
import { topicsRoutes } from './topics-routes.js';
import type { AuthMode, RouteEntry, RouteHandler, RouteTable } from './route-context.js';
import { Router } from './router.js';
import { v1Routes } from './v1-routes.js';
import { workflowsRoutes } from './workflows-routes.js';

/** Logger for request failures that are the server's fault. */
export interface ApiLogger {
  error(msg: string): void;
}

/** Build the router with every API route. */
export function buildRouter(): Router<RouteEntry> {
  const router = new Router<RouteEntry>();
  const add = (auth: AuthMode) => (method: string, pattern: string, handler: RouteHandler) => {
    router.add(method, pattern, { auth, handler });
  };
  const table: RouteTable = { public: add('public'), bearer: add('bearer'), sigv4: add('sigv4') };
  v1Routes(table);
  keysRoutes(table);
  lambdaRoutes(table);
  queuesRoutes(table);
  topicsRoutes(table);
  bucketsRoutes(table);
  tablesRoutes(table);
  schedulesRoutes(table);
  tokensRoutes(table);
  workflowsRoutes(table);
  return router;
}

/** What serves the paths the API does not own (the HTTP gateway). */
export interface FallbackHandler {
  /** Must not throw: it answers every failure itself. */
  handle(req: IncomingMessage, res: ServerResponse): Promise<void>;
}

/** True for paths the API owns: `/v1`, `/v1/...` and the Lambda API's `/2015-03-31/...`. */
export function isApiPath(url: string): boolean {
  return url.startsWith('/v1/') || url === '/v1' || url.startsWith('/v1?') || url.startsWith('/2015-03-31/');
}

/**
 * Create (not start) the HTTP server for `platform`. Requests signed for S3, SQS or Step Functions
 * (`states`) go to those facades (told apart from user routes by the SigV4 credential scope's
 * service, as LocalStack does, so the AWS SDKs need nothing but `endpoint`); other AWS-signed
 * requests outside the Lambda API's paths get an AWS-shaped `UnknownOperationException`;
 * unsigned requests outside the API's paths go to `gateway`; without one they answer 404 as before.
 */
export function createApiServer(platform: Platform, logger: ApiLogger, gateway?: FallbackHandler): Server {
  const router = buildRouter();
  const server = createServer({ keepAliveTimeout: 65_000 }, (req, res) => {
    const url = req.url ?? '/';
    if (isApiPath(url)) {
      void handle(platform, router, logger, req, res);
      return;
    }
    const service = awsServiceOf(req);
    if (service === 's3') void handleS3(platform, req, res);
    else if (service === 'sqs') void handleSqs(platform, req, res);
    else if (service === 'states') void handleSfn(platform, req, res);
    // Any other AWS-signed request (DynamoDB, SNS, another Lambda API version,
    // a signature Nimbus cannot read) is AWS API traffic for something Nimbus does not serve:
    // answered in AWS's shape, never handed to a user route with its credentials.
    else if (isAwsSigned(req)) answerUnsupportedAws(req, res, service);
    else if (gateway) void gateway.handle(req, res);
    else void handle(platform, router, logger, req, res);
  });
  return server;
}

async function handle(
  platform: Platform,
  router: Router<RouteEntry>,
  logger: ApiLogger,
  req: IncomingMessage,
  res: ServerResponse,
): Promise<void> {
  const url = req.url ?? '/';
  const q = url.indexOf('?');
  const path = q < 0 ? url : url.slice(0, q);
  const dialect: AuthMode = path.startsWith('/2015-03-31/') ? 'sigv4' : 'bearer';
  try {
    const match = router.match(req.method ?? 'GET', path);
    if (match.kind === 'not-found') {
      throw new NimbusError(
        'NotFound',
        `No API route for ${req.method} ${path}. See docs/api.md for the routes.`,
      );
    }
    if (match.kind === 'method-not-allowed') {
      throw new NimbusError(
        'MethodNotAllowed',
        `${req.method} is not allowed on ${path}; use ${match.allowed.join(' or ')}.`,
        {
          headers: { allow: match.allowed.join(', ') },
        },
      );
    }
    const { auth, handler } = match.handler;
    let preRead: Buffer | undefined;
    let principal = 'anonymous';
    let scopes: readonly string[] = ['*'];
    if (auth === 'bearer') {
      const who = await platform.auth.verifyBearer(req.headers.authorization);
      principal = who.name;
      scopes = who.scopes;
    } else if (auth === 'sigv4') {
      // SigV4 signs the payload hash, so the body must be in hand before the route runs.
      preRead = await readBody(req, SYNC_PAYLOAD_LIMIT, 'Request payload');
      // Only Lambda's API is SigV4 on these paths: a scope for another service or region is
      // refused, and so is UNSIGNED-PAYLOAD (Lambda signs every body).
      const identity = await platform.auth.verifySigV4(
        { method: req.method ?? 'GET', path: url, headers: req.headers, body: preRead },
        { expectedScope: { service: 'lambda', region: platform.region } },
      );
      principal = identity.accessKeyId;
    }
    // Default deny for scoped tokens (a function's SDK token): a route must authorize before it
    // reads the body, and a route that never authorized answers 403 instead of its response.
    const scoped = !scopes.includes('*');
    let authorized = !scoped;
    const response = await handler({
      req,
      params: match.params,
      query: new URLSearchParams(q < 0 ? '' : url.slice(q + 1)),
      platform,
      principal,
      authorize: async (resource) => {
        await checkScopes(scopes, resource, platform.appResourcePolicy);
        authorized = true;
      },
      body: (limit, what) => {
        if (!authorized) return Promise.reject(notAuthorized(principal));
        if (preRead === undefined) return readBody(req, limit, what);
        if (preRead.length > limit)
          return Promise.reject(errors.tooLarge(what ?? 'Request body', preRead.length, limit));
        return Promise.resolve(preRead);
      },
    });
    if (!authorized) throw notAuthorized(principal);
    send(res, response);
  } catch (err) {
    sendError(res, err, dialect, logger);
  }
}

function notAuthorized(principal: string): NimbusError {
  return new NimbusError(
    'AccessDeniedException',
    `The token '${principal}' is scoped and this route is not open to scoped tokens; use a token with scope *.`,
  );
}

/** Write an {@link ApiResponse}. A Readable body is piped (its length, if known, is in `r.headers`). */
export function send(res: ServerResponse, r: ApiResponse): void {
  let body: Buffer | string | undefined;
  const headers: Record<string, string | number | string[]> = { ...r.headers };
  if (r.body instanceof Readable) {
    const stream = r.body;
    res.writeHead(r.status, headers);
    if (res.req.method === 'HEAD') {
      stream.destroy();
      res.end();
      return;
    }
    // A read failure after the headers went out can only cut the response short.
    pipeline(stream, res, (err) => {
      if (err) res.destroy();
    });
    return;
  }
  if (r.body === undefined) body = undefined;
  else if (Buffer.isBuffer(r.body) || typeof r.body === 'string') body = r.body;
  else {
    body = JSON.stringify(r.body);
    headers['content-type'] ??= 'application/json';
  }
  if (body !== undefined) headers['content-length'] = Buffer.byteLength(body);
  else if (r.status !== 204 && r.status !== 304) headers['content-length'] ??= 0;
  res.writeHead(r.status, headers);
  res.end(body);
}

function sendError(res: ServerResponse, err: unknown, dialect: AuthMode, logger: ApiLogger): void {
  let e: NimbusError;
  if (isNimbusError(err)) e = err;
  else {
    logger.error(`internal error: ${(err as Error)?.stack ?? String(err)}`);
    e = new NimbusError('ServiceException', 'An internal error occurred; the server log has the details.');
  }
  if (res.headersSent) {
    res.destroy();
    return;
  }
  const headers: Record<string, string> = { ...e.headers, 'content-type': 'application/json' };
  let body: unknown;
  if (dialect === 'sigv4') {
    // Lambda's REST-JSON errors: the SDKs read the type from this header.
    headers['x-amzn-errortype'] = e.code;
    body = { Type: e.status >= 500 ? 'Service' : 'User', message: e.message };
  } else {
    body = { code: e.code, message: e.message, __type: e.code };
  }
  // Drain an unread request body so the connection stays usable for keep-alive.
  if (!res.req.complete) res.req.resume();
  send(res, { status: e.status, headers, body });
}
