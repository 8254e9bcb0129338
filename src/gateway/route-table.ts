// The compiled, in-memory route table: every app's routes ordered as API Gateway HTTP API picks
// them (exact path, then paths with variables, then greedy {proxy+}, then $default).

import { lambdaName } from '../functions/function-model.js';
import type { StoredAppGateway } from '../store/store.js';
import type { AuthorizerSpec, UsagePlanSpec } from './auth/auth-spec.js';
import {
  DEFAULT_ROUTE,
  joinPath,
  type CorsConfig,
  type PayloadVersion,
  type RouteMethod,
} from './route-spec.js';

/** One route, compiled for matching. */
export interface CompiledRoute {
  readonly app: string;
  /** Lambda full name of the target function. */
  readonly functionName: string;
  readonly method: RouteMethod;
  /** The route key as declared (`GET /users/{id}` or `$default`), as events report it. */
  readonly routeKey: string;
  /** Declared path with the app's base path (`/api/users/{id}`), or `$default`. */
  readonly resource: string;
  readonly payload: PayloadVersion;
  readonly cors: CorsConfig | undefined;
  readonly basePath: string;
  /** Who may call the route; undefined: everyone. */
  readonly auth: CompiledAuth | undefined;
}

/** A route's auth with the app's declarations it refers to resolved. */
export interface CompiledAuth {
  readonly apiKey: boolean;
  readonly scopes: readonly string[] | undefined;
  readonly authorizerName: string | undefined;
  readonly authorizer: AuthorizerSpec | undefined;
  /** Identifies the authorizer's settings, so compiled authorizers survive table reloads. */
  readonly fingerprint: string;
  /** The app's usage plans (an API key names one). */
  readonly plans: Readonly<Record<string, UsagePlanSpec>>;
}

/** A matched route and its path parameters (URL-decoded). */
export interface RouteMatch {
  readonly route: CompiledRoute;
  readonly params: Readonly<Record<string, string>> | undefined;
}

interface Pattern {
  readonly route: CompiledRoute;
  /** Per segment: a literal, or a variable name; a greedy variable is last. */
  readonly segments: ReadonlyArray<{ literal: string } | { name: string; greedy: boolean }>;
  readonly greedy: boolean;
}

/** Routes of every app, ready to match. Immutable; rebuild with {@link RouteTable.build}. */
export class RouteTable {
  /** Exact paths: full path → method (or ANY) → route. */
  readonly #exact = new Map<string, Map<string, CompiledRoute>>();
  /** Paths with variables, most specific first. */
  readonly #variable: Pattern[] = [];
  /** Paths ending in a greedy variable, most specific first. */
  readonly #greedy: Pattern[] = [];
  /** `$default` routes, longest base path first. */
  readonly #defaults: CompiledRoute[] = [];
  /** Apps with CORS, longest base path first (for preflights no route matches). */
  readonly #corsApps: Array<{ basePath: string; cors: CorsConfig }> = [];

  /** Number of routes. */
  readonly size: number;

  private constructor(apps: readonly StoredAppGateway[]) {
    let size = 0;
    for (const app of apps) {
      const plans = app.usagePlans ?? {};
      if (app.cors) this.#corsApps.push({ basePath: app.basePath, cors: app.cors });
      for (const r of app.routes) {
        size++;
        const isDefault = r.path === DEFAULT_ROUTE;
        const route: CompiledRoute = Object.freeze({
          app: app.app,
          functionName: lambdaName(app.app, r.function),
          method: r.method,
          routeKey: isDefault ? DEFAULT_ROUTE : `${r.method} ${r.path}`,
          resource: isDefault ? DEFAULT_ROUTE : joinPath(app.basePath, r.path),
          payload: r.payload,
          cors: app.cors,
          basePath: app.basePath,
          auth: r.auth ? compileAuth(app, r.auth, plans) : undefined,
        });
        if (isDefault) {
          this.#defaults.push(route);
          continue;
        }
        if (!route.resource.includes('{')) {
          let byMethod = this.#exact.get(route.resource);
          if (!byMethod) this.#exact.set(route.resource, (byMethod = new Map()));
          byMethod.set(route.method, route);
          continue;
        }
        const segments = route.resource
          .slice(1)
          .split('/')
          .map((s) => {
            const v = /^\{([^}+]+)(\+?)\}$/.exec(s);
            return v ? { name: v[1]!, greedy: v[2] === '+' } : { literal: s };
          });
        const greedy = segments.some((s) => 'greedy' in s && s.greedy);
        (greedy ? this.#greedy : this.#variable).push({ route, segments, greedy });
      }
    }
    this.size = size;
    this.#variable.sort(compareSpecificity);
    this.#greedy.sort(compareSpecificity);
    this.#defaults.sort((a, b) => b.basePath.length - a.basePath.length);
    this.#corsApps.sort((a, b) => b.basePath.length - a.basePath.length);
  }

  /** Compile the stored routes of every app. */
  static build(apps: readonly StoredAppGateway[]): RouteTable {
    return new RouteTable(apps);
  }

  /** The route for a request, or undefined (404). `path` is the raw (still encoded) path. */
  match(method: string, path: string): RouteMatch | undefined {
    const exact = this.#exact.get(path);
    if (exact) {
      const route = exact.get(method) ?? exact.get('ANY');
      if (route) return { route, params: undefined };
    }
    if (this.#variable.length > 0 || this.#greedy.length > 0) {
      const parts = path === '/' ? [] : path.slice(1).split('/');
      for (const list of [this.#variable, this.#greedy]) {
        for (const p of list) {
          if (p.route.method !== method && p.route.method !== 'ANY') continue;
          const params = matchSegments(p, parts);
          if (params) return { route: p.route, params };
        }
      }
    }
    for (const route of this.#defaults) {
      if (route.basePath === '' || path === route.basePath || path.startsWith(`${route.basePath}/`)) {
        return { route, params: undefined };
      }
    }
    return undefined;
  }

  /** CORS of the app whose base path holds `path` (for a preflight no route matched). */
  corsForPath(path: string): CorsConfig | undefined {
    for (const app of this.#corsApps) {
      if (app.basePath === '' || path === app.basePath || path.startsWith(`${app.basePath}/`))
        return app.cors;
    }
    return undefined;
  }
}

function compileAuth(
  app: StoredAppGateway,
  auth: NonNullable<StoredAppGateway['routes'][number]['auth']>,
  plans: Readonly<Record<string, UsagePlanSpec>>,
): CompiledAuth {
  const authorizer = auth.authorizer === undefined ? undefined : app.authorizers?.[auth.authorizer];
  return Object.freeze({
    apiKey: auth.apiKey,
    scopes: auth.scopes,
    authorizerName: auth.authorizer,
    authorizer,
    fingerprint: `${app.app}\u0000${auth.authorizer ?? ''}\u0000${JSON.stringify(authorizer ?? null)}`,
    plans,
  });
}

/**
 * Literal segments beat variables position by position; among equals, more segments first (for
 * greedy routes: a longer fixed prefix), then a method beats ANY. Why position by position:
 * API Gateway prefers `/users/me/{x}` over `/users/{id}/posts` for `/users/me/posts`.
 */
function compareSpecificity(a: Pattern, b: Pattern): number {
  const n = Math.min(a.segments.length, b.segments.length);
  for (let i = 0; i < n; i++) {
    const ra = rank(a.segments[i]!);
    const rb = rank(b.segments[i]!);
    if (ra !== rb) return ra - rb;
  }
  if (a.segments.length !== b.segments.length) return b.segments.length - a.segments.length;
  return (a.route.method === 'ANY' ? 1 : 0) - (b.route.method === 'ANY' ? 1 : 0);
}

function rank(s: { literal: string } | { name: string; greedy: boolean }): number {
  return 'literal' in s ? 0 : s.greedy ? 2 : 1;
}

function matchSegments(p: Pattern, parts: readonly string[]): Record<string, string> | undefined {
  const segs = p.segments;
  if (p.greedy ? parts.length < segs.length : parts.length !== segs.length) return undefined;
  const params: Record<string, string> = {};
  for (let i = 0; i < segs.length; i++) {
    const s = segs[i]!;
    if ('literal' in s) {
      if (parts[i] !== s.literal) return undefined;
    } else if (s.greedy) {
      const rest = parts.slice(i).join('/');
      if (rest === '') return undefined;
      params[s.name] = decode(rest);
    } else {
      if (parts[i] === '') return undefined;
      params[s.name] = decode(parts[i]!);
    }
  }
  return params;
}

function decode(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}
