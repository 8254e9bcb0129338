// The /v1 routes of topics (bearer tokens): see docs/resources.md and docs/api.md.

import type { RouteTable } from './route-context.js';

/** Register the /v1 topics routes. */
export function topicsRoutes(routes: RouteTable): void {
  void routes;
}
