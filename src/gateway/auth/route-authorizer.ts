// Per-route auth on the gateway's request path: the route's authorizer (JWT or custom) first,
// then its API key and usage plan — each refusal in API Gateway's words.

import type { InvokeService } from '../../invoke/invoke-service.js';
import type { ApiKeyStore } from '../../store/store.js';
import type { GatewayRequest } from '../gateway-request.js';
import type { CompiledAuth, RouteMatch } from '../route-table.js';
import { ApiKeyService } from './api-keys.js';
import { JwksCache } from './jwks-cache.js';
import { JwtAuthorizer } from './jwt-authorizer.js';
import { LambdaAuthorizers } from './lambda-authorizer.js';
import { UsageMeter } from './usage-plans.js';

/** What the event builders put in `requestContext.authorizer` (and `identity` for 1.0). */
export interface AuthorizerContext {
  readonly jwt?: { readonly claims: Record<string, unknown>; readonly scopes: readonly string[] } | undefined;
  readonly lambda?: Record<string, unknown> | undefined;
  readonly apiKey?: { readonly id: string; readonly value: string } | undefined;
}

/** A refusal: status, API Gateway's message, extra headers. */
export interface AuthRefusal {
  readonly status: number;
  readonly message: string;
  readonly headers: Record<string, string>;
}

/** Dependencies of {@link RouteAuthorizer}. */
export interface RouteAuthorizerDeps {
  readonly apiKeys: ApiKeyStore;
  readonly invoker: InvokeService;
  readonly accountId: string;
  readonly region: string;
  /** Resolves JWT authorizers' `secretEnv`. @default process.env */
  readonly env?: NodeJS.ProcessEnv | undefined;
  readonly logger: { error(msg: string): void };
  /** Quota counter writes. @default 1000 */
  readonly usageFlushMs?: number | undefined;
  /** Minimum time between JWKS refetches of one URL. @default 30000 */
  readonly jwksCooldownMs?: number | undefined;
}

/** Runs a route's auth. One per gateway; holds the caches. */
export class RouteAuthorizer {
  readonly #deps: RouteAuthorizerDeps;
  readonly #jwks: JwksCache;
  readonly #jwt = new Map<string, JwtAuthorizer>();
  readonly #lambda: LambdaAuthorizers;
  /** Usage counters; exposed for `nimbus keys usage` and shutdown. */
  readonly meter: UsageMeter;
  /** Key lookups and revocation; exposed for the keys API. */
  readonly keys: ApiKeyService;

  constructor(deps: RouteAuthorizerDeps) {
    this.#deps = deps;
    this.#jwks = new JwksCache({ cooldownMs: deps.jwksCooldownMs });
    this.#lambda = new LambdaAuthorizers(deps.invoker, deps.accountId, deps.region);
    this.meter = new UsageMeter(deps.apiKeys, {
      flushMs: deps.usageFlushMs,
      onError: (err) => deps.logger.error(`gateway: writing API key usage failed: ${String(err)}`),
    });
    this.keys = new ApiKeyService(deps.apiKeys, this.meter);
  }

  /** Authorize a request for its route; `req.body` may still be empty (not read yet). */
  async authorize(
    auth: CompiledAuth,
    req: GatewayRequest,
    match: RouteMatch,
  ): Promise<{ ok: true; context: AuthorizerContext } | ({ ok: false } & AuthRefusal)> {
    let jwt: AuthorizerContext['jwt'];
    let lambda: AuthorizerContext['lambda'];
    const a = auth.authorizer;
    if (a?.type === 'jwt') {
      const r = await this.#jwtFor(auth).verify(req.headers, auth.scopes);
      if (!r.ok) {
        return refuse(r.status, r.status === 401 ? 'Unauthorized' : 'Forbidden', {
          'www-authenticate': r.wwwAuthenticate,
        });
      }
      jwt = { claims: r.claims as Record<string, unknown>, scopes: r.scopes };
    } else if (a?.type === 'function') {
      const r = await this.#lambda.authorize(auth.authorizerName!, a, req, match);
      if (!r.ok) {
        if (r.status === 500) {
          this.#deps.logger.error(
            `gateway: ${req.requestId}: authorizer ${auth.authorizerName} failed: ${r.detail ?? ''}`,
          );
          return refuse(500, 'Internal Server Error');
        }
        return refuse(r.status, r.status === 401 ? 'Unauthorized' : 'Forbidden');
      }
      lambda = r.context;
    } else if (auth.authorizerName !== undefined) {
      // The authorizer vanished from the app (a deploy checks this; a hand-edited store may not).
      return refuse(500, 'Internal Server Error');
    }
    let apiKey: AuthorizerContext['apiKey'];
    if (auth.apiKey) {
      const presented = req.headers.get('x-api-key')?.[0];
      if (!presented) return refuse(403, 'Forbidden');
      const found = this.keys.lookup(presented, ['day', 'month']);
      const key = found instanceof Promise ? await found : found;
      const plan = key && key.app === match.route.app ? auth.plans[key.plan] : undefined;
      // A key of another app, or whose plan the app no longer declares, is no key here.
      if (!key || !plan) return refuse(403, 'Forbidden');
      const admitted = this.meter.admit(key.id, plan);
      if (!admitted.ok) {
        return refuse(429, admitted.reason === 'quota' ? 'Limit Exceeded' : 'Too Many Requests', {
          'retry-after': String(admitted.retryAfter),
        });
      }
      apiKey = { id: key.id, value: presented };
    }
    return { ok: true, context: { jwt, lambda, apiKey } };
  }

  /** Write pending usage and stop timers. Idempotent. */
  stop(): Promise<void> {
    return this.meter.stop();
  }

  #jwtFor(auth: CompiledAuth): JwtAuthorizer {
    let v = this.#jwt.get(auth.fingerprint);
    if (!v) {
      if (this.#jwt.size > 1000) this.#jwt.clear();
      v = new JwtAuthorizer(auth.authorizer as never, this.#jwks, this.#deps.env ?? process.env);
      this.#jwt.set(auth.fingerprint, v);
    }
    return v;
  }
}

function refuse(
  status: number,
  message: string,
  headers: Record<string, string> = {},
): { ok: false } & AuthRefusal {
  return { ok: false, status, message, headers };
}
