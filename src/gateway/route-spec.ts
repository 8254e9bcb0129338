// Route declarations: the shapes shared by nimbus.yml, the deploy API and the store, and the
// pure parsing/validation of route keys, paths, base paths and CORS settings.

import { parseRouteAuth, type AuthorizerSpec, type RouteAuth, type UsagePlanSpec } from './auth/auth-spec.js';

/** Event payload format sent to a function: API Gateway HTTP API `2.0` or REST-style `1.0`. */
export type PayloadVersion = '1.0' | '2.0';

/** Methods a route may name; `ANY` matches every method. */
export const ROUTE_METHODS = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'HEAD', 'OPTIONS', 'ANY'] as const;

/** A route method. */
export type RouteMethod = (typeof ROUTE_METHODS)[number];

/** The catch-all route key (API Gateway's `$default`). */
export const DEFAULT_ROUTE = '$default';

/** CORS settings of an app, as API Gateway HTTP API's `CorsConfiguration`. */
export interface CorsConfig {
  /** Allowed origins; `*` allows any. @default ['*'] */
  readonly allowOrigins: readonly string[];
  /** Allowed methods for preflight; `*` allows any. @default ['*'] */
  readonly allowMethods: readonly string[];
  /** Allowed request headers for preflight; `*` allows any. @default ['*'] */
  readonly allowHeaders: readonly string[];
  /** Response headers exposed to the browser. @default [] */
  readonly exposeHeaders: readonly string[];
  /** Send `Access-Control-Allow-Credentials: true`. @default false */
  readonly allowCredentials: boolean;
  /** Preflight cache seconds (`Access-Control-Max-Age`); omitted when undefined. */
  readonly maxAge?: number | undefined;
}

/** CORS used when a route says `cors: true` and the app sets no `gateway.cors`. */
export const DEFAULT_CORS: CorsConfig = Object.freeze({
  allowOrigins: Object.freeze(['*']),
  allowMethods: Object.freeze(['*']),
  allowHeaders: Object.freeze(['*']),
  exposeHeaders: Object.freeze([]),
  allowCredentials: false,
});

/** One route of an app as deployed: `method` + `path` (relative to the app's base path) → function. */
export interface RouteSpec {
  /** Function name inside the app (not the Lambda full name). */
  readonly function: string;
  /** `ANY` or a method; `ANY` for `$default`. */
  readonly method: RouteMethod;
  /** `/users/{id}`, `/files/{proxy+}`, or `$default`. */
  readonly path: string;
  readonly payload: PayloadVersion;
  /** Who may call the route; absent: everyone. */
  readonly auth?: RouteAuth | undefined;
}

/** An app's gateway: its base path, CORS and routes. What a deploy carries and the store keeps. */
export interface AppGatewaySpec {
  /** Prefix for every route of the app (`/api`), or `''`. @default '' */
  readonly basePath: string;
  readonly cors?: CorsConfig | undefined;
  readonly routes: readonly RouteSpec[];
  /** Authorizers routes name in `auth.authorizer`. */
  readonly authorizers?: Readonly<Record<string, AuthorizerSpec>> | undefined;
  /** Usage plans the app's API keys belong to. */
  readonly usagePlans?: Readonly<Record<string, UsagePlanSpec>> | undefined;
}

/** A route declaration parsed from an event, before it is tied to a function. */
export interface ParsedRoute {
  readonly method: RouteMethod;
  readonly path: string;
  readonly payload: PayloadVersion;
  /** The route asked for CORS (`cors: true` in Serverless style). */
  readonly cors: boolean;
  readonly auth?: RouteAuth | undefined;
}

const VAR = /^\{([A-Za-z_][A-Za-z0-9_]*)(\+?)\}$/;
const LITERAL = /^[A-Za-z0-9\-._~!$&'()*,;=:@%]+$/;

/** Why `path` is not a valid route path, or undefined when it is. */
export function routePathProblem(path: string): string | undefined {
  if (!path.startsWith('/')) return 'must start with `/`';
  if (path === '/') return undefined;
  const segments = path.slice(1).split('/');
  const names = new Set<string>();
  for (const [i, segment] of segments.entries()) {
    if (segment === '') {
      return i === segments.length - 1 ? 'must not end with `/`' : 'must not contain an empty segment (`//`)';
    }
    const v = VAR.exec(segment);
    if (v) {
      if (v[2] === '+' && i !== segments.length - 1)
        return `greedy variable {${v[1]}+} must be the last segment`;
      if (names.has(v[1]!)) return `uses the variable {${v[1]}} twice`;
      names.add(v[1]!);
    } else if (!LITERAL.test(segment)) {
      return `has an invalid segment ${JSON.stringify(segment)} (use letters, digits, -._~ or a whole-segment {variable})`;
    }
  }
  return undefined;
}

/** Why `basePath` is not a valid base path, or undefined. `''` and `/` mean none; a trailing `/` is dropped. */
export function basePathProblem(basePath: string): string | undefined {
  const base = normalizeBasePath(basePath);
  if (base === '') return undefined;
  const p = routePathProblem(base);
  if (p) return p;
  return base.includes('{') ? 'must not contain variables' : undefined;
}

/** `/api/` → `/api`, `/` → `''`. */
export function normalizeBasePath(basePath: string | undefined): string {
  if (!basePath || basePath === '/') return '';
  return basePath.endsWith('/') ? basePath.slice(0, -1) : basePath;
}

/**
 * Parse `GET /users/{id}`, `ANY /{proxy+}`, `$default` (or Serverless httpApi `*`). Serverless
 * `http` paths may lack the leading slash; `lenientSlash` adds it.
 */
export function parseRouteKey(
  text: string,
  lenientSlash = false,
): { method: RouteMethod; path: string } | { problem: string } {
  const t = text.trim();
  if (t === DEFAULT_ROUTE || t === '*') return { method: 'ANY', path: DEFAULT_ROUTE };
  const m = /^(\S+)\s+(\S+)$/.exec(t);
  if (!m) return { problem: 'must be `METHOD /path` (e.g. `GET /hello`, `ANY /{proxy+}`) or `$default`' };
  return methodAndPath(m[1]!, m[2]!, lenientSlash);
}

function methodAndPath(
  methodText: string,
  pathText: string,
  lenientSlash: boolean,
): { method: RouteMethod; path: string } | { problem: string } {
  const upper = methodText.toUpperCase();
  const method = upper === '*' ? 'ANY' : upper;
  if (!(ROUTE_METHODS as readonly string[]).includes(method)) {
    return { problem: `method \`${methodText}\` is not one of ${ROUTE_METHODS.join(', ')}` };
  }
  if (pathText === DEFAULT_ROUTE) return { method: 'ANY', path: DEFAULT_ROUTE };
  const path = lenientSlash && !pathText.startsWith('/') ? `/${pathText}` : pathText;
  const problem = routePathProblem(path);
  if (problem) return { problem: `path \`${pathText}\` ${problem}` };
  return { method: method as RouteMethod, path };
}

/**
 * Parse one `http`/`httpApi` event value. `defaultPayload` is the format when the event does
 * not say (Serverless `http` events are REST API events, so 1.0 in a serverless.yml).
 * `lenientSlash` lets the string form omit the path's leading slash; the mapping form always may.
 */
export function parseRouteEvent(
  value: unknown,
  defaultPayload: PayloadVersion,
  lenientSlash: boolean,
): ParsedRoute | { problem: string } {
  if (typeof value === 'string') {
    const r = parseRouteKey(value, lenientSlash);
    return 'problem' in r ? r : { ...r, payload: defaultPayload, cors: false };
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return { problem: 'must be `METHOD /path` or a mapping with `method:` and `path:`' };
  }
  const v = value as Record<string, unknown>;
  if (typeof v.path !== 'string') return { problem: 'needs `path:` (e.g. `path: /users/{id}`)' };
  if (v.method !== undefined && typeof v.method !== 'string')
    return { problem: '`method:` must be a string' };
  // The long form is the Serverless Framework's, which takes `path: v1/{id}` without the slash.
  const r = methodAndPath(typeof v.method === 'string' ? v.method : 'ANY', v.path, true);
  if ('problem' in r) return r;
  let payload = defaultPayload;
  if (v.payload !== undefined) {
    const p = String(v.payload);
    if (p !== '1.0' && p !== '2.0')
      return { problem: '`payload:` must be `2.0` or `1.0` (quote it: `"1.0"`)' };
    payload = p;
  }
  // Serverless `private: true` is REST API's "API key required".
  const auth = parseRouteAuth(v.auth ?? (v.private === true ? 'apiKey' : undefined));
  if (auth && 'problem' in auth) return { problem: `\`auth:\` ${auth.problem}` };
  return { ...r, payload, cors: v.cors !== undefined && v.cors !== false, ...(auth ? { auth } : {}) };
}

/**
 * The key two apps must not share: method and full path with variable names erased, so
 * `GET /u/{id}` and `GET /u/{uid}` collide as they would in one API Gateway API.
 */
export function conflictKey(basePath: string, method: string, path: string): string {
  if (path === DEFAULT_ROUTE) return `${DEFAULT_ROUTE} ${basePath || '/'}`;
  const full = joinPath(basePath, path)
    .replace(/\{[^}+]+\+\}/g, '{+}')
    .replace(/\{[^}]+\}/g, '{}');
  return `${method} ${full}`;
}

/** `/api` + `/users` → `/api/users`; `/api` + `/` → `/api`. */
export function joinPath(basePath: string, path: string): string {
  if (!basePath) return path;
  return path === '/' ? basePath : basePath + path;
}

/** Why a CORS value is invalid, or the compiled config. `true` means {@link DEFAULT_CORS}. */
export function parseCors(value: unknown): CorsConfig | { problem: string } {
  if (value === true) return DEFAULT_CORS;
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return { problem: 'must be `true` or a mapping with allowOrigins, allowMethods, allowHeaders, ...' };
  }
  const v = value as Record<string, unknown>;
  const known = [
    'allowOrigins',
    'allowMethods',
    'allowHeaders',
    'exposeHeaders',
    'allowCredentials',
    'maxAge',
  ];
  for (const key of Object.keys(v)) {
    if (!known.includes(key))
      return { problem: `has unknown key \`${key}\`; valid keys: ${known.join(', ')}` };
  }
  const list = (key: string, dflt: readonly string[]): readonly string[] | string => {
    const x = v[key];
    if (x === undefined) return dflt;
    if (typeof x === 'string') return Object.freeze([x]);
    if (Array.isArray(x) && x.every((s) => typeof s === 'string')) return Object.freeze([...(x as string[])]);
    return `\`${key}\` must be a list of strings`;
  };
  const origins = list('allowOrigins', ['*']);
  const methods = list('allowMethods', ['*']);
  const headers = list('allowHeaders', ['*']);
  const expose = list('exposeHeaders', []);
  for (const x of [origins, methods, headers, expose]) if (typeof x === 'string') return { problem: x };
  if (v.allowCredentials !== undefined && typeof v.allowCredentials !== 'boolean') {
    return { problem: '`allowCredentials` must be true or false' };
  }
  if (
    v.maxAge !== undefined &&
    (typeof v.maxAge !== 'number' || !Number.isInteger(v.maxAge) || v.maxAge < 0)
  ) {
    return { problem: '`maxAge` must be a whole number of seconds' };
  }
  if (v.allowCredentials === true && (origins as readonly string[]).includes('*')) {
    return { problem: 'browsers refuse `allowCredentials: true` with origin `*`; list the allowed origins' };
  }
  return Object.freeze({
    allowOrigins: origins as readonly string[],
    allowMethods: (methods as readonly string[]).map((m) => m.toUpperCase()),
    allowHeaders: (headers as readonly string[]).map((h) => h.toLowerCase()),
    exposeHeaders: expose as readonly string[],
    allowCredentials: v.allowCredentials === true,
    maxAge: v.maxAge as number | undefined,
  });
}
