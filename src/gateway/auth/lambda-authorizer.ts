// The custom (Lambda) authorizer: a function of the same app gets the payload 2.0 REQUEST
// authorizer event and answers `{ isAuthorized, context }`; results are cached per identity.

import { lambdaName } from '../../functions/function-model.js';
import type { InvokeService } from '../../invoke/invoke-service.js';
import { buildEventV2 } from '../event-v2.js';
import { parseQuery, type GatewayRequest } from '../gateway-request.js';
import type { RouteMatch } from '../route-table.js';
import type { FunctionAuthorizerSpec } from './auth-spec.js';

/** What a custom authorizer concludes; `error` means a 500 (failure, timeout, bad answer). */
export type LambdaOutcome =
  | { readonly ok: true; readonly context: Record<string, unknown> }
  | { readonly ok: false; readonly status: 401 | 403 | 500; readonly detail?: string };

interface Cached {
  readonly outcome: LambdaOutcome;
  readonly expires: number;
}

/** Most cached results per node; emptied when full. */
const MAX_CACHED = 10_000;

/** Runs custom authorizers and caches their answers. */
export class LambdaAuthorizers {
  readonly #invoker: InvokeService;
  readonly #accountId: string;
  readonly #region: string;
  readonly #cache = new Map<string, Cached>();

  constructor(invoker: InvokeService, accountId: string, region: string) {
    this.#invoker = invoker;
    this.#accountId = accountId;
    this.#region = region;
  }

  /** Authorize a request with the authorizer `name` of the matched route's app. */
  async authorize(
    name: string,
    spec: FunctionAuthorizerSpec,
    req: GatewayRequest,
    match: RouteMatch,
  ): Promise<LambdaOutcome> {
    const identity = identityValues(spec.identitySource, req);
    // API Gateway answers 401 without invoking when an identity source is missing.
    if (!identity) return { ok: false, status: 401 };
    const key = `${match.route.app}\u0000${name}\u0000${identity.join('\u0000')}`;
    const now = Date.now();
    const hit = this.#cache.get(key);
    if (hit && hit.expires > now) return hit.outcome;
    const outcome = await this.#invoke(spec, identity, req, match);
    // Only answers are cached; a failure is retried on the next request.
    if (spec.ttl > 0 && (outcome.ok || outcome.status === 403)) {
      if (this.#cache.size >= MAX_CACHED) this.#cache.clear();
      this.#cache.set(key, { outcome, expires: now + spec.ttl * 1000 });
    }
    return outcome;
  }

  async #invoke(
    spec: FunctionAuthorizerSpec,
    identity: string[],
    req: GatewayRequest,
    match: RouteMatch,
  ): Promise<LambdaOutcome> {
    const event = buildEventV2(req, match, { accountId: this.#accountId });
    delete event.body;
    delete event.isBase64Encoded;
    const route = match.route;
    const path = route.resource === '$default' ? '' : route.resource;
    const authEvent = {
      version: '2.0',
      type: 'REQUEST',
      routeArn: `arn:aws:execute-api:${this.#region}:${this.#accountId}:${route.app}/$default/${req.method}${path}`,
      identitySource: identity,
      ...event,
    };
    let result;
    try {
      result = await this.#invoker.invoke({
        functionName: lambdaName(route.app, spec.function),
        payload: Buffer.from(JSON.stringify(authEvent)),
        requestId: req.requestId,
      });
    } catch (err) {
      return { ok: false, status: 500, detail: String(err) };
    }
    if (!result.ok)
      return { ok: false, status: 500, detail: result.error?.errorMessage ?? 'authorizer failed' };
    let answer: unknown;
    try {
      answer = JSON.parse(result.payload.toString('utf8'));
    } catch {
      answer = undefined;
    }
    const a = answer as { isAuthorized?: unknown; context?: unknown } | undefined;
    if (typeof a !== 'object' || a === null || typeof a.isAuthorized !== 'boolean') {
      return {
        ok: false,
        status: 500,
        detail: 'authorizer answer lacks a boolean isAuthorized (simple response)',
      };
    }
    if (!a.isAuthorized) return { ok: false, status: 403 };
    const context =
      typeof a.context === 'object' && a.context !== null ? (a.context as Record<string, unknown>) : {};
    return { ok: true, context };
  }
}

/** Values of `$request.header.X` / `$request.querystring.x` sources, or undefined if one is missing. */
export function identityValues(sources: readonly string[], req: GatewayRequest): string[] | undefined {
  const out: string[] = [];
  let query: Map<string, string[]> | undefined;
  for (const s of sources) {
    let value: string | undefined;
    if (s.startsWith('$request.header.')) {
      value = req.headers.get(s.slice('$request.header.'.length).toLowerCase())?.join(',');
    } else {
      query ??= parseQuery(req.rawQueryString);
      value = query.get(s.slice('$request.querystring.'.length))?.join(',');
    }
    if (value === undefined || value === '') return undefined;
    out.push(value);
  }
  return out;
}
