// The /v1 routes of tables (bearer tokens): see docs/resources.md and docs/api.md.

import type { RouteTable } from './route-context.js';

/** Register the /v1 tables routes. */
export function tablesRoutes(routes: RouteTable): void {
  void routes;
}
