// Compiles an app's `http`/`httpApi` events and its `gateway:` block into the AppGatewaySpec the
// deploy carries. Runs only on a document the checks passed, so parse failures cannot happen here.

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
        routes.push(Object.freeze({ function: fn.name, method: r.method, path: r.path, payload: r.payload }));
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
  return Object.freeze({
    basePath: normalizeBasePath(typeof g.basePath === 'string' ? g.basePath : undefined),
    ...(cors ? { cors } : {}),
    routes: Object.freeze(routes),
  });
}
