// Scope checks for bearer tokens: `*` may do anything; a function's SDK token carries
// `app:<name>` and may use only what that app owns or declares.

import { NimbusError } from '../errors.js';

/**
 * Kinds of things a /v1 route acts on. `network` is not a resource but the right to make the
 * server send requests out (webhook subscriptions); its name is the target host.
 */
export type ResourceKind =
  'function' | 'queue' | 'topic' | 'bucket' | 'table' | 'schedule' | 'workflow' | 'network';

/** What a route is about to act on; `name: '*'` for listings and creation of new names. */
export interface ResourceRef {
  readonly kind: ResourceKind;
  readonly name: string;
}

/**
 * Decides whether an app may use a resource (the app's own functions, the resources it declares
 * or its triggers name). Installed by the server; undefined means scoped tokens are refused.
 */
export type AppResourcePolicy = (app: string, resource: ResourceRef) => Promise<boolean>;

/**
 * Throws `AccessDeniedException` unless `scopes` allow `resource`: `*` allows everything,
 * `<kind>:<name>` and `<kind>:*` allow that resource, `app:<name>` asks `policy`.
 */
export async function checkScopes(
  scopes: readonly string[],
  resource: ResourceRef,
  policy: AppResourcePolicy | undefined,
): Promise<void> {
  if (scopes.includes('*')) return;
  if (scopes.includes(`${resource.kind}:${resource.name}`) || scopes.includes(`${resource.kind}:*`)) return;
  for (const scope of scopes) {
    if (scope.startsWith('app:') && policy !== undefined && (await policy(scope.slice(4), resource))) return;
  }
  const what = resource.name === '*' ? `${resource.kind}s` : `${resource.kind} '${resource.name}'`;
  throw new NimbusError(
    'AccessDeniedException',
    `This token (scopes: ${scopes.join(', ') || 'none'}) may not use ${what}; declare it in the app's nimbus.yml or use a token with a wider scope.`,
  );
}
