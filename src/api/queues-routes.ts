// The /v1 routes of queues (bearer tokens): see docs/resources.md and docs/api.md.

import type { RouteTable } from './route-context.js';

/** Register the /v1 queues routes. */
export function queuesRoutes(routes: RouteTable): void {
  void routes;
}
