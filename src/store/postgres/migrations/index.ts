// The ordered list of PostgreSQL migrations; names sort in the order they must run.

import type { Migration } from 'kysely';
import { migration001Initial } from './001-initial.js';
import { migration002Routes } from './002-routes.js';
import { migration003GatewayAuth } from './003-gateway-auth.js';

/** Every PostgreSQL migration by name. Add new ones as `NNN-what.ts`; never edit a shipped one. */
export const POSTGRES_MIGRATIONS: Readonly<Record<string, Migration>> = Object.freeze({
  '001-initial': migration001Initial,
  '002-routes': migration002Routes,
  '003-gateway-auth': migration003GatewayAuth,
});
