// Hand-written checks of gateway auth in nimbus.yml: `gateway.authorizers`, `gateway.usagePlans`
// and each route's `auth:` against them, each error positioned at its file:line.

import {
  parseAuthorizer,
  parseNamed,
  parseUsagePlan,
  type AuthorizerSpec,
} from '../gateway/auth/auth-spec.js';
import type { ParsedRoute } from '../gateway/route-spec.js';
import type { CheckResult } from './app-config-checks.js';
import { formatPath } from './yaml-locations.js';

/** What the route checks need to know about the app's auth declarations. */
export interface DeclaredAuth {
  readonly authorizers: Readonly<Record<string, AuthorizerSpec>>;
  readonly planCount: number;
}

/** Check `gateway.authorizers` and `gateway.usagePlans`; returns what parsed, for the route checks. */
export function checkAuthDeclarations(
  gateway: Record<string, unknown>,
  functionNames: readonly string[],
  out: CheckResult,
): DeclaredAuth {
  const authorizers = parseNamed(gateway.authorizers, parseAuthorizer);
  let declared: Record<string, AuthorizerSpec> = {};
  if ('problem' in authorizers) {
    const path = ['gateway', 'authorizers', ...(authorizers.name ? [authorizers.name] : [])];
    out.errors.push({ path, message: `${formatPath(path)} ${authorizers.problem}` });
  } else {
    declared = authorizers.ok;
    for (const [name, a] of Object.entries(declared)) {
      if (a.type === 'function' && !functionNames.includes(a.function)) {
        const path = ['gateway', 'authorizers', name, 'function'];
        out.errors.push({
          path,
          message: `${formatPath(path)}: function \`${a.function}\` is not declared under functions; a custom authorizer is a function of the same app`,
        });
      }
    }
  }
  const plans = parseNamed(gateway.usagePlans, parseUsagePlan);
  if ('problem' in plans) {
    const path = ['gateway', 'usagePlans', ...(plans.name ? [plans.name] : [])];
    out.errors.push({ path, message: `${formatPath(path)} ${plans.problem}` });
  }
  return { authorizers: declared, planCount: 'ok' in plans ? Object.keys(plans.ok).length : 1 };
}

/** Check one route's `auth:` against the declarations. `at` is the event's path. */
export function checkRouteAuth(
  route: ParsedRoute,
  at: readonly (string | number)[],
  declared: DeclaredAuth,
  out: CheckResult,
): void {
  const auth = route.auth;
  if (!auth) return;
  const path = [...at, 'auth'];
  if (auth.authorizer !== undefined) {
    const a = declared.authorizers[auth.authorizer];
    if (!a) {
      const names = Object.keys(declared.authorizers);
      out.errors.push({
        path,
        message: `${formatPath(path)}: authorizer \`${auth.authorizer}\` is not declared; ${names.length > 0 ? `declared: ${names.join(', ')}` : 'declare it under gateway.authorizers'}`,
      });
    } else if (auth.scopes && a.type !== 'jwt') {
      out.errors.push({
        path,
        message: `${formatPath(path)}: \`scopes\` need a JWT authorizer; \`${auth.authorizer}\` is a function authorizer`,
      });
    }
  }
  if (auth.apiKey && declared.planCount === 0) {
    out.errors.push({
      path,
      message: `${formatPath(path)}: the route requires an API key, but no usage plan is declared; add one under gateway.usagePlans (keys are created for a plan with \`nimbus keys create <name> --plan <plan>\`)`,
    });
  }
}
