// The HTTP gateway: matches a request against the in-memory route table, builds the API Gateway
// event, invokes the function through the InvokeService and writes the mapped response.

import type { IncomingMessage, ServerResponse } from 'node:http';
import { isNimbusError } from '../errors.js';
import { readBody } from '../api/http-io.js';
import { SYNC_PAYLOAD_LIMIT, type InvokeService } from '../invoke/invoke-service.js';
import type { RouteStore } from '../store/store.js';
import { chooseEncoding, compress } from './compression.js';
import { corsResponseHeaders, preflightHeaders } from './cors.js';
import { buildEventV1 } from './event-v1.js';
import { buildEventV2 } from './event-v2.js';
import { collectHeaders, type GatewayRequest } from './gateway-request.js';
import { ensureTraceparent, pickRequestId } from './request-id.js';
import { MalformedResponseError, mapResponse } from './response-mapper.js';
import type { CorsConfig } from './route-spec.js';
import { RouteTable, type RouteMatch } from './route-table.js';
import type { AuthorizerContext, RouteAuthorizer } from './auth/route-authorizer.js';

/** Largest request body accepted (Lambda's synchronous payload limit, 6 MB). */
export const GATEWAY_BODY_LIMIT = 6 * 1024 * 1024;

/** Where the gateway reports: one `info` access line per request, `error` for its own faults. */
export interface GatewayLogger {
  info(msg: string): void;
  error(msg: string): void;
}

/** Dependencies of the {@link Gateway}. */
export interface GatewayDeps {
  readonly routes: RouteStore;
  readonly invoker: InvokeService;
  readonly accountId: string;
  readonly logger: GatewayLogger;
  /**
   * How long a route table is used before it is refreshed in the background, so deploys made
   * through other nodes show up. Local deploys call {@link Gateway.invalidate} instead.
   * @default 2000
   */
  readonly refreshMs?: number;
  /** Runs per-route auth; without it, routes that declare auth are refused (500). */
  readonly authorizer?: RouteAuthorizer | undefined;
}

type Headers = Record<string, string | string[]>;

/** Serves every non-API request of the main port. */
export class Gateway {
  readonly #deps: GatewayDeps;
  readonly #refreshMs: number;
  #table: RouteTable | undefined;
  #loadedAt = 0;
  /** Bumped by invalidate(); a load that started before the bump does not count as fresh. */
  #generation = 0;
  #freshGeneration = -1;
  #loading: { generation: number; promise: Promise<RouteTable> } | undefined;

  constructor(deps: GatewayDeps) {
    this.#deps = deps;
    this.#refreshMs = deps.refreshMs ?? 2000;
  }

  /** Routes changed (a local deploy or delete): the next request reloads the table first. */
  invalidate(): void {
    this.#generation++;
  }

  /** The current route table (loading it when stale). Exposed for tests and tooling. */
  async table(): Promise<RouteTable> {
    const table = this.#table;
    if (table && this.#freshGeneration === this.#generation) {
      // Stale-while-revalidate: no request waits on the store for the periodic refresh.
      if (Date.now() - this.#loadedAt > this.#refreshMs) {
        this.#reload().catch((err: unknown) =>
          this.#deps.logger.error(`gateway: route refresh failed: ${String(err)}`),
        );
      }
      return table;
    }
    return this.#reload();
  }

  #reload(): Promise<RouteTable> {
    const generation = this.#generation;
    if (this.#loading && this.#loading.generation === generation) return this.#loading.promise;
    const promise = (async () => {
      try {
        const table = RouteTable.build(await this.#deps.routes.listApps());
        if (generation >= this.#freshGeneration) {
          this.#table = table;
          this.#loadedAt = Date.now();
          this.#freshGeneration = generation;
        }
        return table;
      } finally {
        // Same generation ⇒ this load (a reload of one generation is shared, never duplicated).
        if (this.#loading?.generation === generation) this.#loading = undefined;
      }
    })();
    this.#loading = { generation, promise };
    return promise;
  }

  /** Serve one request. Never throws; every failure becomes an API Gateway-style answer. */
  async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const started = performance.now();
    const requestId = pickRequestId(req.headers['x-request-id']);
    const url = req.url ?? '/';
    const q = url.indexOf('?');
    const path = q < 0 ? url : url.slice(0, q);
    let status = 500;
    try {
      status = await this.#serve(req, res, requestId, path, q < 0 ? '' : url.slice(q + 1));
    } catch (err) {
      this.#deps.logger.error(`gateway: ${requestId}: ${(err as Error)?.stack ?? String(err)}`);
      if (!res.headersSent) await this.#write(req, res, requestId, 500, message('Internal Server Error'));
      else res.destroy();
    } finally {
      const ms = (performance.now() - started).toFixed(1);
      this.#deps.logger.info(`${req.method} ${path} ${status} ${ms}ms ${requestId}`);
    }
  }

  async #serve(
    req: IncomingMessage,
    res: ServerResponse,
    requestId: string,
    path: string,
    rawQueryString: string,
  ): Promise<number> {
    const table = await this.table();
    const method = req.method ?? 'GET';
    const origin = req.headers.origin;
    const preflightMethod = req.headers['access-control-request-method'];
    if (method === 'OPTIONS' && origin !== undefined && typeof preflightMethod === 'string') {
      // Answered here without invoking, as API Gateway does once CORS is configured.
      const cors = table.match(preflightMethod.toUpperCase(), path)?.route.cors ?? table.corsForPath(path);
      if (cors) {
        const h = preflightHeaders(
          cors,
          origin,
          preflightMethod,
          req.headers['access-control-request-headers'],
        );
        return this.#write(req, res, requestId, 204, { headers: h ?? {}, body: Buffer.alloc(0) });
      }
    }
    const match = table.match(method, path);
    if (!match) return this.#write(req, res, requestId, 404, message('Not Found'));
    const cors = match.route.cors;
    const headers = collectHeaders(req);
    headers.set('x-request-id', [requestId]);
    ensureTraceparent(headers);
    const head: GatewayRequest = {
      method,
      rawPath: path,
      rawQueryString,
      headers,
      body: EMPTY,
      sourceIp: req.socket.remoteAddress ?? '127.0.0.1',
      protocol: `HTTP/${req.httpVersion}`,
      requestId,
      timeEpoch: Date.now(),
    };
    let authContext: AuthorizerContext | undefined;
    const auth = match.route.auth;
    if (auth) {
      // Before the body is read: a refused request costs no upload and no invocation.
      const authorizer = this.#deps.authorizer;
      if (!authorizer) return this.#write(req, res, requestId, 500, message('Internal Server Error'), cors);
      const r = await authorizer.authorize(auth, head, match);
      if (!r.ok) {
        const m = message(r.message);
        return this.#write(
          req,
          res,
          requestId,
          r.status,
          { headers: { ...m.headers, ...r.headers }, body: m.body },
          cors,
        );
      }
      authContext = r.context;
    }

    let body: Buffer;
    try {
      body = await readBody(req, GATEWAY_BODY_LIMIT);
    } catch (err) {
      if (isNimbusError(err) && err.code === 'RequestEntityTooLargeException') {
        return this.#write(req, res, requestId, 413, message('Request Entity Too Large'), cors);
      }
      throw err;
    }
    return this.#invoke(req, res, { ...head, body }, match, cors, authContext);
  }

  async #invoke(
    req: IncomingMessage,
    res: ServerResponse,
    greq: GatewayRequest,
    match: RouteMatch,
    cors: CorsConfig | undefined,
    authorizer: AuthorizerContext | undefined,
  ): Promise<number> {
    const { requestId } = greq;
    const identity = { accountId: this.#deps.accountId, authorizer };
    const event =
      match.route.payload === '1.0'
        ? buildEventV1(greq, match, identity)
        : buildEventV2(greq, match, identity);
    const payload = Buffer.from(JSON.stringify(event));
    if (payload.length > SYNC_PAYLOAD_LIMIT) {
      return this.#write(req, res, requestId, 413, message('Request Entity Too Large'), cors);
    }
    let result;
    try {
      result = await this.#deps.invoker.invoke({
        functionName: match.route.functionName,
        payload,
        requestId,
      });
    } catch (err) {
      if (isNimbusError(err) && err.code === 'TooManyRequestsException') {
        return this.#write(req, res, requestId, 429, message('Too Many Requests'), cors);
      }
      // A response over 6 MB, a function deleted under a stale table, a store error: all the
      // function's side of the gateway, reported as API Gateway does, details only in the log.
      this.#deps.logger.error(
        `gateway: ${requestId}: invoking ${match.route.functionName} failed: ${String(err)}`,
      );
      return this.#write(req, res, requestId, 502, message('Internal Server Error'), cors);
    }
    if (!result.ok) {
      if (result.error?.errorType === 'Sandbox.Timedout') {
        return this.#write(req, res, requestId, 504, message('Endpoint request timed out'), cors);
      }
      return this.#write(req, res, requestId, 502, message('Internal Server Error'), cors);
    }
    let mapped;
    try {
      mapped = mapResponse(result.payload, match.route.payload);
    } catch (err) {
      if (!(err instanceof MalformedResponseError)) throw err;
      this.#deps.logger.error(
        `gateway: ${requestId}: malformed response from ${match.route.functionName}: ${err.message}`,
      );
      return this.#write(req, res, requestId, 502, message('Internal Server Error'), cors);
    }
    return this.#write(req, res, requestId, mapped.status, mapped, cors);
  }

  /** Write a response with the request id, CORS and compression applied; returns the status. */
  async #write(
    req: IncomingMessage,
    res: ServerResponse,
    requestId: string,
    status: number,
    r: { headers: Headers; body: Buffer },
    cors?: CorsConfig,
  ): Promise<number> {
    const headers: Headers = { ...r.headers };
    if (cors) Object.assign(headers, corsResponseHeaders(cors, req.headers.origin));
    headers['x-request-id'] = requestId;
    headers['apigw-requestid'] = requestId;
    let body = r.body;
    const contentType = typeof headers['content-type'] === 'string' ? headers['content-type'] : undefined;
    const accept = req.headers['accept-encoding'];
    const encoding =
      headers['content-encoding'] === undefined && req.method !== 'HEAD'
        ? chooseEncoding(typeof accept === 'string' ? accept : undefined, contentType, body.length)
        : undefined;
    if (encoding) {
      body = await compress(body, encoding);
      headers['content-encoding'] = encoding;
      headers.vary = headers.vary ? `${String(headers.vary)}, accept-encoding` : 'accept-encoding';
    }
    const noBody = status === 204 || status === 304 || req.method === 'HEAD';
    if (!noBody) headers['content-length'] = String(body.length);
    // Unread request bytes would otherwise be parsed as the next request on this connection.
    if (!req.complete) req.resume();
    res.writeHead(status, headers);
    res.end(noBody ? undefined : body);
    return status;
  }
}

const EMPTY = Buffer.alloc(0);

function message(text: string): { headers: Headers; body: Buffer } {
  return {
    headers: { 'content-type': 'application/json' },
    body: Buffer.from(JSON.stringify({ message: text })),
  };
}
