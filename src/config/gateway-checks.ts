// Hand-written checks of the app's HTTP routes: the `gateway:` block (base path, CORS) and
// routes declared twice inside the app; the per-event shapes are checked in app-config-checks.ts.

import {
  basePathProblem,
  conflictKey,
  normalizeBasePath,
  parseCors,
  parseRouteEvent,
} from '../gateway/route-spec.js';
import type { ConfigFlavour } from './app-config.js';
import type { CheckResult } from './app-config-checks.js';
import { checkAuthDeclarations, checkRouteAuth, type DeclaredAuth } from './gateway-auth-checks.js';
import { closestMatch } from './suggest-key.js';
import { describeValue, formatPath } from './yaml-locations.js';

/** True for a plain mapping (not null, not a list). */
function isMapping(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * The payload format of an `http`/`httpApi` event that does not say. Why: in a serverless.yml,
 * `http` is a REST API (v1) event whose handlers expect the 1.0 shape; everywhere else 2.0.
 */
export function routePayloadDefault(type: string, flavour: ConfigFlavour): '1.0' | '2.0' {
  return type === 'http' && flavour === 'serverless' ? '1.0' : '2.0';
}

const GATEWAY_KEYS = ['basePath', 'cors', 'authorizers', 'usagePlans'];

/** Checks the app-level `gateway:` block, and routes claimed twice inside the app. */
export function checkGateway(raw: Record<string, unknown>, flavour: ConfigFlavour, out: CheckResult): void {
  const gateway = raw.gateway;
  let basePath = '';
  const functionNames = isMapping(raw.functions) ? Object.keys(raw.functions) : [];
  let declared: DeclaredAuth = { authorizers: {}, planCount: 0 };
  if (gateway !== undefined && gateway !== null) {
    if (!isMapping(gateway)) {
      out.errors.push({
        path: ['gateway'],
        message: `gateway must be a mapping with \`basePath:\` and/or \`cors:\`; got ${describeValue(gateway)}`,
      });
    } else {
      for (const key of Object.keys(gateway)) {
        if (!GATEWAY_KEYS.includes(key)) {
          const guess = closestMatch(key, GATEWAY_KEYS);
          out.errors.push({
            path: ['gateway', key],
            target: 'key',
            message: `unknown key \`${key}\` in gateway; ${guess ? `did you mean \`${guess}\`?` : `valid keys: ${GATEWAY_KEYS.join(', ')}`}`,
          });
        }
      }
      if (gateway.basePath !== undefined) {
        const problem =
          typeof gateway.basePath === 'string' ? basePathProblem(gateway.basePath) : 'must be a string';
        if (problem) {
          out.errors.push({
            path: ['gateway', 'basePath'],
            message: `gateway.basePath ${problem} (e.g. \`basePath: /api\`); got ${describeValue(gateway.basePath)}`,
          });
        } else basePath = normalizeBasePath(gateway.basePath as string);
      }
      if (gateway.cors !== undefined && gateway.cors !== false) {
        const cors = parseCors(gateway.cors);
        if ('problem' in cors) {
          out.errors.push({ path: ['gateway', 'cors'], message: `gateway.cors ${cors.problem}` });
        }
      }
      declared = checkAuthDeclarations(gateway, functionNames, out);
    }
  }
  if (!isMapping(raw.functions)) return;
  const seen = new Map<string, string>();
  for (const [name, fn] of Object.entries(raw.functions)) {
    if (!isMapping(fn) || !Array.isArray(fn.events)) continue;
    fn.events.forEach((event: unknown, i) => {
      if (!isMapping(event)) return;
      for (const type of ['http', 'httpApi']) {
        if (event[type] === undefined) continue;
        const r = parseRouteEvent(event[type], routePayloadDefault(type, flavour), flavour === 'serverless');
        if ('problem' in r) continue;
        const key = conflictKey(basePath, r.method, r.path);
        const at = ['functions', name, 'events', i, type];
        checkRouteAuth(r, at, declared, out);
        const first = seen.get(key);
        if (first !== undefined) {
          out.errors.push({
            path: at,
            message: `${formatPath(at)}: route \`${r.method === 'ANY' && r.path === '$default' ? '$default' : `${r.method} ${r.path}`}\` is already declared at ${first}; each route goes to one function`,
          });
        } else seen.set(key, formatPath(at));
      }
    });
  }
}
