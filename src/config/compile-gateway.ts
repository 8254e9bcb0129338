// Compiles an app's `http`/`httpApi` events and its `gateway:` block into the AppGatewaySpec the
// deploy carries. Runs only on a document the checks passed, so parse failures cannot happen here.

import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { NimbusError } from '../errors.js';
import {
  parseAuthorizer,
  parseNamed,
  parseUsagePlan,
  type AuthorizerSpec,
  type UsagePlanSpec,
} from '../gateway/auth/auth-spec.js';
import {
  DEFAULT_CORS,
  normalizeBasePath,
  parseCors,
  parseRouteEvent,
  type AppGatewaySpec,
  type CorsConfig,
  type RouteSpec,
} from '../gateway/route-spec.js';
import type { AppFunction, ConfigFlavour } from './app-config.js';
import { isMapping } from './app-config-checks.js';
import { routePayloadDefault } from './gateway-checks.js';

/** The app's gateway: base path, CORS (app-level, or the default when a route says `cors: true`), routes. */
export function compileGateway(
  gateway: unknown,
  functions: readonly AppFunction[],
  flavour: ConfigFlavour,
): AppGatewaySpec {
  const g = isMapping(gateway) ? gateway : {};
  const routes: RouteSpec[] = [];
  let routeCors = false;
  for (const fn of functions) {
    for (const event of fn.events) {
      if (!isMapping(event)) continue;
      for (const type of ['http', 'httpApi']) {
        if (event[type] === undefined) continue;
        const r = parseRouteEvent(event[type], routePayloadDefault(type, flavour), flavour === 'serverless');
        if ('problem' in r) continue;
        routeCors ||= r.cors;
        routes.push(
          Object.freeze({
            function: fn.name,
            method: r.method,
            path: r.path,
            payload: r.payload,
            ...(r.auth ? { auth: r.auth } : {}),
          }),
        );
      }
    }
  }
  let cors: CorsConfig | undefined;
  if (g.cors !== undefined && g.cors !== false) {
    const parsed = parseCors(g.cors);
    if (!('problem' in parsed)) cors = parsed;
  } else if (routeCors) {
    // Serverless `cors: true` on a route: HTTP APIs configure CORS per API, so the app gets it.
    cors = DEFAULT_CORS;
  }
  const authorizers = parseNamed(g.authorizers, parseAuthorizer);
  const plans = parseNamed(g.usagePlans, parseUsagePlan);
  const some = <T>(r: { ok: Record<string, T> } | object): Record<string, T> | undefined =>
    'ok' in r && Object.keys(r.ok).length > 0 ? r.ok : undefined;
  const a = some<AuthorizerSpec>(authorizers);
  const p = some<UsagePlanSpec>(plans);
  return Object.freeze({
    basePath: normalizeBasePath(typeof g.basePath === 'string' ? g.basePath : undefined),
    ...(cors ? { cors } : {}),
    routes: Object.freeze(routes),
    ...(a ? { authorizers: a } : {}),
    ...(p ? { usagePlans: p } : {}),
  });
}

/**
 * Replace each JWT authorizer's `jwksFile:` (relative to the app directory) with the JWKS it
 * holds: the server cannot see the deployer's files, so the keys travel inline with the deploy.
 */
export async function inlineJwksFiles(gateway: AppGatewaySpec, appDir: string): Promise<AppGatewaySpec> {
  if (!gateway.authorizers) return gateway;
  const out: Record<string, AuthorizerSpec> = {};
  for (const [name, spec] of Object.entries(gateway.authorizers)) {
    const file = (spec as { jwksFile?: unknown }).jwksFile;
    if (spec.type !== 'jwt' || typeof file !== 'string') {
      out[name] = spec;
      continue;
    }
    const path = resolve(appDir, file);
    let jwks: unknown;
    try {
      jwks = JSON.parse(await readFile(path, 'utf8'));
    } catch (err) {
      throw new NimbusError(
        'InvalidConfigError',
        `gateway.authorizers.${name}.jwksFile: could not read a JWKS from ${path}: ${(err as Error).message}`,
        { cause: err },
      );
    }
    if (typeof jwks !== 'object' || jwks === null || !Array.isArray((jwks as { keys?: unknown }).keys)) {
      throw new NimbusError(
        'InvalidConfigError',
        `gateway.authorizers.${name}.jwksFile: ${path} is not a JWKS (a JSON object with a \`keys\` list)`,
      );
    }
    const { jwksFile: _f, ...rest } = spec as AuthorizerSpec & { jwksFile?: string };
    out[name] = { ...rest, jwks: jwks as { keys: Record<string, unknown>[] } } as AuthorizerSpec;
  }
  return Object.freeze({ ...gateway, authorizers: Object.freeze(out) });
}
