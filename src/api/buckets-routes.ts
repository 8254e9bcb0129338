// The /v1 routes of buckets (bearer tokens): see docs/resources.md and docs/api.md.

import type { RouteTable } from './route-context.js';

/** Register the /v1 buckets routes. */
export function bucketsRoutes(routes: RouteTable): void {
  void routes;
}
