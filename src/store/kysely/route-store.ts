// Routes over Kysely: the write step run inside FunctionStore.deployApp's transaction, and the
// RouteStore read side the gateway builds its in-memory table from.

import type { Kysely, Transaction } from 'kysely';
import { NimbusError } from '../../errors.js';
import { lambdaName } from '../../functions/function-model.js';
import {
  conflictKey,
  DEFAULT_ROUTE,
  type AppGatewaySpec,
  type CorsConfig,
  type PayloadVersion,
  type RouteMethod,
  type RouteSpec,
} from '../../gateway/route-spec.js';
import type { RouteAuth } from '../../gateway/auth/auth-spec.js';
import type { RouteStore, StoredAppGateway } from '../store.js';
import type { Database } from './database.js';

/**
 * Replace `app`'s routes and settings. Each insert claims its key with ON CONFLICT DO NOTHING
 * (never a failed statement, which would abort a PostgreSQL transaction); an empty RETURNING
 * means another app holds the route, and throwing rolls the whole deploy back.
 */
export async function replaceAppRoutes(
  trx: Transaction<Database>,
  app: string,
  gateway: AppGatewaySpec,
  now: string,
): Promise<void> {
  await trx.deleteFrom('routes').where('app', '=', app).execute();
  await trx.deleteFrom('app_gateways').where('app', '=', app).execute();
  await trx
    .insertInto('app_gateways')
    .values({
      app,
      base_path: gateway.basePath,
      cors: gateway.cors ? JSON.stringify(gateway.cors) : null,
      updated_at: now,
      auth:
        gateway.authorizers || gateway.usagePlans
          ? JSON.stringify({ authorizers: gateway.authorizers, usagePlans: gateway.usagePlans })
          : null,
    })
    .execute();
  for (const [position, route] of gateway.routes.entries()) {
    const key = conflictKey(gateway.basePath, route.method, route.path);
    const claimed = await trx
      .insertInto('routes')
      .values({
        route_key: key,
        app,
        function_name: lambdaName(app, route.function),
        method: route.method,
        path: route.path,
        payload: route.payload,
        position,
        auth: route.auth ? JSON.stringify(route.auth) : null,
      })
      .onConflict((oc) => oc.column('route_key').doNothing())
      .returning('route_key')
      .executeTakeFirst();
    if (claimed !== undefined) continue;
    const owner = await trx
      .selectFrom('routes')
      .select(['app', 'function_name'])
      .where('route_key', '=', key)
      .executeTakeFirst();
    const shown = route.path === DEFAULT_ROUTE ? key : `${route.method} ${gateway.basePath}${route.path}`;
    if (owner?.app === app) {
      throw new NimbusError(
        'InvalidParameterValueException',
        `Route '${shown}' is declared twice in app '${app}'; each route goes to one function.`,
      );
    }
    throw new NimbusError(
      'ResourceConflictException',
      `Route '${shown}' of app '${app}' (function '${route.function}') is already served by app ` +
        `'${owner?.app ?? '?'}' (function '${owner?.function_name ?? '?'}'); change the path, give ` +
        `app '${app}' a gateway.basePath, or remove the route from app '${owner?.app ?? '?'}'.`,
    );
  }
}

/** Delete the settings of an app left without functions (its routes went with them). */
export async function dropEmptyAppGateway(trx: Transaction<Database>, app: string): Promise<void> {
  const left = await trx
    .selectFrom('functions')
    .select('full_name')
    .where('app', '=', app)
    .executeTakeFirst();
  if (left === undefined) await trx.deleteFrom('app_gateways').where('app', '=', app).execute();
}

/** {@link RouteStore} over Kysely. */
export class KyselyRouteStore implements RouteStore {
  readonly #db: Kysely<Database>;

  constructor(db: Kysely<Database>) {
    this.#db = db;
  }

  async listApps(): Promise<StoredAppGateway[]> {
    const [apps, routes] = await Promise.all([
      this.#db.selectFrom('app_gateways').selectAll().orderBy('app').execute(),
      this.#db.selectFrom('routes').selectAll().orderBy('app').orderBy('position').execute(),
    ]);
    const byApp = new Map<string, RouteSpec[]>();
    for (const r of routes) {
      let list = byApp.get(r.app);
      if (!list) byApp.set(r.app, (list = []));
      list.push({
        // function_name is `<app>-<name>`; the spec names the function inside the app.
        function: r.function_name.slice(r.app.length + 1),
        method: r.method as RouteMethod,
        path: r.path,
        payload: r.payload as PayloadVersion,
        ...(r.auth === null ? {} : { auth: JSON.parse(r.auth) as RouteAuth }),
      });
    }
    return apps
      .filter((a) => byApp.has(a.app))
      .map((a) => {
        const auth = a.auth === null ? {} : (JSON.parse(a.auth) as Partial<AppGatewaySpec>);
        return {
          app: a.app,
          basePath: a.base_path,
          ...(a.cors === null ? {} : { cors: JSON.parse(a.cors) as CorsConfig }),
          routes: byApp.get(a.app) ?? [],
          ...(auth.authorizers ? { authorizers: auth.authorizers } : {}),
          ...(auth.usagePlans ? { usagePlans: auth.usagePlans } : {}),
        };
      });
  }
}
