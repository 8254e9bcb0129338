// Auth declarations: route `auth:`, app-level authorizers and usage plans — the shapes shared by
// nimbus.yml, the deploy API and the store, and their pure parsing (problems name the fix).

/** How a route authenticates. Absent on a route: open to everyone. */
export interface RouteAuth {
  /** Require an `x-api-key` of the app (403 without a valid one); its usage plan limits it. */
  readonly apiKey: boolean;
  /** Name of an authorizer under `gateway.authorizers`. */
  readonly authorizer?: string | undefined;
  /** JWT scopes the token must carry (any one of them, as API Gateway's authorizationScopes). */
  readonly scopes?: readonly string[] | undefined;
}

/** Quota period: a UTC calendar day or month. */
export type QuotaPeriod = 'day' | 'month';

/** A usage plan: per-key rate and burst (token bucket) and an optional quota. */
export interface UsagePlanSpec {
  /** Steady requests per second per key; undefined means no rate limit. */
  readonly rate?: number | undefined;
  /** Bucket size: requests allowed at once after idling. @default max(1, ceil(rate)) */
  readonly burst?: number | undefined;
  /** Requests per key per UTC day or month. */
  readonly quota?: { readonly limit: number; readonly period: QuotaPeriod } | undefined;
}

/** A JWT authorizer (API Gateway HTTP API's `JWT` type, plus HS256 secrets). */
export interface JwtAuthorizerSpec {
  readonly type: 'jwt';
  /** Required `iss` claim. */
  readonly issuer: string;
  /** Accepted `aud` values (one must match); empty accepts any audience. */
  readonly audience: readonly string[];
  /** Where the token is read: `$request.header.<name>`; a `Bearer ` prefix is stripped. */
  readonly identitySource: string;
  /** HS256 shared secret (travels and is stored with the app; prefer `secretEnv`). */
  readonly secret?: string | undefined;
  /** Name of a server environment variable holding the HS256 secret. */
  readonly secretEnv?: string | undefined;
  /** JWKS endpoint for RS256/ES256 keys; fetched, cached, refetched on an unknown `kid`. */
  readonly jwksUrl?: string | undefined;
  /** An inline JWKS (the CLI inlines `jwksFile:` at deploy). */
  readonly jwks?: { readonly keys: readonly Record<string, unknown>[] } | undefined;
  /** Seconds of clock skew tolerated on `exp`/`nbf`/`iat`. @default 60 */
  readonly clockSkew: number;
}

/** A custom authorizer: a function of the same app, simple responses. */
export interface FunctionAuthorizerSpec {
  readonly type: 'function';
  /** Function name inside the app. */
  readonly function: string;
  /** `$request.header.<name>` / `$request.querystring.<name>` values; all must be present. */
  readonly identitySource: readonly string[];
  /** Seconds a result is cached per identity source values; 0 disables. @default 300 */
  readonly ttl: number;
}

/** Any authorizer. */
export type AuthorizerSpec = JwtAuthorizerSpec | FunctionAuthorizerSpec;

/** Default identity source of a JWT authorizer. */
export const DEFAULT_JWT_IDENTITY = '$request.header.Authorization';
/** Default result cache of a function authorizer, seconds (API Gateway's default). */
export const DEFAULT_AUTHORIZER_TTL = 300;
/** Default JWT clock skew, seconds. */
export const DEFAULT_CLOCK_SKEW = 60;

type Problem = { problem: string };
const NAME = /^[A-Za-z][A-Za-z0-9_-]{0,63}$/;
const IDENTITY = /^\$request\.(header|querystring)\.[A-Za-z0-9_.~!#$%&'*+^`|-]+$/;

function isMapping(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function unknownKey(v: Record<string, unknown>, known: readonly string[]): Problem | undefined {
  for (const key of Object.keys(v)) {
    if (!known.includes(key))
      return { problem: `has unknown key \`${key}\`; valid keys: ${known.join(', ')}` };
  }
  return undefined;
}

function stringList(value: unknown): string[] | undefined {
  if (typeof value === 'string') return [value];
  if (Array.isArray(value) && value.every((s) => typeof s === 'string')) return [...(value as string[])];
  return undefined;
}

/**
 * Parse a route's `auth:` value: `apiKey`, `none`, an authorizer name, or a mapping
 * `{ apiKey: true, authorizer: name, scopes: [...] }`. Undefined means an open route.
 */
export function parseRouteAuth(value: unknown): RouteAuth | undefined | Problem {
  if (value === undefined || value === null || value === 'none' || value === false) return undefined;
  if (typeof value === 'string') {
    if (value === 'apiKey') return { apiKey: true };
    if (NAME.test(value)) return { apiKey: false, authorizer: value };
    return {
      problem: 'must be `apiKey`, `none`, an authorizer name, or a mapping with apiKey/authorizer/scopes',
    };
  }
  if (!isMapping(value)) {
    return {
      problem: 'must be `apiKey`, `none`, an authorizer name, or a mapping with apiKey/authorizer/scopes',
    };
  }
  const bad = unknownKey(value, ['apiKey', 'authorizer', 'scopes']);
  if (bad) return bad;
  if (value.apiKey !== undefined && typeof value.apiKey !== 'boolean')
    return { problem: '`apiKey` must be true or false' };
  if (
    value.authorizer !== undefined &&
    (typeof value.authorizer !== 'string' || !NAME.test(value.authorizer))
  )
    return { problem: '`authorizer` must name an authorizer under gateway.authorizers' };
  const scopes = value.scopes === undefined ? undefined : stringList(value.scopes);
  if (value.scopes !== undefined && scopes === undefined)
    return { problem: '`scopes` must be a list of strings' };
  if (scopes && value.authorizer === undefined) return { problem: '`scopes` needs a JWT `authorizer`' };
  if (value.apiKey !== true && value.authorizer === undefined) return undefined;
  return {
    apiKey: value.apiKey === true,
    ...(value.authorizer === undefined ? {} : { authorizer: value.authorizer as string }),
    ...(scopes ? { scopes } : {}),
  };
}

/** Parse one usage plan: `{ rate, burst, quota: { limit, period } }`. */
export function parseUsagePlan(value: unknown): UsagePlanSpec | Problem {
  if (!isMapping(value)) return { problem: 'must be a mapping with rate, burst and/or quota' };
  const bad = unknownKey(value, ['rate', 'burst', 'quota']);
  if (bad) return bad;
  const positive = (x: unknown) => typeof x === 'number' && Number.isFinite(x) && x > 0;
  if (value.rate !== undefined && !positive(value.rate))
    return { problem: '`rate` must be a positive number of requests per second' };
  if (value.burst !== undefined && !(Number.isInteger(value.burst) && positive(value.burst)))
    return { problem: '`burst` must be a positive whole number of requests' };
  if (value.burst !== undefined && value.rate === undefined) return { problem: '`burst` needs a `rate`' };
  let quota: UsagePlanSpec['quota'];
  if (value.quota !== undefined) {
    const q = value.quota;
    if (!isMapping(q) || unknownKey(q, ['limit', 'period']))
      return { problem: '`quota` must be a mapping `{ limit: 1000, period: day }` (period day or month)' };
    if (!Number.isInteger(q.limit) || !positive(q.limit))
      return { problem: '`quota.limit` must be a positive whole number of requests' };
    if (q.period !== 'day' && q.period !== 'month')
      return { problem: '`quota.period` must be `day` or `month`' };
    quota = { limit: q.limit as number, period: q.period };
  }
  return {
    ...(value.rate === undefined ? {} : { rate: value.rate as number }),
    ...(value.rate === undefined
      ? {}
      : { burst: (value.burst as number | undefined) ?? Math.max(1, Math.ceil(value.rate as number)) }),
    ...(quota ? { quota } : {}),
  };
}

const JWT_KEYS = [
  'type',
  'issuer',
  'audience',
  'identitySource',
  'secret',
  'secretEnv',
  'jwksUrl',
  'jwksFile',
  'clockSkew',
];
const FUNCTION_KEYS = ['type', 'function', 'identitySource', 'ttl'];

/**
 * Parse one authorizer. `jwksFile` stays as a path in the result (`jwksFile` key) for the CLI to
 * inline; the deploy API only takes `jwks`.
 */
export function parseAuthorizer(value: unknown): (AuthorizerSpec & { jwksFile?: string }) | Problem {
  if (!isMapping(value) || (value.type !== 'jwt' && value.type !== 'function')) {
    return { problem: 'must be a mapping with `type: jwt` or `type: function`' };
  }
  if (value.type === 'function') {
    const bad = unknownKey(value, FUNCTION_KEYS);
    if (bad) return bad;
    if (typeof value.function !== 'string' || !NAME.test(value.function))
      return { problem: '`function` must name a function of this app' };
    const sources = stringList(value.identitySource ?? '$request.header.Authorization');
    if (!sources || sources.length === 0 || !sources.every((s) => IDENTITY.test(s)))
      return {
        problem:
          '`identitySource` must list `$request.header.<name>` or `$request.querystring.<name>` values',
      };
    const ttl = value.ttl ?? DEFAULT_AUTHORIZER_TTL;
    if (!Number.isInteger(ttl) || (ttl as number) < 0 || (ttl as number) > 3600)
      return { problem: '`ttl` must be whole seconds from 0 (no caching) to 3600' };
    return { type: 'function', function: value.function, identitySource: sources, ttl: ttl as number };
  }
  const bad = unknownKey(value, JWT_KEYS);
  if (bad) return bad;
  if (typeof value.issuer !== 'string' || value.issuer === '')
    return { problem: '`issuer` must be the expected `iss` claim (e.g. https://auth.example.com/)' };
  const audience = value.audience === undefined ? [] : stringList(value.audience);
  if (!audience) return { problem: '`audience` must be a string or a list of strings' };
  const identity = value.identitySource ?? DEFAULT_JWT_IDENTITY;
  if (typeof identity !== 'string' || !identity.startsWith('$request.header.') || !IDENTITY.test(identity))
    return { problem: '`identitySource` must be one `$request.header.<name>`' };
  const sources = ['secret', 'secretEnv', 'jwksUrl', 'jwksFile'].filter((k) => value[k] !== undefined);
  if (sources.length !== 1)
    return { problem: 'needs exactly one key source: `secret`, `secretEnv`, `jwksUrl` or `jwksFile`' };
  for (const k of sources) {
    if (typeof value[k] !== 'string' || value[k] === '')
      return { problem: `\`${k}\` must be a non-empty string` };
  }
  if (value.jwksUrl !== undefined && !/^https?:\/\//.test(value.jwksUrl as string))
    return { problem: '`jwksUrl` must be an http(s) URL' };
  if (value.secretEnv !== undefined && !/^[A-Za-z_][A-Za-z0-9_]*$/.test(value.secretEnv as string))
    return { problem: '`secretEnv` must be an environment variable name' };
  const skew = value.clockSkew ?? DEFAULT_CLOCK_SKEW;
  if (!Number.isInteger(skew) || (skew as number) < 0 || (skew as number) > 3600)
    return { problem: '`clockSkew` must be whole seconds from 0 to 3600' };
  return {
    type: 'jwt',
    issuer: value.issuer,
    audience,
    identitySource: identity,
    clockSkew: skew as number,
    ...(sources[0] === 'jwksFile'
      ? { jwksFile: value.jwksFile as string }
      : { [sources[0]!]: value[sources[0]!] }),
  } as JwtAuthorizerSpec & { jwksFile?: string };
}

/** A mapping of names to parsed entries, or the first problem (with the entry's name). */
export function parseNamed<T>(
  value: unknown,
  parse: (v: unknown) => T | Problem,
): { ok: Record<string, T> } | { name?: string; problem: string } {
  if (value === undefined || value === null) return { ok: {} };
  if (!isMapping(value)) return { problem: 'must be a mapping of names to definitions' };
  const ok: Record<string, T> = {};
  for (const [name, v] of Object.entries(value)) {
    if (!NAME.test(name))
      return { name, problem: 'name must start with a letter and use letters, digits, - or _' };
    const r = parse(v);
    if (isMapping(r) && 'problem' in r && typeof r.problem === 'string' && Object.keys(r).length === 1)
      return { name, problem: r.problem };
    ok[name] = r as T;
  }
  return { ok };
}
