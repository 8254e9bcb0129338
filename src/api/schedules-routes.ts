// The /v1 routes of schedules (bearer tokens): see docs/resources.md and docs/api.md.

import type { RouteTable } from './route-context.js';

/** Register the /v1 schedules routes. */
export function schedulesRoutes(routes: RouteTable): void {
  void routes;
}
